// Closed sets arrive from Rust as string unions; a <select> hands back a plain string.
// `member` finds that string among the set's members, so a page holds a typed value
// without a cast.

/** The member of `all` equal to `value`, or "" (no choice) when there is none. */
export function member<T extends string>(all: readonly T[], value: string): T | "" {
  return all.find((m) => m === value) ?? "";
}
