// One typed door to the Rust side: a command name that does not exist, or arguments of the
// wrong shape, fail to compile.
import { invoke } from "@tauri-apps/api/core";
import type { IpcError } from "../bindings/IpcError";
import type { Commands } from "./commands";

export type { Commands };
export type CommandName = keyof Commands;

export function isIpcError(e: unknown): e is IpcError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

/** Sent on the window when a call finds the app locked. */
export const LOCKED_EVENT = "warden:locked";

/** Calls a Rust command; rejects with an `IpcError` ({code, message}). */
export async function call<K extends CommandName>(
  cmd: K,
  args: Commands[K]["args"],
): Promise<Commands[K]["result"]> {
  try {
    return await invoke<Commands[K]["result"]>(cmd, args);
  } catch (e) {
    if (isIpcError(e)) {
      // Locked after the idle time: the app hides the page and asks for the password.
      if (e.code === "locked") window.dispatchEvent(new Event(LOCKED_EVENT));
      throw e;
    }
    const err: IpcError = { code: "internal", message: String(e), detail: null };
    throw err;
  }
}
