// Policies: the version in force (highlighted), an editor that validates as you type and
// marks problems at their line, apply with a comment, simulate against the access log, and
// the history with rule-by-rule diffs.
import { useEffect, useMemo, useRef, useState } from "react";
import type { IpcError } from "../../bindings/IpcError";
import type { PolicyDiff } from "../../bindings/PolicyDiff";
import type { PolicyLint } from "../../bindings/PolicyLint";
import type { PolicyWarningView } from "../../bindings/PolicyWarningView";
import type { SimulateResponse } from "../../bindings/SimulateResponse";
import type { Navigate } from "../../lib/route";
import { call } from "../../lib/rpc";
import { Empty, ErrorPanel, Loading } from "../../lib/states";
import { useCall } from "../../lib/useCall";
import { VirtualTable, type Column } from "../../lib/VirtualTable";
import type { WouldDeny } from "../../bindings/WouldDeny";
import { CodeView } from "./highlight";

type Tab = "current" | "edit" | "history";

export function Policies({ navigate }: { navigate: Navigate }) {
  const [tab, setTab] = useState<Tab>("current");
  const [current, reload] = useCall("policy_show", { version: null }, "policy-current");
  const none = current.state === "error" && current.error.code === "not_found";
  const body = current.state === "ready" ? current.data.body : "";
  return (
    <section className="page">
      <header className="page-head">
        <h1>Policies</h1>
        {current.state === "ready" && (
          <span className="badge" data-testid="policy-version">
            v{current.data.version} · {current.data.author} · {current.data.applied_at.slice(0, 10)}
          </span>
        )}
      </header>
      <div className="tabs" role="tablist" aria-label="Policy views">
        {(["current", "edit", "history"] as Tab[]).map((t) => (
          <button key={t} role="tab" aria-selected={tab === t} className={"tab" + (tab === t ? " current" : "")} onClick={() => setTab(t)} data-testid={`policy-tab-${t}`}>
            {t === "current" ? "In force" : t === "edit" ? "Edit & simulate" : "History"}
          </button>
        ))}
      </div>
      {tab === "current" && (
        <>
          {current.state === "loading" && <Loading rows={6} />}
          {none && (
            <Empty title="No policy has been applied yet">
              <p>Write one under “Edit & simulate”, or apply a file with <span className="mono">warden policy apply FILE</span>.</p>
            </Empty>
          )}
          {current.state === "error" && !none && <ErrorPanel error={current.error} onRetry={reload} />}
          {current.state === "ready" && (
            <>
              <p className="muted mono" title="SHA-256 of the document">sha256 {current.data.sha256}</p>
              {current.data.comment && <p>{current.data.comment}</p>}
              <CodeView text={body} label="The policy in force" />
            </>
          )}
        </>
      )}
      {tab === "edit" && (current.state === "ready" || none) && (
        <Editor initial={body} onApplied={() => { reload(); setTab("current"); }} navigate={navigate} />
      )}
      {tab === "history" && <History />}
    </section>
  );
}

function where(w: PolicyWarningView): string {
  return w.line !== null ? `line ${w.line}${w.column !== null ? `, column ${w.column}` : ""}: ` : "";
}

function Editor({ initial, onApplied, navigate }: { initial: string; onApplied: () => void; navigate: Navigate }) {
  const [text, setText] = useState(initial);
  const [lint, setLint] = useState<PolicyLint | null>(null);
  const [lintError, setLintError] = useState<IpcError | null>(null);
  const [comment, setComment] = useState("");
  const [applying, setApplying] = useState(false);
  const [applyError, setApplyError] = useState<IpcError | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);

  // Validate as you type, a moment after the last key.
  useEffect(() => {
    let live = true;
    const t = window.setTimeout(() => {
      call("policy_lint", { text }).then(
        (l) => { if (live) { setLint(l); setLintError(null); } },
        (e: IpcError) => { if (live) setLintError(e); },
      );
    }, 250);
    return () => { live = false; window.clearTimeout(t); };
  }, [text]);

  const lines = text.split("\n");
  const marks = useMemo(() => {
    const m = new Map<number, "error" | "warning">();
    for (const w of lint?.warnings ?? []) if (w.line !== null) m.set(w.line, "warning");
    for (const e of lint?.errors ?? []) if (e.line !== null) m.set(e.line, "error");
    return m;
  }, [lint]);

  const goTo = (line: number | null) => {
    if (line === null || !area.current) return;
    const offset = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    area.current.focus();
    area.current.setSelectionRange(offset, offset);
  };

  const apply = () => {
    setApplying(true);
    setApplyError(null);
    call("policy_apply", { text, comment }).then(
      () => { setApplying(false); onApplied(); },
      (e: IpcError) => { setApplying(false); setApplyError(e); },
    );
  };

  const errors = lint?.errors ?? [];
  const warnings = lint?.warnings ?? [];
  return (
    <div className="editor-layout">
      <div className="editor" data-testid="policy-editor">
        <div className="editor-gutter" ref={gutter} aria-hidden="true">
          {lines.map((_, i) => (
            <div key={i} className={"gutter-line" + (marks.has(i + 1) ? ` mark-${marks.get(i + 1)}` : "")} data-testid={marks.has(i + 1) ? `gutter-${marks.get(i + 1)}-${i + 1}` : undefined}>
              {i + 1}
            </div>
          ))}
        </div>
        <textarea
          ref={area}
          className="editor-text mono"
          spellCheck={false}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onScroll={(e) => { if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop; }}
          aria-label="Policy document (TOML)"
          aria-invalid={errors.length > 0}
          data-testid="policy-text"
        />
      </div>
      <aside className="editor-side">
        <div className="problems" aria-live="polite" data-testid="policy-problems">
          {lintError && <p className="problem error">{lintError.message}</p>}
          {lint && errors.length === 0 && warnings.length === 0 && (
            <p className="problem ok" data-testid="policy-valid">Valid: {lint.job_functions.length} job functions.</p>
          )}
          {errors.map((e, i) => (
            <button key={`e${i}`} className="problem error" onClick={() => goTo(e.line)} data-testid="policy-error">
              {where(e)}{e.message}
            </button>
          ))}
          {warnings.map((w, i) => (
            <button key={`w${i}`} className="problem warning" onClick={() => goTo(w.line)} data-testid="policy-warning">
              {where(w)}{w.message}
            </button>
          ))}
        </div>
        <div className="apply-box">
          <label>
            Comment for the audit trail
            <input value={comment} onChange={(e) => setComment(e.target.value)} maxLength={2000} data-testid="policy-comment" placeholder="Why this change" />
          </label>
          <button className="primary" disabled={applying || errors.length > 0 || text.trim() === ""} onClick={apply} data-testid="policy-apply">
            {applying ? "Applying…" : "Apply as new version"}
          </button>
          {applyError && <ErrorPanel error={applyError} />}
        </div>
        <Simulate text={text} disabled={errors.length > 0} navigate={navigate} />
      </aside>
    </div>
  );
}

const DENY_COLUMNS: Column<WouldDeny>[] = [
  { key: "login", title: "Login", width: 160, value: (d) => d.login, mono: true },
  { key: "permission", title: "Permission", width: 180, value: (d) => d.permission, mono: true },
  { key: "count", title: "Accesses", width: 80, value: (d) => d.count, numeric: true },
  { key: "last_seen", title: "Last seen (UTC)", width: 150, value: (d) => d.last_seen.replace("T", " ").replace("Z", ""), numeric: true },
  { key: "reason", title: "Why", width: 180, value: (d) => (d.job_function ? `not allowed for ${d.job_function}` : "no job function") },
];

function Simulate({ text, disabled, navigate }: { text: string; disabled: boolean; navigate: Navigate }) {
  const [days, setDays] = useState(30);
  const [result, setResult] = useState<SimulateResponse | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const [running, setRunning] = useState(false);
  const run = () => {
    setRunning(true);
    setError(null);
    call("policy_simulate", { text, days }).then(
      (r) => { setRunning(false); setResult(r); },
      (e: IpcError) => { setRunning(false); setError(e); },
    );
  };
  return (
    <div className="simulate">
      <h2 className="section-title">What if: replay the access log</h2>
      <div className="chips">
        <label className="inline-label">
          Last{" "}
          <input type="number" min={1} max={3660} value={days} onChange={(e) => setDays(Number(e.target.value))} aria-label="Days of access log" data-testid="simulate-days" style={{ width: 80 }} />{" "}
          days
        </label>
        <button className="primary" onClick={run} disabled={disabled || running} data-testid="simulate-run">
          {running ? "Replaying…" : "Simulate this draft"}
        </button>
      </div>
      {error && <ErrorPanel error={error} />}
      {result && (
        <>
          <p data-testid="simulate-summary">
            Of {result.replayed.toLocaleString("en-US")} allowed accesses in {result.days} days, this draft would have denied{" "}
            <strong>{result.would_deny.reduce((n, d) => n + d.count, 0).toLocaleString("en-US")}</strong> ({result.would_deny.length} person–permission pairs).
          </p>
          {result.would_deny.length > 0 && (
            <VirtualTable columns={DENY_COLUMNS} rows={result.would_deny} rowKey={(d) => `${d.login}|${d.permission}`} label="would-deny" onOpen={(d) => navigate({ page: "person", login: d.login })} />
          )}
        </>
      )}
    </div>
  );
}

function History() {
  const [loaded, reload] = useCall("policy_history", {}, "policy-history");
  const [diff, setDiff] = useState<PolicyDiff | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const show = (from: number, to: number) => {
    setError(null);
    call("policy_diff", { from, to }).then(setDiff, setError);
  };
  if (loaded.state === "loading") return <Loading rows={4} />;
  if (loaded.state === "error") return <ErrorPanel error={loaded.error} onRetry={reload} />;
  const versions = loaded.data.versions;
  if (versions.length === 0) return <Empty title="No versions yet" />;
  return (
    <div className="history-layout">
      <ol className="versions" data-testid="policy-history">
        {versions.map((v) => (
          <li key={v.version} className="version">
            <div>
              <strong>v{v.version}</strong> <span className="muted">{v.applied_at.slice(0, 19).replace("T", " ")} UTC · {v.author}</span>
            </div>
            <div className="muted">{v.comment || "(no comment)"}</div>
            {v.version > 1 && (
              <button className="link" onClick={() => show(v.version - 1, v.version)} data-testid={`diff-${v.version}`}>
                What changed from v{v.version - 1}
              </button>
            )}
          </li>
        ))}
      </ol>
      <div className="diff" data-testid="policy-diff">
        {error && <ErrorPanel error={error} />}
        {diff && (
          <>
            <h2 className="section-title">v{diff.from} → v{diff.to}</h2>
            {diff.changes.length === 0 && <p className="muted">No rule changed (only formatting or comments).</p>}
            <ul className="changes">
              {diff.changes.map((c, i) => (
                <li key={i} className={`change ${c.change}`}>
                  <span className="change-kind">{c.change}</span> <strong>{c.rule}</strong>
                  <ul>
                    {c.details.map((d, j) => (
                      <li key={j} className="mono">
                        {d}
                      </li>
                    ))}
                  </ul>
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
    </div>
  );
}
