// Findings: every departure from the policy, filtered by kind, severity, status and
// department, counted by kind in a chart, and opened to its evidence, fix and triage.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";
import { useEffect, useMemo, useRef, useState } from "react";
import type { ComplianceSummary } from "../../bindings/ComplianceSummary";
import type { FindingKind } from "../../bindings/FindingKind";
import type { FindingStatus } from "../../bindings/FindingStatus";
import type { FindingView } from "../../bindings/FindingView";
import type { Severity } from "../../bindings/Severity";
import type { IpcError } from "../../bindings/IpcError";
import { cssVar } from "../../lib/css";
import { member } from "../../lib/member";
import type { Navigate } from "../../lib/route";
import { call } from "../../lib/rpc";
import { Empty, ErrorPanel, Loading } from "../../lib/states";
import { useCall } from "../../lib/useCall";
import { VirtualTable, type Column } from "../../lib/VirtualTable";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

export const KINDS: FindingKind[] = [
  "no_job_function", "excess_permission", "sod_conflict", "too_many_roles", "dormant_account",
  "orphan_account", "inactive_with_roles", "superuser", "no_mfa", "weak_password_hash", "grant_outside_review",
  "enumeration", "denied_burst", "off_hours", "outside_policy", "no_business_reason", "dormant_activity", "bulk_export",
];
const SEVERITIES: Severity[] = ["high", "medium", "low"];
const STATUSES: FindingStatus[] = ["open", "acknowledged", "resolved"];

const when = (t: string | null) => (t ? t.replace("T", " ").replace("Z", "") : null);

const COLUMNS: Column<FindingView>[] = [
  { key: "severity", title: "Severity", width: 90, value: (f) => f.severity },
  { key: "kind", title: "Kind", width: 180, value: (f) => f.kind, mono: true },
  { key: "subject", title: "Person", width: 170, value: (f) => f.subject, mono: true },
  { key: "department", title: "Department", width: 120, value: (f) => f.department },
  { key: "detail", title: "Detail", width: 420, value: (f) => f.detail },
  { key: "status", title: "Status", width: 110, value: (f) => f.status },
  { key: "last_seen", title: "Last seen (UTC)", width: 160, value: (f) => when(f.last_seen), numeric: true },
];

function KindChart({ summary, status }: { summary: ComplianceSummary; status: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const counted = summary.counts.filter((c) => (status ? c.status === status : c.status !== "resolved"));
    const kinds = [...new Set(counted.map((c) => c.kind))].sort();
    const colour: Record<string, string> = { high: cssVar("--danger"), medium: cssVar("--chart-2"), low: cssVar("--accent") };
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels: kinds,
        datasets: SEVERITIES.map((s) => ({
          label: s,
          data: kinds.map((k) => counted.filter((c) => c.kind === k && c.severity === s).reduce((n, c) => n + c.count, 0)),
          backgroundColor: colour[s],
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: "y",
        color: cssVar("--text-2"),
        scales: {
          x: { stacked: true, ticks: { color: cssVar("--text-2") } },
          y: { stacked: true, ticks: { color: cssVar("--text-2"), autoSkip: false }, grid: { display: false } },
        },
      },
    });
    return () => chart.destroy();
  }, [summary, status]);
  return (
    <div className="chart-box small">
      <canvas ref={canvas} role="img" aria-label="Findings per kind, by severity" />
    </div>
  );
}

export function Findings({ navigate, initial }: { navigate: Navigate; initial: { kind?: FindingKind; severity?: Severity; status?: FindingStatus } }) {
  const [kind, setKind] = useState<FindingKind | "">(initial.kind ?? "");
  const [severity, setSeverity] = useState<Severity | "">(initial.severity ?? "");
  const [status, setStatus] = useState<FindingStatus | "">(initial.status ?? "open");
  const [department, setDepartment] = useState("");
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<IpcError | null>(null);
  const [checked, setChecked] = useState<string | null>(null);
  const req = { kind: kind || null, severity: severity || null, status: status || null, department: null, subject: null };
  const [loaded, reload] = useCall("findings", { req }, `${kind}|${severity}|${status}`);
  const [summary, reloadSummary] = useCall("compliance", {}, "compliance");

  const all = loaded.state === "ready" ? loaded.data.findings : [];
  const departments = useMemo(() => [...new Set(all.map((f) => f.department ?? ""))].filter(Boolean).sort(), [all]);
  const rows = useMemo(() => all.filter((f) => !department || f.department === department), [all, department]);

  const runCheck = () => {
    setChecking(true);
    setCheckError(null);
    call("check", {}).then(
      (r) => {
        setChecking(false);
        setChecked(`Checked ${r.evaluated.toLocaleString("en-US")} active staff against v${r.policy_version ?? "?"}: ${r.opened} new, ${r.reopened} reopened, ${r.fixed} fixed.`);
        reload();
        reloadSummary();
      },
      (e: IpcError) => { setChecking(false); setCheckError(e); },
    );
  };

  return (
    <section className="page">
      <header className="page-head">
        <h1>Findings</h1>
        <button className="primary" onClick={runCheck} disabled={checking} data-testid="run-check">
          {checking ? "Checking…" : "Run check now"}
        </button>
        {summary.state === "ready" && summary.data.checked_at && (
          <span className="muted" data-testid="last-check">last check {when(summary.data.checked_at)} UTC, policy v{summary.data.policy_version}</span>
        )}
      </header>
      {checked && <p role="status" data-testid="check-result">{checked}</p>}
      {checkError && <ErrorPanel error={checkError} />}
      <div className="chips" role="group" aria-label="Filters">
        <select aria-label="Kind" value={kind} onChange={(e) => setKind(member(KINDS, e.target.value))} data-testid="findings-kind">
          <option value="">Every kind</option>
          {KINDS.map((k) => <option key={k} value={k}>{k}</option>)}
        </select>
        <select aria-label="Severity" value={severity} onChange={(e) => setSeverity(member(SEVERITIES, e.target.value))} data-testid="findings-severity">
          <option value="">Any severity</option>
          {SEVERITIES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <select aria-label="Status" value={status} onChange={(e) => setStatus(member(STATUSES, e.target.value))} data-testid="findings-status">
          <option value="">Any status</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <select aria-label="Department" value={department} onChange={(e) => setDepartment(e.target.value)} data-testid="findings-department">
          <option value="">All departments</option>
          {departments.map((d) => <option key={d} value={d}>{d}</option>)}
        </select>
      </div>
      {summary.state === "ready" && summary.data.counts.length > 0 && <KindChart summary={summary.data} status={status} />}
      {loaded.state === "loading" && <Loading />}
      {loaded.state === "error" && <ErrorPanel error={loaded.error} onRetry={reload} />}
      {loaded.state === "ready" && rows.length === 0 && (
        <Empty title={summary.state === "ready" && !summary.data.checked_at ? "No check has run yet" : "No findings match"}>
          <p>{summary.state === "ready" && !summary.data.checked_at ? "Apply a policy, then run a check." : "Widen the filters to see more."}</p>
        </Empty>
      )}
      {loaded.state === "ready" && rows.length > 0 && (
        <VirtualTable columns={COLUMNS} rows={rows} rowKey={(f) => f.fingerprint} label="findings" onOpen={(f) => f.id !== null && navigate({ page: "finding", id: f.id })} />
      )}
    </section>
  );
}
