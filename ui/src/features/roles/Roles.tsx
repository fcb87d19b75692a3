import type { RoleSummary } from "../../bindings/RoleSummary";
import type { Navigate } from "../../lib/route";
import { Empty, ErrorPanel, Loading } from "../../lib/states";
import { useCall } from "../../lib/useCall";
import { VirtualTable, type Column } from "../../lib/VirtualTable";

const COLUMNS: Column<RoleSummary>[] = [
  { key: "name", title: "Role", width: 240, value: (r) => r.name },
  { key: "owner", title: "Owner", width: 180, value: (r) => r.owner, mono: true },
  { key: "members", title: "Members", width: 100, value: (r) => r.members, numeric: true },
  { key: "permissions", title: "Permissions", width: 110, value: (r) => r.permissions, numeric: true },
  { key: "inherits", title: "Inherits", width: 220, value: (r) => r.inherits.join(", ") },
];

export function Roles({ navigate }: { navigate: Navigate }) {
  const [loaded, reload] = useCall("roles", {}, "roles");
  return (
    <section className="page">
      <header className="page-head">
        <h1>Roles</h1>
      </header>
      {loaded.state === "loading" && <Loading />}
      {loaded.state === "error" && <ErrorPanel error={loaded.error} onRetry={reload} />}
      {loaded.state === "ready" && loaded.data.roles.length === 0 && (
        <Empty title="No roles">The application defines no roles, or the mapping points at the wrong table.</Empty>
      )}
      {loaded.state === "ready" && loaded.data.roles.length > 0 && (
        <VirtualTable
          label="roles"
          columns={COLUMNS}
          rows={loaded.data.roles}
          rowKey={(r) => String(r.id)}
          onOpen={(r) => navigate({ page: "role", name: r.name })}
          initialSort={{ key: "name", dir: 1 }}
        />
      )}
    </section>
  );
}
