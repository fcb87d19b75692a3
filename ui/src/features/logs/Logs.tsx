// Access logs: the application's log and the database's imported audit events, filtered
// and paged by keyset ("Older rows" asks for the page after the last one shown, so a page
// deep in the log costs what the first costs); officers run the detectors from here.
import { useCallback, useEffect, useState } from "react";
import type { IpcError } from "../../bindings/IpcError";
import type { LogRowView } from "../../bindings/LogRowView";
import type { SearchRequest } from "../../bindings/SearchRequest";
import type { Navigate } from "../../lib/route";
import { call } from "../../lib/rpc";
import { Empty, ErrorPanel, Loading } from "../../lib/states";
import { VirtualTable, type Column } from "../../lib/VirtualTable";

const PAGE = 200;

const when = (t: string | null) => (t ? t.replace("T", " ").replace("Z", "") : null);

const COLUMNS: Column<LogRowView>[] = [
  { key: "at", title: "Time (UTC)", width: 170, value: (r) => when(r.at), numeric: true },
  { key: "source", title: "Source", width: 80, value: (r) => r.source },
  { key: "login", title: "Person", width: 160, value: (r) => r.login, mono: true },
  { key: "department", title: "Department", width: 110, value: (r) => r.department },
  { key: "action", title: "Action", width: 190, value: (r) => r.action, mono: true },
  { key: "resource_type", title: "Resource", width: 100, value: (r) => r.resource_type },
  { key: "resource_id", title: "Id", width: 90, value: (r) => r.resource_id, mono: true },
  { key: "outcome", title: "Outcome", width: 90, value: (r) => r.outcome },
  { key: "client", title: "Client", width: 130, value: (r) => r.client_address, mono: true },
  { key: "statement", title: "Statement", width: 320, value: (r) => r.statement ?? r.user_agent, mono: true },
];

export type LogFilters = {
  source?: string;
  user?: string;
  department?: string;
  action?: string;
  resource?: string;
  resourceId?: string;
  outcome?: string;
  since?: string;
  until?: string;
  client?: string;
};

const FIELDS: { key: keyof LogFilters; label: string; placeholder: string }[] = [
  { key: "user", label: "Person", placeholder: "login or database account" },
  { key: "department", label: "Department", placeholder: "support" },
  { key: "action", label: "Action", placeholder: "customer.contact:read" },
  { key: "resource", label: "Resource type", placeholder: "customer" },
  { key: "resourceId", label: "Resource id", placeholder: "1042" },
  { key: "client", label: "Client address", placeholder: "10.0.0.5" },
  { key: "since", label: "From (UTC)", placeholder: "2026-11-01T09:00" },
  { key: "until", label: "Before (UTC)", placeholder: "2026-11-30" },
];

const orNull = (v: string | undefined) => (v && v.trim() !== "" ? v.trim() : null);

function request(f: LogFilters, after: string | null): SearchRequest {
  return {
    source: orNull(f.source) ?? "all",
    user: orNull(f.user),
    department: orNull(f.department),
    action: orNull(f.action),
    resource_type: orNull(f.resource),
    resource_id: orNull(f.resourceId),
    outcome: orNull(f.outcome),
    since: orNull(f.since),
    until: orNull(f.until),
    client_address: orNull(f.client),
    limit: PAGE,
    after,
  };
}

export function Logs({ navigate, initial, officer }: { navigate: Navigate; initial: LogFilters; officer: boolean }) {
  const [draft, setDraft] = useState<LogFilters>(initial);
  const [applied, setApplied] = useState<LogFilters>(initial);
  const [rows, setRows] = useState<LogRowView[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [state, setState] = useState<"loading" | "ready" | "more">("loading");
  const [error, setError] = useState<IpcError | null>(null);
  const [scan, setScan] = useState<string | null>(null);
  const [scanning, setScanning] = useState(false);

  const load = useCallback((filters: LogFilters, after: string | null) => {
    setState(after ? "more" : "loading");
    setError(null);
    call("logs_search", { req: request(filters, after) }).then(
      (page) => {
        setRows((old) => (after ? [...old, ...page.rows] : page.rows));
        setNext(page.next);
        setState("ready");
      },
      (e: IpcError) => { setError(e); setState("ready"); },
    );
  }, []);

  useEffect(() => load(applied, null), [applied, load]);

  const runScan = () => {
    setScanning(true);
    setError(null);
    call("logs_scan", { full: false }).then(
      (r) => {
        setScanning(false);
        setScan(`Scanned ${r.scanned.toLocaleString("en-US")} new rows: ${r.new_findings} new findings (${r.found} hits).`);
      },
      (e: IpcError) => { setScanning(false); setError(e); },
    );
  };

  return (
    <section className="page">
      <header className="page-head">
        <h1>Access logs</h1>
        {officer && (
          <button className="primary" onClick={runScan} disabled={scanning} data-testid="logs-scan">
            {scanning ? "Scanning…" : "Scan new rows"}
          </button>
        )}
        {scan && (
          <button className="link" onClick={() => navigate({ page: "findings", status: "open" })} data-testid="logs-scan-result">
            {scan}
          </button>
        )}
      </header>
      <form
        className="filters"
        aria-label="Filters"
        onSubmit={(e) => { e.preventDefault(); setApplied({ ...draft }); }}
      >
        <label>
          Source
          <select value={draft.source ?? "all"} onChange={(e) => setDraft({ ...draft, source: e.target.value })} data-testid="logs-source">
            <option value="all">Everything</option>
            <option value="app">The application</option>
            <option value="db-audit">Database audit files</option>
          </select>
        </label>
        <label>
          Outcome
          <select value={draft.outcome ?? ""} onChange={(e) => setDraft({ ...draft, outcome: e.target.value })} data-testid="logs-outcome">
            <option value="">Any</option>
            <option value="allowed">Allowed</option>
            <option value="denied">Denied</option>
          </select>
        </label>
        {FIELDS.map((f) => (
          <label key={f.key}>
            {f.label}
            <input
              value={draft[f.key] ?? ""}
              placeholder={f.placeholder}
              maxLength={512}
              onChange={(e) => setDraft({ ...draft, [f.key]: e.target.value })}
              data-testid={`logs-${f.key}`}
            />
          </label>
        ))}
        <button className="primary" type="submit" data-testid="logs-apply">Search</button>
      </form>
      {error && <ErrorPanel error={error} />}
      {state === "loading" && <Loading />}
      {state !== "loading" && rows.length === 0 && !error && (
        <Empty title="No rows match">
          <p>Widen the filters or the time range.</p>
        </Empty>
      )}
      {state !== "loading" && rows.length > 0 && (
        <>
          <p className="muted" data-testid="logs-count">
            {rows.length.toLocaleString("en-US")} rows shown{next ? ", older rows follow" : ", the whole match"}
          </p>
          <VirtualTable
            columns={COLUMNS}
            rows={rows}
            rowKey={(r) => `${r.source}-${r.id}`}
            label="access log"
            onOpen={(r) => r.source === "app" && r.login && navigate({ page: "person", login: r.login })}
          />
          {next && (
            <button onClick={() => load(applied, next)} disabled={state === "more"} data-testid="logs-more">
              {state === "more" ? "Loading…" : `Older rows (${PAGE} more)`}
            </button>
          )}
        </>
      )}
    </section>
  );
}
