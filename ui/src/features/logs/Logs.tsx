// Access logs: the application's log and the database's imported audit events, filtered
// and paged by keyset ("Older rows" asks for the page after the last one shown, so a page
// deep in the log costs what the first costs); officers run the detectors from here.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";
import { useCallback, useEffect, useRef, useState } from "react";
import type { IpcError } from "../../bindings/IpcError";
import type { LogRowView } from "../../bindings/LogRowView";
import type { SearchRequest } from "../../bindings/SearchRequest";
import type { TimelineResponse } from "../../bindings/TimelineResponse";
import { cssVar } from "../../lib/css";
import type { Navigate } from "../../lib/route";
import { Import } from "./Import";
import { call } from "../../lib/rpc";
import { Empty, ErrorPanel, Loading } from "../../lib/states";
import { VirtualTable, type Column } from "../../lib/VirtualTable";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

const PAGE = 200;

/** Allowed and denied accesses over the range; drag across it to zoom the table to a span. */
function Timeline({ data, onBrush }: { data: TimelineResponse; onBrush: (since: string, until: string) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  const [drag, setDrag] = useState<{ from: number; to: number } | null>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const c = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels: data.points.map((p) => p.at.slice(5, 16).replace("T", " ")),
        datasets: [
          { label: "allowed", data: data.points.map((p) => p.allowed), backgroundColor: cssVar("--accent") },
          { label: "denied", data: data.points.map((p) => p.denied), backgroundColor: cssVar("--danger") },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        color: cssVar("--text-2"),
        scales: {
          x: { stacked: true, ticks: { color: cssVar("--text-2"), maxRotation: 0, autoSkipPadding: 16 }, grid: { display: false } },
          y: { stacked: true, ticks: { color: cssVar("--text-2") } },
        },
      },
    });
    chart.current = c;
    return () => { c.destroy(); chart.current = null; };
  }, [data]);
  const index = (x: number) => {
    const scale = chart.current?.scales.x;
    if (!scale) return 0;
    const v = Math.round(scale.getValueForPixel(x) ?? 0);
    return Math.min(Math.max(v, 0), data.points.length - 1);
  };
  const x = (e: React.MouseEvent) => e.clientX - (canvas.current?.getBoundingClientRect().left ?? 0);
  const finish = () => {
    if (!drag || data.points.length === 0) return setDrag(null);
    const [a, b] = [data.points[index(Math.min(drag.from, drag.to))], data.points[index(Math.max(drag.from, drag.to))]];
    setDrag(null);
    if (!a || !b) return;
    const end = new Date(Date.parse(b.at) + data.bucket_seconds * 1000).toISOString();
    onBrush(a.at.slice(0, 19), end.slice(0, 19));
  };
  return (
    <div className="chart-box small brushable" data-testid="logs-timeline">
      <canvas
        ref={canvas}
        role="img"
        aria-label="Allowed and denied accesses over time; drag across to zoom"
        onMouseDown={(e) => setDrag({ from: x(e), to: x(e) })}
        onMouseMove={(e) => drag && setDrag({ ...drag, to: x(e) })}
        onMouseUp={finish}
        onMouseLeave={() => setDrag(null)}
      />
      {drag && (
        <div className="brush" style={{ left: Math.min(drag.from, drag.to), width: Math.abs(drag.to - drag.from) }} />
      )}
    </div>
  );
}

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
  const [timeline, setTimeline] = useState<TimelineResponse | null>(null);
  const [importing, setImporting] = useState(false);
  const imported = useCallback(() => setApplied((a) => ({ ...a })), []);

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
  useEffect(() => {
    if ((applied.source ?? "all") === "db-audit") return setTimeline(null);
    call("logs_timeline", { req: request(applied, null), buckets: 48 }).then(setTimeline, () => setTimeline(null));
  }, [applied]);
  const brush = (since: string, until: string) => {
    const zoomed = { ...applied, since, until };
    setDraft(zoomed);
    setApplied(zoomed);
  };

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
        {officer && (
          <button onClick={() => setImporting(true)} disabled={importing} data-testid="logs-import">
            Import a file…
          </button>
        )}
        {scan && (
          <button className="link" onClick={() => navigate({ page: "findings", status: "open" })} data-testid="logs-scan-result">
            {scan}
          </button>
        )}
      </header>
      {importing && <Import onDone={imported} onClose={() => setImporting(false)} />}
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
      {timeline && timeline.points.length > 0 && <Timeline data={timeline} onBrush={brush} />}
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
