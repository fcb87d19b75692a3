// A reviewer's inbox: their items in one campaign, virtualized, keyboard-driven (j/k to
// move, a to approve, r to revoke, x to select), with bulk decisions.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { IpcError } from "../../bindings/IpcError";
import type { ItemView } from "../../bindings/ItemView";
import type { Verdict } from "../../bindings/Verdict";
import type { Navigate } from "../../lib/route";
import { call } from "../../lib/rpc";
import { Empty, ErrorPanel, Loading } from "../../lib/states";
import { useCall } from "../../lib/useCall";

const ROW = 44;

function newKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function Inbox({ id, navigate }: { id: number; navigate: Navigate }) {
  const [loaded, reload] = useCall("review_items", { req: { campaign: id, reviewer: null, pending: false } }, `inbox-${id}`);
  const [active, setActive] = useState(0);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [comment, setComment] = useState("");
  const [error, setError] = useState<IpcError | null>(null);
  const [busy, setBusy] = useState(false);
  const parent = useRef<HTMLDivElement>(null);
  const items: ItemView[] = useMemo(() => (loaded.state === "ready" ? loaded.data.items : []), [loaded]);
  const pending = items.filter((i) => i.decision === null);
  const virtualizer = useVirtualizer({ count: items.length, getScrollElement: () => parent.current, estimateSize: () => ROW, overscan: 10 });

  const decide = (ids: number[], decision: Verdict) => {
    const open = ids.filter((i) => items.find((x) => x.id === i)?.decision === null);
    if (open.length === 0) return;
    setBusy(true);
    setError(null);
    call("review_decide", { req: { items: open, decision, comment, key: newKey() } }).then(
      () => { setBusy(false); setSelected(new Set()); reload(); },
      (e: IpcError) => { setBusy(false); setError(e); reload(); },
    );
  };
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const move = (to: number) => {
      const next = Math.max(0, Math.min(items.length - 1, to));
      setActive(next);
      virtualizer.scrollToIndex(next);
      e.preventDefault();
    };
    const current = items[active];
    if (e.key === "j" || e.key === "ArrowDown") move(active + 1);
    else if (e.key === "k" || e.key === "ArrowUp") move(active - 1);
    else if (current && e.key === "a") { decide(selected.size ? [...selected] : [current.id], "keep"); e.preventDefault(); }
    else if (current && e.key === "r") { decide(selected.size ? [...selected] : [current.id], "revoke"); e.preventDefault(); }
    else if (current && e.key === "x") {
      setSelected((s) => { const n = new Set(s); if (n.has(current.id)) n.delete(current.id); else n.add(current.id); return n; });
      e.preventDefault();
    }
  };
  const matching = pending.filter((i) => i.baseline === "match" && i.suggestion === "keep").map((i) => i.id);
  return (
    <section className="page">
      <header className="page-head">
        <button className="back" onClick={() => navigate({ page: "campaign", id })} aria-label="Back to the campaign">←</button>
        <h1>My items</h1>
        <span className="badge" data-testid="inbox-pending">{pending.length} pending</span>
      </header>
      <div className="chips">
        <input className="filter-search" placeholder="Comment for your decisions (kept in the audit trail)" value={comment} onChange={(e) => setComment(e.target.value)} maxLength={2000} data-testid="inbox-comment" />
        <button className="primary" disabled={busy || matching.length === 0} onClick={() => decide(matching, "keep")} data-testid="approve-baseline">
          Approve all {matching.length} within baseline
        </button>
        <span className="muted">j/k move · a approve · r revoke · x select</span>
      </div>
      {error && <ErrorPanel error={error} />}
      {loaded.state === "loading" && <Loading />}
      {loaded.state === "error" && <ErrorPanel error={loaded.error} onRetry={reload} />}
      {loaded.state === "ready" && items.length === 0 && <Empty title="Nothing to review here" />}
      {items.length > 0 && (
        <div className="vtable inbox" role="grid" aria-label="review items" aria-rowcount={items.length}>
          <div className="vtable-scroll" ref={parent} tabIndex={0} onKeyDown={onKey} data-testid="inbox-items">
            <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
              {virtualizer.getVirtualItems().map((v) => {
                const item = items[v.index];
                if (!item) return null;
                return (
                  <div key={item.id} role="row" aria-rowindex={v.index + 1} className={"vtable-row inbox-row" + (v.index === active ? " active" : "")} style={{ transform: `translateY(${v.start}px)`, height: ROW }} onClick={() => setActive(v.index)} data-testid={`item-${item.id}`}>
                    <input type="checkbox" aria-label={`select ${item.login} ${item.role}`} checked={selected.has(item.id)} onChange={() => setSelected((s) => { const n = new Set(s); if (n.has(item.id)) n.delete(item.id); else n.add(item.id); return n; })} />
                    <span className="mono inbox-who">{item.login}</span>
                    <span className="mono inbox-role">{item.role}</span>
                    <span className={`sev ${item.suggestion === "revoke" ? "sev-high" : "sev-low"}`}>{item.suggestion}</span>
                    <span className="inbox-reason" title={item.reason}>{item.reason}</span>
                    <span className="inbox-decision" data-testid={`decision-${item.id}`}>{item.decision ?? "pending"}</span>
                  </div>
                );
              })}
            </div>
          </div>
        </div>
      )}
    </section>
  );
}
