import { useState, type FormEvent } from "react";
import type { ConnectionInfo } from "../../bindings/ConnectionInfo";
import type { IpcError } from "../../bindings/IpcError";
import { call } from "../../lib/rpc";
import { ErrorPanel } from "../../lib/states";

export function Connection({ info, onConnected }: { info: ConnectionInfo; onConnected: (c: ConnectionInfo) => void }) {
  const [error, setError] = useState<IpcError | null>(info.error);
  const [busy, setBusy] = useState(false);
  const [form, setForm] = useState({ name: "", host: "", port: "3306", user: "", database: "", tls: "verify-identity", mapping: "reference", password: "" });
  // The CA file's text, read here from the file the person chose: the app gets its
  // content, never a path.
  const [ca, setCa] = useState<{ name: string; pem: string } | null>(null);
  const chooseCa = (file: File | undefined) => {
    if (!file) {
      setCa(null);
      return;
    }
    file.text().then((pem) => setCa({ name: file.name, pem }));
  };

  const run = (p: Promise<ConnectionInfo>) => {
    setBusy(true);
    setError(null);
    p.then(
      (c) => {
        setBusy(false);
        if (c.connected) onConnected(c);
        else setError(c.error);
      },
      (e: IpcError) => {
        setBusy(false);
        setError(e);
      },
    );
  };

  const [chosen, setChosen] = useState({ password: "", again: "" });
  const [mismatch, setMismatch] = useState(false);
  const expired = error?.code === "password_expired";
  const choose = (e: FormEvent) => {
    e.preventDefault();
    if (chosen.password !== chosen.again) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    run(call("change_password", { new: chosen.password }));
    setChosen({ password: "", again: "" });
  };

  const add = (e: FormEvent) => {
    e.preventDefault();
    run(
      call("add_profile", {
        req: { ...form, port: Number(form.port) || 3306, ca_pem: ca?.pem ?? null },
      }),
    );
    setForm((f) => ({ ...f, password: "" }));
  };

  return (
    <section className="page connection">
      <header className="page-head">
        <h1>Connection</h1>
      </header>
      {info.connected && (
        <p data-testid="connected-to">
          Connected to <span className="mono">{info.target}</span> as {info.actor} ({info.role}).
        </p>
      )}
      {error && !expired && (
        <ErrorPanel
          error={error}
          onRetry={info.connected ? undefined : () => run(call("connection", { retry: true }))}
        />
      )}
      {expired && (
        <form className="form" onSubmit={choose} data-testid="new-password-form">
          <h2 className="section-title">Choose your password</h2>
          <p>
            This account's password has expired — an initial password always has. Choose your own: it is set on the
            database server and kept in the OS keyring.
          </p>
          <label>
            <span>new password</span>
            <input
              type="password"
              required
              autoComplete="new-password"
              value={chosen.password}
              onChange={(e) => setChosen({ ...chosen, password: e.target.value })}
              data-testid="new-password"
            />
          </label>
          <label>
            <span>the same again</span>
            <input
              type="password"
              required
              autoComplete="new-password"
              value={chosen.again}
              onChange={(e) => setChosen({ ...chosen, again: e.target.value })}
              data-testid="new-password-again"
            />
          </label>
          {mismatch && (
            <p role="alert" data-testid="new-password-mismatch">
              The two passwords differ.
            </p>
          )}
          <button className="primary" type="submit" disabled={busy} data-testid="new-password-save">
            Set password and connect
          </button>
        </form>
      )}
      <h2 className="section-title">Profiles</h2>
      {info.profiles.length === 0 ? (
        <p className="muted">No profiles yet: add one below. Its password is stored in the OS keyring, never in a file.</p>
      ) : (
        <ul className="profiles">
          {info.profiles.map((p) => (
            <li key={p.name}>
              <button disabled={busy} onClick={() => run(call("connect", { profile: p.name }))}>
                <span className="mono">{p.name}</span> — {p.user}@{p.hosts.join(",")}/{p.database} ({p.mapping})
              </button>
            </li>
          ))}
        </ul>
      )}
      <h2 className="section-title">Add a profile</h2>
      <form className="form" onSubmit={add}>
        {(["name", "host", "port", "user", "database"] as const).map((k) => (
          <label key={k}>
            <span>{k}</span>
            <input
              required
              value={form[k]}
              onChange={(e) => setForm({ ...form, [k]: e.target.value })}
              data-testid={`profile-${k}`}
            />
          </label>
        ))}
        <label>
          <span>TLS</span>
          <select value={form.tls} onChange={(e) => setForm({ ...form, tls: e.target.value })} data-testid="profile-tls">
            {["verify-identity", "verify-ca", "required", "preferred", "disabled"].map((t) => (
              <option key={t} value={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          <span>CA certificate</span>
          <input
            type="file"
            accept=".pem,.crt,.cer"
            onChange={(e) => chooseCa(e.target.files?.[0])}
            data-testid="profile-ca"
          />
        </label>
        {ca && (
          <p className="muted" data-testid="profile-ca-chosen">
            The server's certificate must come from the CA in <span className="mono">{ca.name}</span>.
          </p>
        )}
        <label>
          <span>mapping</span>
          <input value={form.mapping} onChange={(e) => setForm({ ...form, mapping: e.target.value })} />
        </label>
        <label>
          <span>password</span>
          <input
            type="password"
            autoComplete="off"
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
            data-testid="profile-password"
          />
        </label>
        <button className="primary" type="submit" disabled={busy} data-testid="profile-save">
          Save and connect
        </button>
      </form>
    </section>
  );
}
