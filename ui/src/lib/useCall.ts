import { useCallback, useEffect, useState } from "react";
import type { IpcError } from "../bindings/IpcError";
import { call, type CommandName, type Commands } from "./rpc";

export type Loaded<T> =
  | { state: "loading" }
  | { state: "error"; error: IpcError }
  | { state: "ready"; data: T };

/** Runs a command when `key` changes; `reload` runs it again. */
export function useCall<K extends CommandName>(
  cmd: K,
  args: Commands[K]["args"] | null,
  key: string,
): [Loaded<Commands[K]["result"]>, () => void] {
  const [loaded, setLoaded] = useState<Loaded<Commands[K]["result"]>>({ state: "loading" });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (args === null) return;
    let live = true;
    setLoaded({ state: "loading" });
    call(cmd, args).then(
      (data) => live && setLoaded({ state: "ready", data }),
      (error: IpcError) => live && setLoaded({ state: "error", error }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [cmd, key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return [loaded, reload];
}
