import { useState } from "react";
import type { Holding } from "../../bindings/Holding";
import type { Navigate } from "../../lib/route";
import { Empty, ErrorPanel, Loading } from "../../lib/states";
import { useCall } from "../../lib/useCall";
import { VirtualTable, type Column } from "../../lib/VirtualTable";

const COLUMNS: Column<Holding>[] = [
  { key: "login", title: "Login", width: 220, value: (h) => h.login, mono: true },
  { key: "via", title: "Through", width: 360, value: (h) => h.via.join(", ") },
];

function Holders({ permission, navigate }: { permission: string; navigate: Navigate }) {
  const [loaded, reload] = useCall("who_can", { req: { permission } }, `whocan:${permission}`);
  if (loaded.state === "loading") return <Loading />;
  if (loaded.state === "error") return <ErrorPanel error={loaded.error} onRetry={reload} />;
  if (loaded.data.users.length === 0) {
    return <Empty title={`Nobody holds ${permission}`}>No active user has it through a role, a direct grant or superuser status.</Empty>;
  }
  return (
    <VirtualTable
      label="holders"
      columns={COLUMNS}
      rows={loaded.data.users}
      rowKey={(h) => h.login}
      onOpen={(h) => navigate({ page: "person", login: h.login })}
      initialSort={{ key: "login", dir: 1 }}
    />
  );
}

export function WhoCan({ navigate, initial }: { navigate: Navigate; initial: string }) {
  const [permissions, reload] = useCall("permissions", {}, "permissions");
  const [permission, setPermission] = useState(initial);
  return (
    <section className="page">
      <header className="page-head">
        <h1>Who can…</h1>
      </header>
      {permissions.state === "loading" && <Loading rows={2} />}
      {permissions.state === "error" && <ErrorPanel error={permissions.error} onRetry={reload} />}
      {permissions.state === "ready" && (
        <>
          <div className="chips">
            <label className="inline-label" htmlFor="permission-pick">Permission</label>
            <select
              id="permission-pick"
              className="mono"
              value={permission}
              onChange={(e) => setPermission(e.target.value)}
              data-testid="whocan-permission"
            >
              <option value="">Pick a permission…</option>
              {permissions.data.permissions.map((p) => (
                <option key={p} value={p}>{p}</option>
              ))}
            </select>
          </div>
          {permission ? (
            <Holders permission={permission} navigate={navigate} />
          ) : (
            <Empty title="Pick a permission">See everyone who holds it, and through which role.</Empty>
          )}
        </>
      )}
    </section>
  );
}
