// Exports: audit evidence written to a file on this machine, with a manifest an auditor can
// re-check; a progress bar with counts, time left and Cancel while it runs (a cancelled
// export leaves nothing behind); and the offline check of any export or evidence pack.
import { useEffect, useRef, useState } from "react";
import type { ChosenFile } from "../../bindings/ChosenFile";
import type { ExportStart } from "../../bindings/ExportStart";
import type { ExportStatus } from "../../bindings/ExportStatus";
import type { IpcError } from "../../bindings/IpcError";
import type { VerifyResponse } from "../../bindings/VerifyResponse";
import { member } from "../../lib/member";
import { call } from "../../lib/rpc";
import { ErrorPanel } from "../../lib/states";

type Kind = ExportStart["kind"];

const KINDS: { value: Kind; label: string; hint: string }[] = [
  { value: "access", label: "User access listing", hint: "who has what, through which role, granted when and by whom" },
  { value: "findings", label: "Findings", hint: "recorded findings with their evidence" },
  { value: "logs", label: "Access-log search results", hint: "every row the search matches, newest first" },
  { value: "audit-trail", label: "Console audit trail", hint: "every change made through Warden, with its hash chain" },
  { value: "campaign", label: "Campaign evidence pack", hint: "a closed campaign's folder, signed off by you (officers)" },
];

/** Seconds as "1 min 5 s" or "12 s". */
function duration(s: number): string {
  const whole = Math.max(0, Math.round(s));
  return whole >= 60 ? `${Math.floor(whole / 60)} min ${whole % 60} s` : `${whole} s`;
}

function Progress({ status, started, onCancel }: { status: ExportStatus; started: number; onCancel: () => void }) {
  const elapsed = (Date.now() - started) / 1000;
  const rate = elapsed > 0 ? status.rows / elapsed : 0;
  const left = status.total > status.rows && rate > 0 ? (status.total - status.rows) / rate : null;
  return (
    <div className="preview" data-testid="export-running">
      {status.total > 0
        ? <progress max={status.total} value={Math.min(status.rows, status.total)} aria-label="Rows written" data-testid="export-progress" />
        : <progress aria-label="Rows written" data-testid="export-progress" />}
      <span className="muted" data-testid="export-counts">
        {status.rows.toLocaleString("en-US")}
        {status.total > 0 ? ` of about ${status.total.toLocaleString("en-US")}` : ""} rows
        {left !== null ? `, about ${duration(left)} left` : ""}
        {status.cancelling ? " — cancelling, removing what was written…" : ""}
      </span>
      <button onClick={onCancel} disabled={status.cancelling} data-testid="export-cancel">Cancel</button>
    </div>
  );
}

export function Exports({ officer }: { officer: boolean }) {
  const [kind, setKind] = useState<Kind>("access");
  // Where the export goes, chosen in the system's Save dialog: the page never names a path.
  const [file, setFile] = useState<ChosenFile | null>(null);
  const [bom, setBom] = useState(false);
  const [campaign, setCampaign] = useState("");
  const [logUser, setLogUser] = useState("");
  const [logOutcome, setLogOutcome] = useState("");
  const [logSince, setLogSince] = useState("");
  const [job, setJob] = useState<number | null>(null);
  const [status, setStatus] = useState<ExportStatus | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const started = useRef(0);
  const [verifyFile, setVerifyFile] = useState<ChosenFile | null>(null);
  const [verified, setVerified] = useState<VerifyResponse | null>(null);
  const [verifyError, setVerifyError] = useState<IpcError | null>(null);

  useEffect(() => {
    if (job === null) return;
    let stop = false;
    const poll = () => {
      call("export_status", { id: job }).then(
        (s) => {
          if (stop) return;
          setStatus(s);
          if (s.done) {
            if (s.error) setError(s.error);
            setJob(null);
          } else {
            window.setTimeout(poll, 200);
          }
        },
        (e: IpcError) => { setError(e); setJob(null); },
      );
    };
    poll();
    return () => { stop = true; };
  }, [job]);

  const start = () => {
    setError(null);
    setStatus(null);
    started.current = Date.now();
    const text = (v: string) => (v.trim() === "" ? null : v.trim());
    if (!file) return;
    const where = { file: file.id, bom };
    const req: ExportStart =
      kind === "logs"
        ? { ...where, kind, search: { source: null, user: text(logUser), department: null, action: null, resource_type: null, resource_id: null, outcome: text(logOutcome), since: text(logSince), until: null, client_address: null, limit: null, after: null } }
        : kind === "findings"
          ? { ...where, kind, filters: { kind: null, severity: null, status: null, department: null, subject: null } }
          : kind === "campaign"
            ? { ...where, kind, id: Number(campaign) }
            : { ...where, kind };
    call("export_start", { req }).then(setJob, (e: IpcError) => setError(e));
  };
  const cancel = () => {
    if (job !== null) call("export_cancel", { id: job }).catch((e: IpcError) => setError(e));
  };
  const choose = () => {
    setError(null);
    const purpose = kind === "campaign" ? "export-folder" : "export-file";
    call("choose_file", { purpose, suggested: kind === "campaign" ? null : `${kind}.csv` }).then((f) => f && setFile(f), (e: IpcError) => setError(e));
  };
  const verify = (f: ChosenFile) => {
    setVerified(null);
    setVerifyError(null);
    call("export_verify", { file: f.id }).then(setVerified, (e: IpcError) => setVerifyError(e));
  };
  const chooseVerify = (purpose: "verify" | "verify-pack") => {
    setVerifyError(null);
    call("choose_file", { purpose, suggested: null }).then(
      (f) => {
        if (!f) return;
        setVerifyFile(f);
        verify(f);
      },
      (e: IpcError) => setVerifyError(e),
    );
  };
  const running = job !== null;
  const done = status?.done ? status.result : null;
  const chosen = KINDS.find((k) => k.value === kind);

  return (
    <section className="page">
      <header className="page-head">
        <h1>Exports</h1>
        <button className="primary" onClick={start} disabled={running || file === null || (kind === "campaign" && campaign.trim() === "")} data-testid="export-start">
          {running ? "Exporting…" : "Export"}
        </button>
      </header>
      <p className="muted">
        Evidence is written beside its manifest (SHA-256, row count, source server, the audit trail's head), under a new name: an export never replaces one.
      </p>
      <div className="filters" role="group" aria-label="What to export">
        <label>
          Report
          <select value={kind} onChange={(e) => { setKind(member(KINDS.map((k) => k.value), e.target.value) || "access"); setFile(null); }} disabled={running} data-testid="export-kind">
            {KINDS.filter((k) => officer || k.value !== "campaign").map((k) => <option key={k.value} value={k.value}>{k.label}</option>)}
          </select>
        </label>
        <span className="wide">
          <button onClick={choose} disabled={running} data-testid="export-choose">
            {kind === "campaign" ? "Choose a folder…" : "Save as…"}
          </button>
          {" "}
          {file ? <span className="mono" data-testid="export-file">{file.name}</span> : <span className="muted">{kind === "campaign" ? "no folder chosen" : "no file chosen"}</span>}
        </span>
        {kind !== "campaign" && (
          <label className="check">
            <input type="checkbox" checked={bom} onChange={(e) => setBom(e.target.checked)} disabled={running} data-testid="export-bom" />
            UTF-8 byte-order mark (for spreadsheets)
          </label>
        )}
        {kind === "campaign" && (
          <label>
            Campaign id
            <input value={campaign} onChange={(e) => setCampaign(e.target.value.replace(/[^0-9]/g, ""))} inputMode="numeric" disabled={running} data-testid="export-campaign" />
          </label>
        )}
      </div>
      {kind === "logs" && (
        <div className="chips" role="group" aria-label="Search">
          <input aria-label="User" placeholder="user (login)" value={logUser} onChange={(e) => setLogUser(e.target.value)} disabled={running} data-testid="export-log-user" />
          <select aria-label="Outcome" value={logOutcome} onChange={(e) => setLogOutcome(e.target.value)} disabled={running} data-testid="export-log-outcome">
            <option value="">Any outcome</option>
            <option value="allowed">allowed</option>
            <option value="denied">denied</option>
          </select>
          <input aria-label="Since (UTC)" placeholder="since YYYY-MM-DD" value={logSince} onChange={(e) => setLogSince(e.target.value)} disabled={running} data-testid="export-log-since" />
        </div>
      )}
      {chosen && <p className="muted">{chosen.hint}.</p>}
      {status && !status.done && <Progress status={status} started={started.current} onCancel={cancel} />}
      {done && (
        <div className="preview" role="status" data-testid="export-result">
          <p>
            Wrote {done.rows.toLocaleString("en-US")} rows to <span className="mono">{done.file}</span>; manifest <span className="mono">{done.manifest}</span>; recorded as audit event {done.audit_seq}.
          </p>
          <p>SHA-256 <span className="mono" data-testid="export-sha">{done.sha256}</span></p>
          {file && (
            <button onClick={() => { setVerifyFile(file); verify(file); }} data-testid="export-verify-this">Verify this export</button>
          )}
        </div>
      )}
      {error && <ErrorPanel error={error} />}

      <h2>Verify an export</h2>
      <p className="muted">Re-checks a CSV against its manifest, or an evidence pack's folder, offline: hashes, row counts, the audit trail's chain, the sign-off.</p>
      <div className="filters">
        <button onClick={() => chooseVerify("verify")} data-testid="verify-choose">Choose an export…</button>
        <button onClick={() => chooseVerify("verify-pack")} data-testid="verify-choose-pack">Choose an evidence pack…</button>
        {verifyFile && (
          <>
            <span className="mono" data-testid="verify-file">{verifyFile.name}</span>
            <button onClick={() => verify(verifyFile)} data-testid="verify-start">Verify again</button>
          </>
        )}
      </div>
      {verified && (
        <div className={"preview" + (verified.ok ? "" : " alert")} role="status" data-testid="verify-result">
          {verified.ok
            ? <p><span className="badge ok">intact</span> {verified.rows.toLocaleString("en-US")} rows, every hash as the manifest says.</p>
            : (
              <>
                <p><span className="badge danger">altered</span> {verified.file}</p>
                <ul className="evidence-list" data-testid="verify-problems">
                  {verified.problems.map((p) => <li key={p}>{p}</li>)}
                </ul>
              </>
            )}
        </div>
      )}
      {verifyError && <ErrorPanel error={verifyError} />}
    </section>
  );
}
