//! Rendering results as a table (people), JSON (scripts) or CSV (spreadsheets).

use std::io::Write;

use serde::Serialize;
use warden_core::csv_guard;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Rows for the table and CSV formats.
pub struct Table {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[&'static str]) -> Self {
        Self {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}

/// A result that can be shown in every format.
pub trait Render: Serialize {
    fn table(&self) -> Table;
}

pub fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// Prints a result in the chosen format on stdout.
///
/// The document is rendered first and written in one go, so the only I/O error left is the
/// reader of stdout going away, which the caller recognises as such.
pub fn print<R: Render>(format: Format, result: &R) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut buf, result)?;
            writeln!(buf)?;
        }
        Format::Csv => write_csv(&mut buf, &result.table())?,
        Format::Table => write_table(&mut buf, &result.table())?,
    }
    emit(&buf)
}

fn emit(bytes: &[u8]) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// Prints a bare table on stdout.
pub fn print_table(table: &Table) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    write_table(&mut buf, table)?;
    emit(&buf)
}

/// CSV with every field quoted and formula triggers neutralised (OWASP CSV injection).
pub fn write_csv(out: &mut impl Write, table: &Table) -> anyhow::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(out);
    w.write_record(&table.columns)?;
    for row in &table.rows {
        w.write_record(row.iter().map(|c| csv_guard::guard(c).into_owned()))?;
    }
    w.flush()?;
    Ok(())
}

/// Control characters would let data steer the terminal (escape sequences): show them as
/// `\u{..}` instead.
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn write_table(out: &mut impl Write, table: &Table) -> anyhow::Result<()> {
    let rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|r| r.iter().map(|c| terminal_safe(c)).collect())
        .collect();
    let mut widths: Vec<usize> = table.columns.iter().map(|c| c.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count()).min(72);
            }
        }
    }
    let line = |cells: Vec<String>| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let w = widths.get(i).copied().unwrap_or(0);
                let mut c: String = c.chars().take(w).collect();
                if c.chars().count() < w && i + 1 < cells.len() {
                    c.push_str(&" ".repeat(w - c.chars().count()));
                }
                c
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(
        out,
        "{}",
        line(table.columns.iter().map(|c| c.to_uppercase()).collect())
    )?;
    for row in rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_everything_and_guards_formulas() {
        let mut t = Table::new(&["login", "name"]);
        t.row(vec!["=cmd|' /C calc'!A0".into(), "Ada \"A\" L".into()]);
        let mut buf = Vec::new();
        write_csv(&mut buf, &t).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text,
            "\"login\",\"name\"\n\"'=cmd|' /C calc'!A0\",\"Ada \"\"A\"\" L\"\n"
        );
    }

    #[test]
    fn terminal_output_escapes_control_characters() {
        assert_eq!(terminal_safe("a\u{1b}[31mb\n"), "a\\u{1b}[31mb\\u{a}");
    }

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::new(&["a", "bb"]);
        t.row(vec!["xxx".into(), "y".into()]);
        let mut buf = Vec::new();
        write_table(&mut buf, &t).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "A    BB\nxxx  y\n");
    }
}
