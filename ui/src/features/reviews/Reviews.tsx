// Reviews: every campaign with its progress, and the wizard that launches one.
import { useState } from "react";
import type { IpcError } from "../../bindings/IpcError";
import type { ReviewerRule } from "../../bindings/ReviewerRule";
import type { Verdict } from "../../bindings/Verdict";
import type { Navigate } from "../../lib/route";
import { member } from "../../lib/member";
import { call } from "../../lib/rpc";
import { Empty, ErrorPanel, Loading } from "../../lib/states";
import { useCall } from "../../lib/useCall";

export function Reviews({ navigate, officer, actor }: { navigate: Navigate; officer: boolean; actor: string }) {
  const [loaded, reload] = useCall("review_list", {}, "reviews");
  const [wizard, setWizard] = useState(false);
  return (
    <section className="page">
      <header className="page-head">
        <h1>Access reviews</h1>
        {officer && (
          <button className="primary" onClick={() => setWizard((w) => !w)} data-testid="review-new">
            {wizard ? "Cancel" : "New campaign"}
          </button>
        )}
      </header>
      {wizard && <Wizard actor={actor} onStarted={(id) => { setWizard(false); reload(); navigate({ page: "campaign", id }); }} />}
      {loaded.state === "loading" && <Loading rows={4} />}
      {loaded.state === "error" && <ErrorPanel error={loaded.error} onRetry={reload} />}
      {loaded.state === "ready" &&
        loaded.data.campaigns
          .filter((c) => c.remind.includes(actor))
          .map((c) => (
            <button key={`remind-${c.id}`} className="problem warning" onClick={() => navigate({ page: "inbox", id: c.id })} data-testid="reminder">
              {c.overdue ? "Overdue" : "Due soon"}: you have items to review in “{c.name}” (due {c.due}).
            </button>
          ))}
      {loaded.state === "ready" && loaded.data.campaigns.length === 0 && (
        <Empty title="No campaign yet">{officer && <p>Launch the quarter's review with “New campaign”.</p>}</Empty>
      )}
      {loaded.state === "ready" && loaded.data.campaigns.length > 0 && (
        <ul className="campaigns" data-testid="campaigns">
          {loaded.data.campaigns.map((c) => (
            <li key={c.id} className="campaign">
              <button className="link" onClick={() => navigate({ page: "campaign", id: c.id })} data-testid={`campaign-${c.id}`}>
                {c.name}
              </button>
              <span className="muted">
                due {c.due} · {c.status}
                {c.overdue && <span className="badge warn">overdue</span>}
              </span>
              <progress max={c.items} value={c.decided} aria-label={`${c.decided} of ${c.items} decided`} />
              <span className="num" data-testid={`campaign-progress-${c.id}`}>{c.decided} of {c.items} decided</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

const RULES: ReviewerRule[] = ["manager", "owner"];
const VERDICTS: Verdict[] = ["keep", "revoke"];

function Wizard({ actor, onStarted }: { actor: string; onStarted: (id: number) => void }) {
  const inMonth = new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10);
  const [name, setName] = useState("");
  const [due, setDue] = useState(inMonth);
  const [departments, setDepartments] = useState("");
  const [roles, setRoles] = useState("");
  const [reviewer, setReviewer] = useState<ReviewerRule>("manager");
  const [fallback, setFallback] = useState(actor);
  const [undecided, setUndecided] = useState<Verdict>("keep");
  const [error, setError] = useState<IpcError | null>(null);
  const [busy, setBusy] = useState(false);
  const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);
  const launch = () => {
    setBusy(true);
    setError(null);
    call("review_start", {
      req: { name, due, scope: { departments: list(departments), roles: list(roles), job_functions: [] }, reviewer, fallback, undecided },
    }).then(
      (s) => { setBusy(false); onStarted(s.campaign); },
      (e: IpcError) => { setBusy(false); setError(e); },
    );
  };
  return (
    <div className="form wizard" data-testid="review-wizard">
      <label>Name<input value={name} onChange={(e) => setName(e.target.value)} data-testid="wizard-name" /></label>
      <label>Due<input type="date" value={due} onChange={(e) => setDue(e.target.value)} data-testid="wizard-due" /></label>
      <label>Departments (comma-separated, empty for all)<input value={departments} onChange={(e) => setDepartments(e.target.value)} data-testid="wizard-departments" /></label>
      <label>Roles (comma-separated, empty for all)<input value={roles} onChange={(e) => setRoles(e.target.value)} data-testid="wizard-roles" /></label>
      <label>
        Reviewer
        <select value={reviewer} onChange={(e) => setReviewer(member(RULES, e.target.value) || "manager")} data-testid="wizard-reviewer">
          <option value="manager">the person's manager</option>
          <option value="owner">the role's owner</option>
        </select>
      </label>
      <label>Fallback reviewer<input value={fallback} onChange={(e) => setFallback(e.target.value)} data-testid="wizard-fallback" /></label>
      <label>
        Undecided at close
        <select value={undecided} onChange={(e) => setUndecided(member(VERDICTS, e.target.value) || "keep")} data-testid="wizard-undecided">
          <option value="keep">keep</option>
          <option value="revoke">revoke</option>
        </select>
      </label>
      <button className="primary" onClick={launch} disabled={busy || !name.trim()} data-testid="wizard-launch">
        {busy ? "Launching…" : "Launch campaign"}
      </button>
      {error && <ErrorPanel error={error} />}
    </div>
  );
}
