// TOML syntax highlighting as React elements: the text is split into tokens and each token
// is a text node in a <span>, so nothing the document says can become markup.
import type { ReactNode } from "react";

type Kind = "comment" | "section" | "key" | "string" | "number" | "punct" | "text";

const RULES: [Kind, RegExp][] = [
  ["comment", /^#.*/],
  ["section", /^\[\[?[^\]\n]*\]\]?/],
  ["string", /^"(?:[^"\\\n]|\\.)*"?/],
  ["string", /^'[^'\n]*'?/],
  ["number", /^-?\d+(?:\.\d+)?/],
  ["key", /^[A-Za-z_][A-Za-z0-9_-]*(?=\s*=)/],
  ["punct", /^[=,{}[\]]/],
  ["text", /^\s+/],
  ["text", /^[^\s#"'=,{}[\]]+/],
];

/** Tokens of one line. */
export function tokens(line: string): [Kind, string][] {
  const out: [Kind, string][] = [];
  let rest = line;
  // A section header only counts at the start of a line.
  const atStart = (k: Kind, i: number) => k !== "section" || i === 0;
  while (rest.length > 0) {
    const used = line.length - rest.length;
    let matched = false;
    for (const [kind, re] of RULES) {
      if (!atStart(kind, used)) continue;
      const m = re.exec(rest);
      if (m && m[0].length > 0) {
        out.push([kind, m[0]]);
        rest = rest.slice(m[0].length);
        matched = true;
        break;
      }
    }
    if (!matched) {
      out.push(["text", rest[0] ?? ""]);
      rest = rest.slice(1);
    }
  }
  return out;
}

export function Highlighted({ line }: { line: string }): ReactNode {
  return tokens(line).map(([kind, text], i) =>
    kind === "text" ? text : (
      <span key={i} className={`tok-${kind}`}>
        {text}
      </span>
    ),
  );
}

/** A whole document, read-only, with line numbers and highlighting. */
export function CodeView({ text, label }: { text: string; label: string }) {
  const lines = text.split("\n");
  return (
    <pre className="code" aria-label={label} data-testid="policy-code">
      {lines.map((line, i) => (
        <div key={i} className="code-line">
          <span className="gutter" aria-hidden="true">
            {i + 1}
          </span>
          <span className="code-text">
            <Highlighted line={line} />
          </span>
        </div>
      ))}
    </pre>
  );
}
