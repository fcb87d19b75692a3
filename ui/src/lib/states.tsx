// Loading, empty and error states, designed rather than default.
import { useEffect, useState, type ReactNode } from "react";
import type { IpcError } from "../bindings/IpcError";
import type { IpcCode } from "../bindings/IpcCode";

/** Skeleton rows, shown only after 150 ms so fast answers never flash. */
export function Loading({ rows = 8 }: { rows?: number }) {
  const [show, setShow] = useState(false);
  useEffect(() => {
    const t = window.setTimeout(() => setShow(true), 150);
    return () => window.clearTimeout(t);
  }, []);
  if (!show) return <div className="loading-wait" aria-busy="true" />;
  return (
    <div className="skeleton" aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="skeleton-row" />
      ))}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty" role="status">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

const NEXT_STEP: Partial<Record<IpcCode, string>> = {
  unavailable: "Check that the database is running and reachable, then retry.",
  read_only: "No writable primary is reachable (a replica, or a cluster without quorum): reads go on, changes wait for the primary.",
  forbidden: "Ask an officer for the console role this needs.",
  config: "Check the connection settings and the mapping.",
  not_found: "It may have been renamed or removed.",
  input: "Correct the input and try again.",
  conflict: "Someone else changed it first: reload and try again.",
  cancelled: "Nothing was left behind; start it again when you are ready.",
  password_expired: "Choose a new password on the Connection screen.",
};

export function ErrorPanel({
  error,
  onRetry,
  onSettings,
}: {
  error: IpcError;
  onRetry?: () => void;
  onSettings?: () => void;
}) {
  return (
    <div className="error-panel" role="alert">
      <h2>
        <span className="sev-icon" aria-hidden="true">
          !
        </span>{" "}
        {error.message}
      </h2>
      <p>{NEXT_STEP[error.code] ?? "Retry, or look at the details below."}</p>
      <div className="actions">
        {onRetry && (
          <button className="primary" onClick={onRetry}>
            Retry
          </button>
        )}
        {onSettings && <button onClick={onSettings}>Open connection settings</button>}
      </div>
      {error.detail && (
        <details>
          <summary>Details</summary>
          <pre className="mono">{error.detail}</pre>
        </details>
      )}
    </div>
  );
}
