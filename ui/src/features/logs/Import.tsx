// Importing a database audit-log file: the format and the file, chosen in the system's Open
// dialog (the page never names a path), then a progress bar (bytes read of the file) until the import reports what it kept, what
// it had already, and the lines it could not read.
import { useEffect, useState } from "react";
import type { ChosenFile } from "../../bindings/ChosenFile";
import type { ImportStatus } from "../../bindings/ImportStatus";
import type { IpcError } from "../../bindings/IpcError";
import { call } from "../../lib/rpc";
import { ErrorPanel } from "../../lib/states";

const FORMATS = [
  { value: "server-audit", label: "MariaDB server_audit" },
  { value: "audit-xml", label: "MySQL / Percona audit log (XML)" },
  { value: "audit-json", label: "MySQL / Percona audit log (JSON)" },
];

export function Import({ onDone, onClose }: { onDone: () => void; onClose: () => void }) {
  const [format, setFormat] = useState("server-audit");
  const [file, setFile] = useState<ChosenFile | null>(null);
  const [job, setJob] = useState<number | null>(null);
  const [status, setStatus] = useState<ImportStatus | null>(null);
  const [error, setError] = useState<IpcError | null>(null);

  useEffect(() => {
    if (job === null) return;
    let stop = false;
    const poll = () => {
      call("logs_import_status", { id: job }).then(
        (s) => {
          if (stop) return;
          setStatus(s);
          if (s.done) {
            if (s.error) setError(s.error);
            else onDone();
          } else {
            window.setTimeout(poll, 200);
          }
        },
        (e: IpcError) => setError(e),
      );
    };
    poll();
    return () => { stop = true; };
  }, [job, onDone]);

  const start = () => {
    setError(null);
    setStatus(null);
    if (file) call("logs_import", { format, file: file.id }).then(setJob, (e: IpcError) => setError(e));
  };
  const choose = () => {
    setError(null);
    call("choose_file", { purpose: "import", suggested: null }).then((f) => f && setFile(f), (e: IpcError) => setError(e));
  };
  const running = job !== null && !(status?.done ?? false);
  const cancel = () => {
    if (job !== null) call("logs_import_cancel", { id: job }).catch((e: IpcError) => setError(e));
  };
  const r = status?.result;

  return (
    <div className="wizard" role="dialog" aria-label="Import an audit-log file" data-testid="import-dialog">
      <div className="filters">
        <label>
          Format
          <select value={format} onChange={(e) => setFormat(e.target.value)} disabled={running} data-testid="import-format">
            {FORMATS.map((f) => <option key={f.value} value={f.value}>{f.label}</option>)}
          </select>
        </label>
        <span className="wide">
          <button onClick={choose} disabled={running} data-testid="import-choose">Choose file…</button>
          {" "}
          {file ? <span className="mono" data-testid="import-file">{file.name}</span> : <span className="muted">no file chosen</span>}
        </span>
        <button className="primary" onClick={start} disabled={running || file === null} data-testid="import-start">
          {running ? "Importing…" : "Import"}
        </button>
        {running && (
          <button onClick={cancel} disabled={status?.cancelling ?? false} data-testid="import-cancel">Cancel</button>
        )}
        <button onClick={onClose} disabled={running}>Close</button>
      </div>
      {status && (
        <div className="preview">
          <progress max={Math.max(status.total, 1)} value={status.bytes} aria-label="Bytes read" data-testid="import-progress" />
          <span className="muted">
            {status.bytes.toLocaleString("en-US")} of {status.total.toLocaleString("en-US")} bytes, {status.events.toLocaleString("en-US")} events read
            {status.cancelling ? " — stopping after the chunk being written…" : ""}
          </span>
        </div>
      )}
      {r && (
        <div className="preview" role="status" data-testid="import-result">
          <p>
            Imported {r.imported.toLocaleString("en-US")} events ({r.duplicates.toLocaleString("en-US")} already imported) from {r.file};
            {" "}{r.malformed === 0 ? "every line read." : `${r.malformed} ${r.malformed === 1 ? "line" : "lines"} could not be read:`}
          </p>
          {r.problems.length > 0 && (
            <ul className="evidence-list" data-testid="import-problems">
              {r.problems.map((p) => <li key={p.line}>line {p.line}: {p.message}</li>)}
            </ul>
          )}
        </div>
      )}
      {error && <ErrorPanel error={error} />}
    </div>
  );
}
