// The console audit trail: every change made through Warden, newest first, filtered by
// action, actor and time; the hash chain's state (recomputed on demand) above it; an
// event opened shows its details and hashes as text.
import { useEffect, useRef, useState } from "react";
import type { ChainState } from "../../bindings/ChainState";
import type { EventView } from "../../bindings/EventView";
import type { IpcError } from "../../bindings/IpcError";
import { call } from "../../lib/rpc";
import { Empty, ErrorPanel, Loading } from "../../lib/states";
import { VirtualTable, type Column } from "../../lib/VirtualTable";

const ACTIONS = ["", "policy.", "review.", "finding.", "logs.", "export.", "console_user."];

const COLUMNS: Column<EventView>[] = [
  { key: "seq", title: "Seq", width: 70, value: (e) => e.seq, numeric: true },
  { key: "occurred_at", title: "When (UTC)", width: 240, value: (e) => e.occurred_at.replace("T", " ").replace("Z", ""), numeric: true },
  { key: "actor", title: "Actor", width: 150, value: (e) => e.actor, mono: true },
  { key: "action", title: "Action", width: 170, value: (e) => e.action, mono: true },
  { key: "target", title: "Target", width: 260, value: (e) => e.target },
  { key: "db_account", title: "Database account", width: 170, value: (e) => e.db_account, mono: true },
  { key: "hash", title: "Hash", width: 140, value: (e) => e.hash.slice(0, 16), mono: true },
];

function Chain() {
  const [state, setState] = useState<ChainState | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const [checking, setChecking] = useState(false);
  const check = () => {
    setChecking(true);
    setError(null);
    call("audit_verify", {}).then(
      (s) => { setChecking(false); setState(s); },
      (e: IpcError) => { setChecking(false); setError(e); },
    );
  };
  useEffect(check, []);
  return (
    <div className="preview" role="status" data-testid="chain-state">
      {checking && <span className="muted">Recomputing the chain…</span>}
      {!checking && state && state.ok && (
        <p><span className="badge ok">chain intact</span> {state.events.toLocaleString("en-US")} events, each hash recomputed from the one before it up to the recorded head.</p>
      )}
      {!checking && state && !state.ok && (
        <p><span className="badge danger">chain broken</span> at event {state.first_bad_seq}: {state.reason}</p>
      )}
      <button onClick={check} disabled={checking} data-testid="chain-verify">Verify again</button>
      {error && <ErrorPanel error={error} />}
    </div>
  );
}

export function AuditTrail() {
  const [action, setAction] = useState("");
  const [actor, setActor] = useState("");
  const [since, setSince] = useState("");
  const [events, setEvents] = useState<EventView[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [error, setError] = useState<IpcError | null>(null);
  const [open, setOpen] = useState<EventView | null>(null);

  const req = (before: number | null) => ({
    action: action || null,
    actor: actor.trim() || null,
    target: null,
    since: since.trim() || null,
    until: null,
    limit: 200,
    before,
  });
  // Each load is numbered: a page that arrives after the filters changed is dropped.
  const latest = useRef(0);
  const load = (before: number | null) => {
    setError(null);
    if (before === null) setEvents(null);
    const ticket = ++latest.current;
    call("audit_events", { req: req(before) }).then(
      (page) => {
        if (ticket !== latest.current) return;
        setEvents((old) => (before === null || old === null ? page.events : [...old, ...page.events]));
        setNext(page.next);
      },
      (e: IpcError) => ticket === latest.current && setError(e),
    );
  };
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => load(null), [action, actor, since]);

  return (
    <section className="page">
      <header className="page-head">
        <h1>Audit trail</h1>
      </header>
      <Chain />
      <div className="chips" role="group" aria-label="Filters">
        <select aria-label="Action" value={action} onChange={(e) => setAction(e.target.value)} data-testid="audit-action">
          {ACTIONS.map((a) => <option key={a} value={a}>{a === "" ? "Every action" : a + "*"}</option>)}
        </select>
        <input aria-label="Actor" placeholder="actor" value={actor} onChange={(e) => setActor(e.target.value)} data-testid="audit-actor" />
        <input aria-label="Since (UTC)" placeholder="since YYYY-MM-DD" value={since} onChange={(e) => setSince(e.target.value)} data-testid="audit-since" />
      </div>
      {error && <ErrorPanel error={error} onRetry={() => load(null)} />}
      {events === null && !error && <Loading />}
      {events !== null && events.length === 0 && (
        <Empty title="No events match">
          <p>Widen the filters: every change made through Warden is here.</p>
        </Empty>
      )}
      {events !== null && events.length > 0 && (
        <>
          <VirtualTable columns={COLUMNS} rows={events} rowKey={(e) => String(e.seq)} label="events" onOpen={setOpen} />
          {next !== null && <button onClick={() => load(next)} data-testid="audit-more">Older events</button>}
        </>
      )}
      {open && (
        <div className="detail" role="dialog" aria-label={`Event ${open.seq}`} data-testid="audit-event">
          <h2>Event {open.seq}: <span className="mono">{open.action}</span></h2>
          <dl>
            <dt>When (UTC)</dt><dd>{open.occurred_at}</dd>
            <dt>Actor</dt><dd className="mono">{open.actor}</dd>
            <dt>Database account</dt><dd className="mono">{open.db_account}</dd>
            <dt>Target</dt><dd>{open.target}</dd>
            <dt>Details</dt><dd><pre className="mono" data-testid="audit-details">{open.details}</pre></dd>
            <dt>Previous hash</dt><dd className="mono">{open.prev_hash}</dd>
            <dt>Hash</dt><dd className="mono">{open.hash}</dd>
          </dl>
          <button onClick={() => setOpen(null)}>Close</button>
        </div>
      )}
    </section>
  );
}
