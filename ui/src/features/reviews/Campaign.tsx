// One campaign: progress per reviewer and department, overdue reviewers, and closing with
// a preview of the exact remediation.
import { useState } from "react";
import type { CloseResponse } from "../../bindings/CloseResponse";
import type { IpcError } from "../../bindings/IpcError";
import type { Progress } from "../../bindings/Progress";
import type { Navigate } from "../../lib/route";
import { call } from "../../lib/rpc";
import { ErrorPanel, Loading } from "../../lib/states";
import { useCall } from "../../lib/useCall";

function Bars({ title, rows, testid }: { title: string; rows: Progress[]; testid: string }) {
  return (
    <div className="bars" data-testid={testid}>
      <h2 className="section-title">{title}</h2>
      <ul>
        {rows.map((p) => (
          <li key={p.name}>
            <span className="bar-name mono">{p.name}</span>
            <progress max={p.items} value={p.decided} aria-label={`${p.name}: ${p.decided} of ${p.items}`} />
            <span className="num">{p.decided}/{p.items}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Campaign({ id, navigate, officer }: { id: number; navigate: Navigate; officer: boolean }) {
  const [loaded, reload] = useCall("review_show", { id }, `campaign-${id}`);
  const [preview, setPreview] = useState<CloseResponse | null>(null);
  const [closed, setClosed] = useState<CloseResponse | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const [busy, setBusy] = useState(false);
  const close = (dry: boolean) => {
    setBusy(true);
    setError(null);
    // The close applies exactly what the preview showed: it carries the preview's digest.
    call("review_close", { id, dry, digest: dry ? null : (preview?.digest ?? null) }).then(
      (r) => { setBusy(false); if (dry) setPreview(r); else { setClosed(r); setPreview(null); reload(); } },
      (e: IpcError) => { setBusy(false); setError(e); },
    );
  };
  return (
    <section className="page">
      <header className="page-head">
        <button className="back" onClick={() => navigate({ page: "reviews" })} aria-label="Back to reviews">←</button>
        <h1>{loaded.state === "ready" ? loaded.data.campaign.name : `Campaign ${id}`}</h1>
        {loaded.state === "ready" && <span className="badge" data-testid="campaign-status">{loaded.data.campaign.status}</span>}
        <button onClick={() => navigate({ page: "inbox", id })} data-testid="open-inbox">My items</button>
      </header>
      {loaded.state === "loading" && <Loading rows={4} />}
      {loaded.state === "error" && <ErrorPanel error={loaded.error} onRetry={reload} />}
      {loaded.state === "ready" && (
        <>
          <p data-testid="campaign-summary">
            {loaded.data.campaign.decided} of {loaded.data.campaign.items} decided · due {loaded.data.campaign.due} · undecided items become “{loaded.data.campaign.undecided}” · policy v{loaded.data.campaign.policy_version}
          </p>
          {loaded.data.overdue_reviewers.length > 0 && (
            <p className="problem warning" data-testid="overdue">Overdue: {loaded.data.overdue_reviewers.join(", ")}</p>
          )}
          <div className="bars-layout">
            <Bars title="By reviewer" rows={loaded.data.by_reviewer} testid="by-reviewer" />
            <Bars title="By department" rows={loaded.data.by_department} testid="by-department" />
          </div>
          {officer && loaded.data.campaign.status === "open" && (
            <div className="actions">
              <button onClick={() => close(true)} disabled={busy} data-testid="close-preview">Preview close</button>
            </div>
          )}
          {error && <ErrorPanel error={error} />}
          {preview && (
            <div className="preview" data-testid="close-preview-result">
              <p>
                Closing gives {preview.defaulted} undecided items “{preview.default}” and revokes {preview.revocations.length} grants, one transaction per person:
              </p>
              <pre className="code sql">{preview.sql.join("\n")}</pre>
              <button className="primary" onClick={() => close(false)} disabled={busy} data-testid="close-confirm">
                Close and remediate
              </button>
            </div>
          )}
          {closed && (
            <p role="status" data-testid="close-result">
              Closed: {closed.revocations.length} grants revoked for {closed.remediated_users} people.
            </p>
          )}
        </>
      )}
    </section>
  );
}
