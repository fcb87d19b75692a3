import type { RoleMember } from "../../bindings/RoleMember";
import type { Navigate } from "../../lib/route";
import { ErrorPanel, Loading } from "../../lib/states";
import { useCall } from "../../lib/useCall";
import { VirtualTable, type Column } from "../../lib/VirtualTable";

const MEMBERS: Column<RoleMember>[] = [
  { key: "login", title: "Login", width: 190, value: (m) => m.login, mono: true },
  { key: "name", title: "Name", width: 200, value: (m) => m.name },
  { key: "department", title: "Department", width: 130, value: (m) => m.department },
  { key: "status", title: "Status", width: 100, value: (m) => m.status },
  { key: "granted_at", title: "Granted at (UTC)", width: 180, value: (m) => m.granted_at, numeric: true },
  { key: "granted_by", title: "Granted by", width: 170, value: (m) => m.granted_by, mono: true },
];

export function Role({ name, navigate }: { name: string; navigate: Navigate }) {
  const [loaded, reload] = useCall("role", { req: { name } }, `role:${name}`);
  return (
    <section className="page">
      <header className="page-head">
        <button className="back" onClick={() => navigate({ page: "roles" })} aria-label="Back to Roles">←</button>
        <h1 data-testid="role-name">{name}</h1>
      </header>
      {loaded.state === "loading" && <Loading rows={6} />}
      {loaded.state === "error" && <ErrorPanel error={loaded.error} onRetry={reload} />}
      {loaded.state === "ready" && (
        <div className="detail">
          <dl className="facts">
            <dt>Owner</dt><dd className="mono" data-testid="role-owner">{loaded.data.owner ?? "none"}</dd>
            <dt>Inherits</dt><dd>{loaded.data.inherits.join(", ") || "nothing"}</dd>
            <dt>Members</dt><dd className="num">{loaded.data.members.length}</dd>
          </dl>
          <h2 className="section-title">Permissions ({loaded.data.permissions.length})</h2>
          <table className="plain" data-testid="role-permissions">
            <thead><tr><th>Permission</th><th>From</th></tr></thead>
            <tbody>
              {loaded.data.permissions.map((p) => (
                <tr key={p.key}>
                  <td><button className="link mono" onClick={() => navigate({ page: "whocan", permission: p.key })}>{p.key}</button></td>
                  <td>{p.inherited_from ? `inherited from ${p.inherited_from}` : "this role"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2 className="section-title">Members ({loaded.data.members.length})</h2>
          <VirtualTable
            label="members"
            columns={MEMBERS}
            rows={loaded.data.members}
            rowKey={(m) => m.login}
            onOpen={(m) => navigate({ page: "person", login: m.login })}
            initialSort={{ key: "login", dir: 1 }}
          />
        </div>
      )}
    </section>
  );
}
