//! CSV injection guard (OWASP): a cell that a spreadsheet would read as a formula gets a
//! leading `'`, so it shows as the literal text.

/// The characters that make a spreadsheet treat a cell as a formula or a control.
const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a cell needs the guard.
pub fn needs_guard(cell: &str) -> bool {
    cell.starts_with(TRIGGERS)
}

/// The cell as it must be written to a CSV file.
pub fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    if needs_guard(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
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
    }
}
