import { useState, type FormEvent } from "react";
import type { ConnectionInfo } from "../../bindings/ConnectionInfo";
import type { IpcError } from "../../bindings/IpcError";
import { call } from "../../lib/rpc";

/** How long the idle time is, in words. */
function idleWords(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** The lock screen: the page is hidden and the session dropped; the password opens it. */
export function Lock({ info, onUnlocked }: { info: ConnectionInfo; onUnlocked: (c: ConnectionInfo) => void }) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState<IpcError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    call("unlock", { password }).then(
      (c) => {
        setBusy(false);
        setPassword("");
        if (c.connected && !c.locked) onUnlocked(c);
        else setError(c.error);
      },
      (err: IpcError) => {
        setBusy(false);
        setPassword("");
        setError(err);
      },
    );
  };

  return (
    <section className="page lock" data-testid="lock-screen">
      <header className="page-head">
        <h1>Locked</h1>
      </header>
      <p>Warden locked after {idleWords(info.idle_lock_seconds)} without input. Enter your database password to go on.</p>
      <form className="form" onSubmit={submit}>
        <label>
          <span>password</span>
          <input
            type="password"
            required
            autoFocus
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="unlock-password"
          />
        </label>
        {error && (
          <p role="alert" data-testid="unlock-error">
            {error.message}
          </p>
        )}
        <button className="primary" type="submit" disabled={busy} data-testid="unlock">
          Unlock
        </button>
      </form>
    </section>
  );
}
