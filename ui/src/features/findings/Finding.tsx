// One finding: what, who, the evidence, the fix, and its history; triage with a comment.
import { useState } from "react";
import type { FindingStatus } from "../../bindings/FindingStatus";
import type { IpcError } from "../../bindings/IpcError";
import type { Triage } from "../../bindings/Triage";
import type { Navigate } from "../../lib/route";
import { call } from "../../lib/rpc";
import { ErrorPanel, Loading } from "../../lib/states";
import { useCall } from "../../lib/useCall";

const ACTIONS: Record<FindingStatus, { action: Triage; label: string }[]> = {
  open: [{ action: "ack", label: "Acknowledge" }, { action: "resolve", label: "Resolve" }],
  acknowledged: [{ action: "resolve", label: "Resolve" }, { action: "reopen", label: "Reopen" }],
  resolved: [{ action: "reopen", label: "Reopen" }],
};

/** Evidence as nested text: keys and values, never markup. */
function Evidence({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="muted">none</span>;
  if (Array.isArray(value)) {
    return (
      <ul className="evidence-list">
        {value.map((v, i) => <li key={i}><Evidence value={v} /></li>)}
      </ul>
    );
  }
  if (typeof value === "object") {
    return (
      <dl className="facts evidence">
        {Object.entries(value as Record<string, unknown>).map(([k, v]) => (
          <div key={k} className="fact">
            <dt>{k.replace(/_/g, " ")}</dt>
            <dd><Evidence value={v} /></dd>
          </div>
        ))}
      </dl>
    );
  }
  return <span className="mono">{String(value)}</span>;
}

export function Finding({ id, navigate }: { id: number; navigate: Navigate }) {
  const [loaded, reload] = useCall("finding", { id }, `finding-${id}`);
  const [comment, setComment] = useState("");
  const [error, setError] = useState<IpcError | null>(null);
  const [busy, setBusy] = useState(false);

  const triage = (action: Triage) => {
    setBusy(true);
    setError(null);
    call("triage", { req: { id, action, comment } }).then(
      () => { setBusy(false); setComment(""); reload(); },
      (e: IpcError) => { setBusy(false); setError(e); },
    );
  };

  return (
    <section className="page">
      <header className="page-head">
        <button className="back" onClick={() => navigate({ page: "findings" })} aria-label="Back to findings">←</button>
        <h1>Finding {id}</h1>
        {loaded.state === "ready" && (
          <>
            <span className={`sev sev-${loaded.data.finding.severity}`} data-testid="finding-severity">{loaded.data.finding.severity}</span>
            <span className="badge" data-testid="finding-status">{loaded.data.finding.status}</span>
          </>
        )}
      </header>
      {loaded.state === "loading" && <Loading rows={5} />}
      {loaded.state === "error" && <ErrorPanel error={loaded.error} onRetry={reload} />}
      {loaded.state === "ready" && (() => {
        const f = loaded.data.finding;
        return (
          <>
            <dl className="facts" data-testid="finding-facts">
              <dt>Kind</dt><dd className="mono">{f.kind}</dd>
              <dt>Person</dt>
              <dd><button className="link mono" onClick={() => navigate({ page: "person", login: f.subject })}>{f.subject}</button>{f.department ? ` · ${f.department}` : ""}</dd>
              <dt>What</dt><dd data-testid="finding-detail">{f.detail}</dd>
              <dt>Fix</dt><dd data-testid="finding-fix">{f.fix}</dd>
              <dt>First seen</dt><dd>{f.first_seen?.replace("T", " ").replace("Z", "")} UTC</dd>
              <dt>Last seen</dt><dd>{f.last_seen?.replace("T", " ").replace("Z", "")} UTC</dd>
              <dt>Fingerprint</dt><dd className="mono">{f.fingerprint}</dd>
            </dl>
            <h2 className="section-title">Evidence</h2>
            {(() => {
              const ev = f.evidence as { rows?: unknown; first?: unknown; last?: unknown } | null;
              if (!ev || !Array.isArray(ev.rows) || typeof ev.first !== "string" || typeof ev.last !== "string") return null;
              // The rows are the person's, between the first and the last (inclusive).
              const until = new Date(Date.parse(`${ev.last}Z`) + 1000).toISOString().slice(0, 19);
              const outcome = f.kind === "denied_burst" ? "denied" : undefined;
              return (
                <button
                  className="link"
                  onClick={() => navigate({ page: "logs", user: f.subject, since: ev.first as string, until, outcome, source: "app" })}
                  data-testid="finding-rows"
                >
                  Open these {ev.rows.length.toLocaleString("en-US")} rows in the access log
                </button>
              );
            })()}
            <div className="evidence-box" data-testid="finding-evidence"><Evidence value={f.evidence} /></div>
            <h2 className="section-title">Triage</h2>
            <div className="triage">
              <label>
                Comment (required, kept in the audit trail)
                <textarea value={comment} onChange={(e) => setComment(e.target.value)} maxLength={2000} rows={2} data-testid="triage-comment" />
              </label>
              <div className="actions">
                {ACTIONS[f.status].map((a) => (
                  <button key={a.action} className="primary" disabled={busy || comment.trim() === ""} onClick={() => triage(a.action)} data-testid={`triage-${a.action}`}>
                    {a.label}
                  </button>
                ))}
              </div>
              {error && <ErrorPanel error={error} />}
            </div>
            <h2 className="section-title">History</h2>
            {loaded.data.history.length === 0 ? (
              <p className="muted">Found by the check of {f.first_seen?.slice(0, 10)}; nothing since.</p>
            ) : (
              <ol className="history" data-testid="finding-history">
                {loaded.data.history.map((h, i) => (
                  <li key={i}>
                    <span className="mono">{h.at.replace("T", " ").replace("Z", "")}</span> <strong>{h.action}</strong> by {h.actor}
                    {h.comment && <>: <q>{h.comment}</q></>}
                  </li>
                ))}
              </ol>
            )}
          </>
        );
      })()}
    </section>
  );
}
