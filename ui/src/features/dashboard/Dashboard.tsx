import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  Tooltip,
} from "chart.js";
import { useEffect, useRef } from "react";
import type { DashboardResponse } from "../../bindings/DashboardResponse";
import { cssVar } from "../../lib/css";
import type { Navigate } from "../../lib/route";
import { ErrorPanel, Loading } from "../../lib/states";
import { useCall } from "../../lib/useCall";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);

function DepartmentChart({ data, navigate }: { data: DashboardResponse; navigate: Navigate }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const labels = data.departments.map((d) => d.department);
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels,
        datasets: [
          { label: "Staff", data: data.departments.map((d) => d.staff), backgroundColor: cssVar("--accent") },
          { label: "Distinct roles held", data: data.departments.map((d) => d.roles), backgroundColor: cssVar("--chart-2"), yAxisID: "roles" },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        color: cssVar("--text-2"),
        scales: {
          x: { ticks: { color: cssVar("--text-2") }, grid: { display: false } },
          y: { ticks: { color: cssVar("--text-2") }, title: { display: true, text: "staff", color: cssVar("--text-2") } },
          roles: { position: "right", ticks: { color: cssVar("--text-2") }, grid: { display: false }, title: { display: true, text: "roles", color: cssVar("--text-2") } },
        },
        onClick: (_e, elements) => {
          const first = elements[0];
          const dept = first ? labels[first.index] : undefined;
          if (dept) navigate({ page: "people", department: dept });
        },
      },
    });
    return () => chart.destroy();
  }, [data, navigate]);
  return (
    <div className="chart-box">
      <canvas ref={canvas} role="img" aria-label="Staff and distinct roles per department; click a bar to see the people" />
    </div>
  );
}

/** The compliance headline: accounts compliant with their baseline, open findings by severity. */
function Compliance({ navigate }: { navigate: Navigate }) {
  const [loaded] = useCall("compliance", {}, "compliance");
  if (loaded.state !== "ready") return null;
  const c = loaded.data;
  if (!c.checked_at) {
    return (
      <div className="tiles" data-testid="compliance-tiles">
        <button className="tile" onClick={() => navigate({ page: "policies" })} data-testid="tile-compliance">
          <span className="tile-num">—</span>
          <span className="tile-label">no check yet: apply a policy and run one</span>
        </button>
      </div>
    );
  }
  const pct = c.evaluated > 0 ? Math.floor((c.compliant * 1000) / c.evaluated) / 10 : 100;
  return (
    <div className="tiles" data-testid="compliance-tiles">
      <button className="tile" onClick={() => navigate({ page: "findings" })} data-testid="tile-compliance">
        <span className="tile-num">{pct}%</span>
        <span className="tile-label">
          compliant with their baseline ({c.compliant.toLocaleString("en-US")} of {c.evaluated.toLocaleString("en-US")} active)
        </span>
      </button>
      {(["high", "medium", "low"] as const).map((s) => (
        <button key={s} className={`tile sev-tile sev-${s}`} onClick={() => navigate({ page: "findings", severity: s })} data-testid={`tile-open-${s}`}>
          <span className="tile-num">{(s === "high" ? c.open_high : s === "medium" ? c.open_medium : c.open_low).toLocaleString("en-US")}</span>
          <span className="tile-label">open {s} findings</span>
        </button>
      ))}
    </div>
  );
}

export function Dashboard({ navigate }: { navigate: Navigate }) {
  const [loaded, reload] = useCall("dashboard", {}, "dashboard");
  return (
    <section className="page">
      <header className="page-head">
        <h1>Dashboard</h1>
      </header>
      {loaded.state === "loading" && <Loading rows={4} />}
      {loaded.state === "error" && <ErrorPanel error={loaded.error} onRetry={reload} />}
      {loaded.state === "ready" && (
        <>
          <Compliance navigate={navigate} />
          <div className="tiles" data-testid="dashboard-tiles">
            <button className="tile" onClick={() => navigate({ page: "people" })} data-testid="tile-staff">
              <span className="tile-num">{loaded.data.staff.toLocaleString("en-US")}</span>
              <span className="tile-label">staff ({loaded.data.active.toLocaleString("en-US")} active)</span>
            </button>
            <button className="tile" onClick={() => navigate({ page: "roles" })} data-testid="tile-roles">
              <span className="tile-num">{loaded.data.roles}</span>
              <span className="tile-label">roles</span>
            </button>
            <button className="tile" onClick={() => navigate({ page: "whocan" })} data-testid="tile-permissions">
              <span className="tile-num">{loaded.data.permissions}</span>
              <span className="tile-label">permissions</span>
            </button>
            <div className="tile" data-testid="tile-superusers">
              <span className="tile-num">{loaded.data.superusers}</span>
              <span className="tile-label">active superusers</span>
            </div>
            {loaded.data.without_mfa !== null && (
              <div className="tile" data-testid="tile-mfa">
                <span className="tile-num">{loaded.data.without_mfa.toLocaleString("en-US")}</span>
                <span className="tile-label">active staff without MFA</span>
              </div>
            )}
          </div>
          <h2 className="section-title">Staff and roles per department</h2>
          <DepartmentChart data={loaded.data} navigate={navigate} />
        </>
      )}
    </section>
  );
}
