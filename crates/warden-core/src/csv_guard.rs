//! CSV injection guard (OWASP): a cell that a spreadsheet would read as a formula gets a
//! leading `'`, so it shows as the literal text.

/// The characters that make a spreadsheet treat a cell as a formula or a control.
const TRIGGERS: [u8; 7] = [b'=', b'+', b'-', b'@', b'\t', b'\r', b'\n'];

/// Whether a cell needs the guard: it starts with a trigger, or it already looks guarded
/// (a `'` before a trigger), so that [`unguard`] gives back exactly what was written.
pub fn needs_guard(cell: &str) -> bool {
    needs_guard_bytes(cell.as_bytes())
}

/// [`needs_guard`] of a cell's bytes.
#[inline]
pub fn needs_guard_bytes(cell: &[u8]) -> bool {
    // Past any leading `'`, the first other character decides.
    let first = cell.iter().find(|&&b| b != b'\'');
    first.is_some_and(|b| TRIGGERS.contains(b))
}

/// [`guard`] of a cell's bytes.
pub fn guard_bytes(cell: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if needs_guard_bytes(cell) {
        let mut guarded = Vec::with_capacity(cell.len() + 1);
        guarded.push(b'\'');
        guarded.extend_from_slice(cell);
        std::borrow::Cow::Owned(guarded)
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The cell as it must be written to a CSV file.
pub fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    if needs_guard(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The cell as it was before [`guard`]: what a reader that strips the guard gets back.
pub fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralises_formula_triggers_only() {
        assert_eq!(guard("=1+1"), "'=1+1");
        assert_eq!(guard("+33 1"), "'+33 1");
        assert_eq!(guard("-2"), "'-2");
        assert_eq!(guard("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guard("\tx"), "'\tx");
        assert_eq!(guard("\rx"), "'\rx");
        assert_eq!(guard("alice"), "alice");
        assert_eq!(guard(""), "");
        assert_eq!(guard("a=b"), "a=b");
        assert_eq!(guard("\nx"), "'\nx");
        // Text that already looks guarded is guarded again, so unguarding is exact.
        assert_eq!(guard("'=1"), "''=1");
        assert_eq!(guard("'x"), "'x");
        for original in ["'=1", "''=1", "=1", "'x", "'", "''"] {
            assert_eq!(unguard(&guard(original)), original, "{original:?}");
        }
    }

    #[test]
    fn every_payload_of_the_corpus_is_neutralised_and_comes_back_unguarded() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpora/csv/payloads.txt"
        );
        let corpus =
            std::fs::read_to_string(path).expect("the CSV corpus in ../shared/corpora/csv");
        let mut seen = 0;
        for payload in corpus.lines().filter(|l| !l.is_empty()) {
            let guarded = guard(payload);
            let first = guarded.bytes().next().unwrap_or(b' ');
            assert!(!TRIGGERS.contains(&first), "{payload:?} -> {guarded:?}");
            assert_eq!(unguard(&guarded), payload);
            seen += 1;
        }
        assert!(seen >= 15, "the corpus was read ({seen} payloads)");
        // Text that merely starts with a quote is left alone both ways.
        assert_eq!(unguard(&guard("'quoted")), "'quoted");
    }
}
