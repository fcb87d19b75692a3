import { useCallback, useEffect, useRef, useState } from "react";
import type { ConnectionInfo } from "./bindings/ConnectionInfo";
import type { IpcError } from "./bindings/IpcError";
import { Coming } from "./features/coming/Coming";
import { Connection } from "./features/connection/Connection";
import { Lock } from "./features/connection/Lock";
import { AuditTrail } from "./features/audit/AuditTrail";
import { Dashboard } from "./features/dashboard/Dashboard";
import { Exports } from "./features/exports/Exports";
import { Finding } from "./features/findings/Finding";
import { Findings } from "./features/findings/Findings";
import { Logs } from "./features/logs/Logs";
import { Policies } from "./features/policies/Policies";
import { Campaign } from "./features/reviews/Campaign";
import { Inbox } from "./features/reviews/Inbox";
import { Reviews } from "./features/reviews/Reviews";
import { People } from "./features/people/People";
import { Person } from "./features/people/Person";
import { Role } from "./features/roles/Role";
import { Roles } from "./features/roles/Roles";
import { WhoCan } from "./features/whocan/WhoCan";
import { call, LOCKED_EVENT } from "./lib/rpc";
import type { Route } from "./lib/route";
import { ErrorPanel, Loading } from "./lib/states";

type NavItem = { label: string; route: Route; key: string; testid: string };

const NAV: NavItem[] = [
  { label: "Dashboard", route: { page: "dashboard" }, key: "d", testid: "nav-dashboard" },
  { label: "People", route: { page: "people" }, key: "p", testid: "nav-people" },
  { label: "Roles", route: { page: "roles" }, key: "r", testid: "nav-roles" },
  { label: "Who can…", route: { page: "whocan" }, key: "w", testid: "nav-whocan" },
  { label: "Policies", route: { page: "policies" }, key: "o", testid: "nav-policies" },
  { label: "Findings", route: { page: "findings" }, key: "f", testid: "nav-findings" },
  { label: "Reviews", route: { page: "reviews" }, key: "v", testid: "nav-reviews" },
  { label: "Access logs", route: { page: "logs" }, key: "l", testid: "nav-logs" },
  { label: "Exports", route: { page: "exports" }, key: "e", testid: "nav-exports" },
  { label: "Posture", route: { page: "coming", what: "Posture" }, key: "s", testid: "nav-posture" },
  { label: "Audit trail", route: { page: "audit" }, key: "a", testid: "nav-audit" },
];

function sameSection(a: Route, b: Route): boolean {
  const section = (r: Route) =>
    r.page === "person"
      ? "people"
      : r.page === "role"
        ? "roles"
        : r.page === "finding"
          ? "findings"
          : r.page === "campaign" || r.page === "inbox"
            ? "reviews"
          : r.page === "coming"
            ? `coming:${r.what}`
            : r.page;
  return section(a) === section(b);
}

export function App() {
  const [conn, setConn] = useState<ConnectionInfo | null>(null);
  const [connError, setConnError] = useState<IpcError | null>(null);
  const [route, setRoute] = useState<Route>({ page: "dashboard" });
  const [collapsed, setCollapsed] = useState(false);
  const [query, setQuery] = useState("");
  const [help, setHelp] = useState(false);
  const search = useRef<HTMLInputElement>(null);
  const pendingG = useRef(false);

  const refresh = useCallback(() => {
    setConnError(null);
    call("connection", { retry: false }).then(setConn, setConnError);
  }, []);
  useEffect(refresh, [refresh]);

  // The idle lock: input restarts the idle time (reported to the Rust side at most twice a
  // minute, which enforces it on every call); when it runs out, the session is dropped.
  const connected = conn?.connected === true;
  const idleSeconds = conn?.idle_lock_seconds ?? 0;
  useEffect(() => {
    if (!connected || idleSeconds === 0) return;
    let lastInput = Date.now();
    let lastReport = 0;
    const onInput = () => {
      lastInput = Date.now();
      if (lastInput - lastReport > 30_000) {
        lastReport = lastInput;
        call("activity", {}).then((locked) => locked && refresh(), () => undefined);
      }
    };
    const events = ["keydown", "mousedown", "mousemove", "wheel", "touchstart"] as const;
    events.forEach((e) => window.addEventListener(e, onInput, { passive: true }));
    const timer = window.setInterval(() => {
      if (Date.now() - lastInput >= idleSeconds * 1000) {
        window.clearInterval(timer);
        call("lock", {}).then(setConn, setConnError);
      }
    }, 1000);
    return () => {
      events.forEach((e) => window.removeEventListener(e, onInput));
      window.clearInterval(timer);
    };
  }, [connected, idleSeconds, refresh]);
  useEffect(() => {
    window.addEventListener(LOCKED_EVENT, refresh);
    return () => window.removeEventListener(LOCKED_EVENT, refresh);
  }, [refresh]);

  const navigate = useCallback((r: Route) => {
    setRoute(r);
    setHelp(false);
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const typing = target && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA");
      if ((e.key === "k" && (e.ctrlKey || e.metaKey)) || (!typing && e.key === "/")) {
        e.preventDefault();
        search.current?.focus();
        return;
      }
      if (typing) return;
      if (e.key === "?") setHelp((h) => !h);
      else if (e.key === "Escape") setHelp(false);
      else if (e.key === "g") pendingG.current = true;
      else if (pendingG.current) {
        pendingG.current = false;
        const item = NAV.find((n) => n.key === e.key);
        if (item) navigate(item.route);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [navigate]);

  if (conn === null && connError === null) return <Loading />;
  if (connError) return <ErrorPanel error={connError} onRetry={refresh} />;
  if (conn?.locked) {
    return (
      <div className="app no-sidebar">
        <Lock info={conn} onUnlocked={setConn} />
      </div>
    );
  }
  if (conn && !conn.connected) {
    return (
      <div className="app no-sidebar">
        <Connection info={conn} onConnected={(c) => { setConn(c); setRoute({ page: "dashboard" }); }} />
      </div>
    );
  }

  const submitSearch = () => {
    if (query.trim()) navigate({ page: "people", search: query.trim() });
  };

  return (
    <div className={"app" + (collapsed ? " collapsed" : "")}>
      <nav className="sidebar" aria-label="Sections">
        <div className="brand">
          <img src="/icon.png" alt="" width={22} height={22} />
          {!collapsed && <span>Warden</span>}
        </div>
        <ul>
          {NAV.map((n) => (
            <li key={n.label}>
              <button
                className={"nav-item" + (sameSection(route, n.route) ? " current" : "")}
                aria-current={sameSection(route, n.route) ? "page" : undefined}
                onClick={() => navigate(n.route)}
                data-testid={n.testid}
                title={`${n.label} (g ${n.key})`}
              >
                {collapsed ? n.label.slice(0, 1) : n.label}
                {n.route.page === "coming" && !collapsed && <span className="badge-soft">coming</span>}
              </button>
            </li>
          ))}
        </ul>
        <button className="collapse" onClick={() => setCollapsed((c) => !c)} aria-label={collapsed ? "Expand sidebar" : "Collapse sidebar"}>
          {collapsed ? "»" : "«"}
        </button>
      </nav>
      <header className="topbar">
        <button className="connection-chip" onClick={() => navigate({ page: "connection" })} data-testid="connection-chip" title="Connection">
          <span className="dot ok" aria-hidden="true" />
          <span className="mono">{conn?.target}</span>
          {conn?.read_only && (
            <span className="badge warn" data-testid="read-only" title={conn.read_only_reason ?? undefined}>
              read-only
            </span>
          )}
        </button>
        <form
          className="global-search"
          role="search"
          onSubmit={(e) => {
            e.preventDefault();
            submitSearch();
          }}
        >
          <input
            ref={search}
            type="search"
            placeholder="Search people…  ( / )"
            aria-label="Search people"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            data-testid="global-search"
          />
        </form>
        <div className="actor" data-testid="actor">
          <span>{conn?.actor}</span>
          <span className="badge">{conn?.role}</span>
        </div>
      </header>
      <main className="content">
        {route.page === "dashboard" && <Dashboard navigate={navigate} />}
        {route.page === "people" && <People key={`${route.search ?? ""}|${route.department ?? ""}`} navigate={navigate} initialSearch={route.search ?? ""} initialDepartment={route.department ?? ""} />}
        {route.page === "person" && <Person login={route.login} navigate={navigate} />}
        {route.page === "roles" && <Roles navigate={navigate} />}
        {route.page === "role" && <Role name={route.name} navigate={navigate} />}
        {route.page === "whocan" && <WhoCan navigate={navigate} initial={route.permission ?? ""} />}
        {route.page === "policies" && <Policies navigate={navigate} />}
        {route.page === "findings" && <Findings key={`${route.kind ?? ""}|${route.severity ?? ""}|${route.status ?? ""}`} navigate={navigate} initial={route} />}
        {route.page === "finding" && <Finding key={route.id} id={route.id} navigate={navigate} />}
        {route.page === "reviews" && <Reviews navigate={navigate} officer={conn?.role === "officer"} actor={conn?.actor ?? ""} />}
        {route.page === "campaign" && <Campaign key={route.id} id={route.id} navigate={navigate} officer={conn?.role === "officer"} />}
        {route.page === "inbox" && <Inbox key={route.id} id={route.id} navigate={navigate} />}
        {route.page === "logs" && <Logs key={JSON.stringify(route)} navigate={navigate} initial={route} officer={conn?.role === "officer"} />}
        {route.page === "connection" && conn && <Connection info={conn} onConnected={(c) => { setConn(c); navigate({ page: "dashboard" }); }} />}
        {route.page === "exports" && <Exports officer={conn?.role === "officer"} />}
        {route.page === "audit" && <AuditTrail />}
        {route.page === "coming" && <Coming what={route.what} />}
      </main>
      {help && (
        <div className="help" role="dialog" aria-label="Keyboard shortcuts">
          <h2>Keyboard</h2>
          <dl>
            <dt>/ or Ctrl+K</dt><dd>search</dd>
            <dt>g then d, p, r, w</dt><dd>Dashboard, People, Roles, Who can…</dd>
            <dt>g then o, f, v</dt><dd>Policies, Findings, Reviews</dd>
            <dt>g then l, e, a</dt><dd>Access logs, Exports, Audit trail</dd>
            <dt>j / k, arrows</dt><dd>move in lists</dd>
            <dt>Enter</dt><dd>open</dd>
            <dt>?</dt><dd>this help</dd>
          </dl>
        </div>
      )}
    </div>
  );
}
