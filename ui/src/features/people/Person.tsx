import type { Navigate } from "../../lib/route";
import { ErrorPanel, Loading } from "../../lib/states";
import { useCall } from "../../lib/useCall";

/** The person's recent activity in the application's access log, newest first. */
function Activity({ login, navigate }: { login: string; navigate: Navigate }) {
  const req = {
    source: "app", user: login, department: null, action: null, resource_type: null, resource_id: null,
    outcome: null, since: null, until: null, client_address: null, limit: 20, after: null,
  };
  const [loaded] = useCall("logs_search", { req }, `activity:${login}`);
  if (loaded.state === "loading") return <Loading rows={3} />;
  if (loaded.state === "error") return <p className="muted">No access log to show ({loaded.error.message}).</p>;
  const rows = loaded.data.rows;
  return (
    <>
      {rows.length === 0 ? (
        <p className="muted">No access in the log.</p>
      ) : (
        <table className="plain" data-testid="person-activity">
          <thead><tr><th>Time (UTC)</th><th>Action</th><th>Resource</th><th>Outcome</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td className="num">{r.at?.replace("T", " ").replace("Z", "") ?? ""}</td>
                <td className="mono">{r.action ?? ""}</td>
                <td>{[r.resource_type, r.resource_id].filter(Boolean).join(" ")}</td>
                <td>{r.outcome ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <button className="link" onClick={() => navigate({ page: "logs", user: login, source: "app" })} data-testid="person-activity-all">
        All of {login}'s activity in Access logs
      </button>
    </>
  );
}

export function Person({ login, navigate }: { login: string; navigate: Navigate }) {
  const [loaded, reload] = useCall("access", { req: { login } }, `person:${login}`);
  return (
    <section className="page">
      <header className="page-head">
        <button className="back" onClick={() => navigate({ page: "people" })} aria-label="Back to People">←</button>
        <h1 className="mono" data-testid="person-login">{login}</h1>
      </header>
      {loaded.state === "loading" && <Loading rows={6} />}
      {loaded.state === "error" && <ErrorPanel error={loaded.error} onRetry={reload} />}
      {loaded.state === "ready" && (
        <div className="detail">
          <dl className="facts" data-testid="person-facts">
            <dt>Name</dt><dd data-testid="person-name">{loaded.data.user.name}</dd>
            <dt>Email</dt><dd>{loaded.data.user.email}</dd>
            <dt>Department</dt><dd>{loaded.data.user.department}</dd>
            <dt>Title</dt><dd data-testid="person-title">{loaded.data.user.title}</dd>
            <dt>Manager</dt>
            <dd>
              {loaded.data.user.manager && (
                <button className="link mono" onClick={() => navigate({ page: "person", login: loaded.data.user.manager ?? "" })}>
                  {loaded.data.user.manager}
                </button>
              )}
            </dd>
            <dt>Status</dt><dd>{loaded.data.user.status}{loaded.data.user.superuser ? " · superuser" : ""}</dd>
            <dt>MFA</dt><dd>{loaded.data.user.mfa === null ? "unknown" : loaded.data.user.mfa ? "on" : "off"}</dd>
            <dt>Last login</dt><dd className="num">{loaded.data.user.last_login ?? "never"}</dd>
          </dl>
          <h2 className="section-title">Roles ({loaded.data.roles.length})</h2>
          <table className="plain" data-testid="person-roles">
            <thead><tr><th>Role</th><th>Granted at (UTC)</th><th>Granted by</th></tr></thead>
            <tbody>
              {loaded.data.roles.map((r) => (
                <tr key={`${r.name} @ ${r.scope ?? ""}`}>
                  <td>
                    <button className="link" onClick={() => navigate({ page: "role", name: r.name })}>{r.name}</button>
                    {r.scope !== null && <span className="muted"> @ {r.scope}</span>}
                  </td>
                  <td className="num">{r.granted_at ?? ""}</td>
                  <td className="mono">{r.granted_by ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2 className="section-title">Effective permissions ({loaded.data.permissions.length})</h2>
          {loaded.data.permissions.length === 0 ? (
            <p className="muted">No effective permissions{loaded.data.user.active ? "." : ": inactive users hold nothing."}</p>
          ) : (
            <table className="plain" data-testid="person-permissions">
              <thead><tr><th>Permission</th><th>Via</th></tr></thead>
              <tbody>
                {loaded.data.permissions.map((p) => (
                  <tr key={p.key}>
                    <td className="mono">{p.key}</td>
                    <td>{p.via.join(", ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2 className="section-title">Recent activity</h2>
          <Activity login={login} navigate={navigate} />
        </div>
      )}
    </section>
  );
}
