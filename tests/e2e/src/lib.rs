//! Driving the real desktop app: Xvfb for a display, a private D-Bus session, tauri-driver in
//! front of WebKitWebDriver, and the built `warden-desktop` binary in its real webview.
//! Used by the end-to-end tests and the desktop benchmark.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use warden_sandbox::process::{Group, free_port, wait_for_port};

/// Where screenshots of every screen go (`./dev test` prints it).
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("WARDEN_TEST_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts/e2e")
        });
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn find_program(name: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let home_cargo = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin"));
    std::env::split_paths(&path)
        .chain(home_cargo)
        .chain(["/usr/bin", "/usr/local/bin", "/root/.cargo/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .with_context(|| format!("{name} not found: run ./dev setup (it installs xvfb, webkit2gtk-driver, dbus and tauri-driver)"))
}

/// The built desktop app next to the running test or benchmark binary.
pub fn app_path() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("exe folder")?;
    [dir.join("warden-desktop"), dir.join("../warden-desktop")]
        .into_iter()
        .find(|p| p.is_file())
        .with_context(|| {
            format!(
                "warden-desktop is not built next to {}: build it first (./dev test does: the UI, then `cargo build -p warden-desktop`)",
                dir.display()
            )
        })
}

/// A running desktop app under Xvfb, driven through WebDriver.
pub struct Desktop {
    pub client: Client,
    display: String,
    /// The FIFO the notification daemon writes each notification it shows to.
    notified: PathBuf,
    import: PathBuf,
    driver: Group,
    _xvfb: Group,
    pub home: PathBuf,
    pub started: Instant,
}

impl Desktop {
    /// Starts a display, tauri-driver and the app connected to `database_url` with
    /// `password` (as `WARDEN_DATABASE_PASSWORD`): who acts is that URL's account.
    pub async fn launch(
        database_url: &str,
        password: Option<&str>,
        home: &Path,
    ) -> anyhow::Result<Self> {
        let app = app_path()?;
        let xvfb_bin = find_program("Xvfb")?;
        let driver_bin = find_program("tauri-driver")?;
        let native = find_program("WebKitWebDriver")?;
        let dbus = find_program("dbus-run-session")?;
        std::fs::create_dir_all(home)?;

        // Xvfb picks a free display and writes its number once it accepts clients.
        let mut cmd = Command::new(&xvfb_bin);
        cmd.args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        let mut xvfb = Group::spawn("Xvfb", cmd)?;
        let stdout = xvfb.child().stdout.take().context("Xvfb stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let display = format!(":{}", line.trim());
        if line.trim().is_empty() {
            bail!("Xvfb did not report a display");
        }

        let port = free_port()?;
        let native_port = free_port()?;
        // A private session bus with an unlocked Secret Service (gnome-keyring), so the app's
        // keyring and single-instance lock are real but touch nothing of the machine's; and
        // a real notification daemon (dunst) on it, which reports every notification it
        // shows through the FIFO `notified` (see `Desktop::notification`).
        let keyring = find_program("gnome-keyring-daemon")?;
        let dunst = find_program("dunst")?;
        let gdbus = find_program("gdbus")?;
        let notified = notification_fifo(home)?;
        let mut cmd = Command::new(dbus);
        cmd.args(["--", "sh", "-c"])
            .arg(
                "echo -n e2e-keyring | \"$0\" --unlock --components=secrets >/dev/null 2>&1; \
                 \"$5\" -config \"$6\" >/dev/null 2>&1 & \
                 \"$7\" wait --session --timeout 20 org.freedesktop.Notifications || exit 1; \
                 exec \"$1\" --port \"$2\" --native-port \"$3\" --native-driver \"$4\"",
            )
            .arg(&keyring)
            .arg(&driver_bin)
            .arg(port.to_string())
            .arg(native_port.to_string())
            .arg(&native)
            .arg(&dunst)
            .arg(&notified.config)
            .arg(&gdbus)
            .env("DISPLAY", &display)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("WARDEN_DATABASE_URL", database_url)
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env_remove("WARDEN_PROFILE")
            .env_remove("WARDEN_ACTOR")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        match password {
            Some(p) => cmd.env("WARDEN_DATABASE_PASSWORD", p),
            None => cmd.env_remove("WARDEN_DATABASE_PASSWORD"),
        };
        let mut driver = Group::spawn("tauri-driver", cmd)?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        wait_for_port(addr, Duration::from_secs(30), || driver.check_running())?;

        let started = Instant::now();
        let caps = json!({
            "browserName": "wry",
            "tauri:options": { "application": app },
        });
        let caps = match caps {
            Value::Object(map) => map,
            _ => bail!("capabilities"),
        };
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .context("a WebDriver session with the app")?;
        Ok(Self {
            client,
            display,
            notified: notified.fifo,
            import: find_program("import")?,
            driver,
            _xvfb: xvfb,
            home: home.to_path_buf(),
            started,
        })
    }

    /// Waits (in the page, frame by frame) until `css` matches an element whose text
    /// contains `text` (any text when None); returns that text.
    pub async fn wait_text(&self, css: &str, text: Option<&str>) -> anyhow::Result<String> {
        let script = r#"
            const [css, expected, done] = arguments;
            const t0 = performance.now();
            const check = () => {
                const el = document.querySelector(css);
                const got = el ? el.textContent : null;
                if (el && (expected === null || got.includes(expected))) return done({ ok: true, text: got });
                if (performance.now() - t0 > 20000) return done({ ok: false, text: got });
                requestAnimationFrame(check);
            };
            check();
        "#;
        let out = self
            .client
            .execute_async(script, vec![json!(css), json!(text)])
            .await
            .with_context(|| format!("waiting for {css}"))?;
        let got = out["text"].as_str().map(str::to_string);
        if out["ok"] != json!(true) {
            bail!("{css}: wanted text containing {text:?}, found {got:?}");
        }
        Ok(got.unwrap_or_default())
    }

    /// Waits (frame by frame, in the page) until the JavaScript expression `predicate` is
    /// truthy; it sees the script's `arguments` as `args`. Returns its last value.
    pub async fn wait_for(&self, predicate: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        let script = [
            "const args = [...arguments]; const done = args.pop(); const t0 = performance.now();",
            "const check = () => { let v = null; try { v = (",
            predicate,
            "); } catch (e) { v = null; }",
            "if (v) return done({ ok: true, value: v });",
            "if (performance.now() - t0 > 20000) return done({ ok: false, value: v });",
            "requestAnimationFrame(check); }; check();",
        ]
        .concat();
        let out = self.client.execute_async(&script, args).await?;
        if out["ok"] != json!(true) {
            bail!("still false after 20 s: {predicate}");
        }
        Ok(out["value"].clone())
    }

    /// Chooses `value` in the `<select>` matching `css`, as a person picking it would (React
    /// sees a change event).
    pub async fn select(&self, css: &str, value: &str) -> anyhow::Result<()> {
        self.wait_text(css, None).await?;
        self.js(
            "const s = document.querySelector(arguments[0]); \
             const set = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set; \
             set.call(s, arguments[1]); s.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![json!(css), json!(value)],
        )
        .await?;
        Ok(())
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.wait_text(css, None).await?;
        self.client
            .find(Locator::Css(css))
            .await
            .with_context(|| css.to_string())?
            .click()
            .await
            .with_context(|| format!("click {css}"))?;
        Ok(())
    }

    /// Answers the system's file dialog titled `title` with `path`, as a person would at
    /// the keyboard: waits until the dialog's window is shown, gives it the focus, types
    /// the path into its location field (a Save dialog's name field takes a whole path) and
    /// presses Enter. The dialog is GTK's own, shown by the app from Rust.
    pub async fn answer_file_dialog(&self, title: &str, path: &Path) -> anyhow::Result<()> {
        let xdotool = find_program("xdotool")?;
        let run = |args: Vec<String>| {
            let xdotool = xdotool.clone();
            let display = self.display.clone();
            async move {
                let out = tokio::time::timeout(
                    Duration::from_secs(20),
                    tokio::process::Command::new(&xdotool)
                        .args(&args)
                        .env("DISPLAY", &display)
                        .kill_on_drop(true)
                        .output(),
                )
                .await
                .with_context(|| format!("xdotool {args:?}: no answer within 20 s"))??;
                if !out.status.success() {
                    bail!("xdotool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
                }
                anyhow::Ok(String::from_utf8_lossy(&out.stdout).into_owned())
            }
        };
        let found = run(vec![
            "search".into(),
            "--sync".into(),
            "--onlyvisible".into(),
            "--name".into(),
            format!("^{title}$"),
        ])
        .await?;
        let window = found
            .lines()
            .next()
            .context("no dialog window")?
            .to_string();
        run(vec!["windowfocus".into(), "--sync".into(), window.clone()]).await?;
        // Open dialogs take a typed path in their location field (Ctrl+L); a Save dialog's
        // name field is focused and holds a suggested name (Ctrl+A replaces it).
        run(vec![
            "key".into(),
            "--clearmodifiers".into(),
            "ctrl+l".into(),
        ])
        .await?;
        run(vec![
            "key".into(),
            "--clearmodifiers".into(),
            "ctrl+a".into(),
        ])
        .await?;
        run(vec![
            "type".into(),
            "--delay".into(),
            "20".into(),
            path.display().to_string(),
        ])
        .await?;
        run(vec![
            "key".into(),
            "--clearmodifiers".into(),
            "Return".into(),
        ])
        .await?;
        Ok(())
    }

    /// Chooses `path` in the file input matching `css`, as WebDriver uploads a file: the
    /// page gets the file (its name and content), never the path.
    pub async fn choose_file(&self, css: &str, path: &std::path::Path) -> anyhow::Result<()> {
        self.wait_for("document.querySelector(args[0])", vec![json!(css)])
            .await?;
        self.client
            .find(Locator::Css(css))
            .await
            .with_context(|| css.to_string())?
            .send_keys(&path.display().to_string())
            .await
            .with_context(|| format!("choose {} in {css}", path.display()))?;
        Ok(())
    }

    /// Calls a command from the page, as its own code would: `{"ok": answer}` or
    /// `{"error": IpcError}`.
    pub async fn invoke(&self, command: &str, args: Value) -> anyhow::Result<Value> {
        let script = "const [command, args, done] = arguments; \
                      window.__TAURI_INTERNALS__.invoke(command, args) \
                      .then((ok) => done({ ok }), (error) => done({ error }));";
        Ok(self
            .client
            .execute_async(script, vec![json!(command), args])
            .await?)
    }

    /// Runs a script in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// Saves a screenshot of the window as `<artifacts>/<name>.png`, after the next paint.
    /// The next desktop notification the daemon shows, as (app name, summary, body); an
    /// error if none comes within 30 s.
    pub async fn notification(&self) -> anyhow::Result<(String, String, String)> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let fifo = self.notified.clone();
        // Opening a FIFO blocks until the daemon's script writes: a plain thread, so a test
        // that fails waiting does not keep the runtime from shutting down.
        std::thread::spawn(move || {
            let _ = tx.send(std::fs::read_to_string(&fifo));
        });
        let text = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .context("no desktop notification within 30 s")??
            .context("reading the notifications FIFO")?;
        let line = text
            .lines()
            .next()
            .context("an empty notification record")?;
        let mut fields = line.splitn(3, '\t').map(str::to_string);
        Ok((
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
        ))
    }

    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        // Two animation frames: the change has been painted, not just laid out.
        self.client
            .execute_async(
                "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await?;
        // The X server's own pixels (ImageMagick's `import`): exactly what a person sees, and
        // independent of WebKit's snapshot path, which stalls on canvas under Xvfb.
        let path = artifacts_dir().join(format!("{name}.png"));
        let out = Command::new(&self.import)
            .args(["-display", &self.display, "-window", "root"])
            .arg(&path)
            .output()
            .context("import (apt: imagemagick)")?;
        if !out.status.success() {
            bail!(
                "screenshot {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(path)
    }

    pub async fn close(self) -> anyhow::Result<()> {
        let Desktop { client, driver, .. } = self;
        let closed = client.close().await;
        drop(driver);
        closed?;
        Ok(())
    }
}

struct Notified {
    fifo: PathBuf,
    config: PathBuf,
}

/// A FIFO under `home` and a dunst configuration whose one rule runs a script writing each
/// shown notification to it as `app name <TAB> summary <TAB> body`.
fn notification_fifo(home: &Path) -> anyhow::Result<Notified> {
    use std::os::unix::fs::PermissionsExt;
    let fifo = home.join("notified");
    let _ = std::fs::remove_file(&fifo);
    let status = Command::new("mkfifo").arg(&fifo).status()?;
    anyhow::ensure!(status.success(), "mkfifo {}", fifo.display());
    let script = home.join("record-notification");
    std::fs::write(
        &script,
        "#!/bin/sh\n# dunst runs this for each notification: app name, summary, body, icon, urgency\n\
         printf '%s\\t%s\\t%s\\n' \"$1\" \"$2\" \"$3\" > \"$(dirname \"$0\")/notified\"\n",
    )?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
    let config = home.join("dunstrc");
    std::fs::write(
        &config,
        format!(
            "[record]\n    summary = \"*\"\n    script = \"{}\"\n",
            script.display()
        ),
    )?;
    Ok(Notified { fifo, config })
}
