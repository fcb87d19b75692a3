import { useDeferredValue, useMemo, useState } from "react";
import type { UserSummary } from "../../bindings/UserSummary";
import type { Navigate } from "../../lib/route";
import { Empty, ErrorPanel, Loading } from "../../lib/states";
import { useCall } from "../../lib/useCall";
import { VirtualTable, type Column } from "../../lib/VirtualTable";

const COLUMNS: Column<UserSummary>[] = [
  { key: "login", title: "Login", width: 190, value: (u) => u.login, mono: true },
  { key: "name", title: "Name", width: 200, value: (u) => u.name },
  { key: "department", title: "Department", width: 130, value: (u) => u.department },
  { key: "title", title: "Title", width: 200, value: (u) => u.title },
  { key: "manager", title: "Manager", width: 170, value: (u) => u.manager, mono: true },
  { key: "status", title: "Status", width: 100, value: (u) => u.status },
  { key: "last_login", title: "Last login (UTC)", width: 170, value: (u) => u.last_login?.replace("T", " ").replace("Z", "") ?? null, numeric: true },
];

export function People({
  navigate,
  initialSearch,
  initialDepartment,
}: {
  navigate: Navigate;
  initialSearch: string;
  initialDepartment: string;
}) {
  // Everyone is loaded once; filtering happens here, so typing never waits on the database.
  const [loaded, reload] = useCall("users", { req: { department: null, status: null, search: null } }, "people");
  const [search, setSearch] = useState(initialSearch);
  const [department, setDepartment] = useState(initialDepartment);
  const [status, setStatus] = useState("");
  const deferred = useDeferredValue(search);

  const all = loaded.state === "ready" ? loaded.data.users : [];
  const departments = useMemo(() => [...new Set(all.map((u) => u.department ?? ""))].filter(Boolean).sort(), [all]);
  const statuses = useMemo(() => [...new Set(all.map((u) => u.status))].sort(), [all]);
  const rows = useMemo(() => {
    const needle = deferred.trim().toLowerCase();
    return all.filter(
      (u) =>
        (!department || u.department === department) &&
        (!status || u.status === status) &&
        (!needle ||
          u.login.toLowerCase().includes(needle) ||
          (u.name ?? "").toLowerCase().includes(needle) ||
          (u.email ?? "").toLowerCase().includes(needle)),
    );
  }, [all, deferred, department, status]);

  return (
    <section className="page">
      <header className="page-head">
        <h1>People</h1>
      </header>
      <div className="chips" role="group" aria-label="Filters">
        <input
          type="search"
          className="filter-search"
          placeholder="Filter by login, name or email"
          aria-label="Filter people"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          data-testid="people-search"
        />
        <select aria-label="Department" value={department} onChange={(e) => setDepartment(e.target.value)} data-testid="people-department">
          <option value="">All departments</option>
          {departments.map((d) => (
            <option key={d} value={d}>{d}</option>
          ))}
        </select>
        <select aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value)} data-testid="people-status">
          <option value="">Any status</option>
          {statuses.map((s) => (
            <option key={s} value={s}>{s}</option>
          ))}
        </select>
      </div>
      {loaded.state === "loading" && <Loading />}
      {loaded.state === "error" && <ErrorPanel error={loaded.error} onRetry={reload} />}
      {loaded.state === "ready" && all.length === 0 && (
        <Empty title="No staff users">The application's user table is empty, or the mapping points at the wrong table.</Empty>
      )}
      {loaded.state === "ready" && all.length > 0 && rows.length === 0 && (
        <Empty title="Nobody matches these filters">Clear the search or pick another department.</Empty>
      )}
      {loaded.state === "ready" && rows.length > 0 && (
        <VirtualTable
          label="people"
          columns={COLUMNS}
          rows={rows}
          rowKey={(u) => String(u.id)}
          onOpen={(u) => navigate({ page: "person", login: u.login })}
          initialSort={{ key: "login", dir: 1 }}
        />
      )}
    </section>
  );
}
