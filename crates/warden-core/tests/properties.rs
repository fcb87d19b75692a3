//! Property tests of every parser Warden feeds with outside input (issue 18, item 8):
//! policy and mapping TOML, server_audit lines, audit-log JSON and XML, the CSV guard's
//! round trip and globs. Inputs are generated — at random from a fixed seed, and by
//! mutating real documents — for a fixed budget of cases (`WARDEN_PROPERTY_CASES`, 2,000
//! by default), so a run is the same on every machine. Each parser must answer every
//! input without a panic, within its bounds, and round trips must be exact.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::NaiveDate;
use warden_core::auditlog::{self, AuditEvent};
use warden_core::csv_guard;
use warden_core::glob::Glob;
use warden_core::mapping::{Mapping, PRESETS};
use warden_core::policy::Policy;

/// How many cases each property runs.
fn cases() -> usize {
    std::env::var("WARDEN_PROPERTY_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

/// xorshift64*: small, fast, and the same sequence everywhere for a seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len())]
    }

    /// A string of up to `max` characters from `alphabet`.
    fn text(&mut self, alphabet: &[char], max: usize) -> String {
        let n = self.below(max + 1);
        (0..n).map(|_| *self.pick(alphabet)).collect()
    }

    /// `seed` with a few random edits: bytes replaced, inserted, deleted, a span
    /// duplicated, or the text cut short. Always valid UTF-8 (edits are on characters).
    fn mutate(&mut self, seed: &str, alphabet: &[char]) -> String {
        let mut chars: Vec<char> = seed.chars().collect();
        for _ in 0..=self.below(4) {
            let at = self.below(chars.len() + 1);
            match self.below(5) {
                0 if at < chars.len() => chars[at] = *self.pick(alphabet),
                1 => chars.insert(at, *self.pick(alphabet)),
                2 if at < chars.len() => {
                    chars.remove(at);
                }
                3 => {
                    let end = (at + self.below(40)).min(chars.len());
                    let span: Vec<char> = chars[at..end].to_vec();
                    chars.splice(at..at, span);
                }
                _ => chars.truncate(at),
            }
        }
        chars.into_iter().collect()
    }
}

/// What TOML, CSV, XML and JSON are made of, and a few characters that are not.
const STRUCTURE: &[char] = &[
    '[', ']', '{', '}', '=', '"', '\'', ',', '\n', ' ', '.', ':', '*', '#', '<', '>', '/', '\\',
    '&', ';', 'a', 'z', '0', '9', '-', '_', 'é', '\u{0}', '\u{202e}', '@',
];

#[test]
fn policies_of_any_text_are_parsed_or_refused_without_a_panic() {
    let seed = include_str!("../../warden-sandbox/src/company-policy.toml");
    assert!(Policy::parse(seed).is_ok());
    let mut rng = Rng::new(0x5eed_0001);
    let mut parsed = 0;
    for _ in 0..cases() {
        let text = match rng.below(4) {
            0 => rng.text(STRUCTURE, 200),
            _ => rng.mutate(seed, STRUCTURE),
        };
        match Policy::parse(&text) {
            Ok(_) => parsed += 1,
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
    assert!(
        parsed > 0,
        "some mutations still parse: the generator reaches valid input"
    );
}

#[test]
fn mappings_parse_or_are_refused_and_round_trip_exactly() {
    let mut rng = Rng::new(0x5eed_0002);
    let seeds: Vec<String> = PRESETS
        .iter()
        .map(|p| toml::to_string(&Mapping::preset(p).unwrap()).unwrap())
        .collect();
    let mut parsed = 0;
    for _ in 0..cases() {
        let seed = rng.pick(&seeds).clone();
        let text = rng.mutate(&seed, STRUCTURE);
        let Ok(m) = Mapping::from_toml(&text) else {
            continue;
        };
        parsed += 1;
        // Whatever parses is checked (never a panic) and written back to the same mapping.
        let _ = m.check_shape();
        let again = toml::to_string(&m).unwrap();
        assert_eq!(Mapping::from_toml(&again).unwrap(), m, "{text}");
    }
    assert!(parsed > 0);
}

/// A server_audit field as the plugin writes it outside quotes: no comma, no quote.
const PLAIN: &[char] = &['a', 'Z', '0', '9', '.', '_', '-', '@', ' ', 'é'];
/// What a quoted object may hold.
const QUOTED: &[char] = &['a', ',', '\'', '\\', ' ', '\n', '\t', 'é', '"', '=', '0'];

/// The object as server_audit quotes it: inside `'…'`, `\` escapes `\`, `'`, and control
/// characters.
fn quote_object(object: &str) -> String {
    let mut out = String::from("'");
    for c in object.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[test]
fn server_audit_lines_round_trip_and_any_line_is_read_or_counted() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let mut rng = Rng::new(0x5eed_0003);
    for n in 0..cases() {
        let user = rng.text(PLAIN, 12).trim().to_string();
        let host = rng.text(PLAIN, 12).trim().to_string();
        let operation = rng.pick(&["QUERY", "READ", "WRITE", "CONNECT"]).to_string();
        let database = rng.text(&['a', 'b', '_', '1'], 8);
        let object: String = rng.text(QUOTED, 60);
        let (connection, query, status) = (
            rng.below(1 << 20) as i64,
            rng.below(1 << 30) as i64,
            rng.below(3000) as i64,
        );
        let line = format!(
            "20261128 10:{:02}:{:02},db1,{user},{host},{connection},{query},{operation},{database},{},{status}",
            rng.below(60),
            rng.below(60),
            quote_object(&object),
        );
        let e: AuditEvent = auditlog::server_audit_line(&line, n as u64 + 1, today)
            .unwrap_or_else(|m| panic!("{line:?}: {}", m.message));
        assert_eq!(
            (e.user.as_str(), e.host.as_str(), e.operation.as_str()),
            (user.as_str(), host.as_str(), operation.as_str()),
            "{line:?}"
        );
        assert_eq!(e.database.as_deref().unwrap_or(""), database, "{line:?}");
        assert_eq!(e.object.as_deref().unwrap_or(""), object, "{line:?}");
        assert_eq!(
            (e.connection_id, e.query_id, e.status),
            (Some(connection), Some(query), Some(status))
        );
        // The same line damaged is read or counted as malformed, never a panic.
        let damaged = rng.mutate(&line, STRUCTURE);
        let _ = auditlog::server_audit_line(&damaged, 1, today);
    }
}

const JSON_SEED: &str = r#"{"audit_record":{"name":"Query","record":"4_2026-11-28T10:00:00","timestamp":"2026-11-28T10:00:02Z","command_class":"select","connection_id":"9","status":0,"sqltext":"select * from customers where id = 1","user":"app[app] @ localhost []","host":"localhost","os_user":"","ip":"10.0.0.5","db":"crm"}}
[{"timestamp":"2026-11-28 10:00:03","id":1,"class":"general","event":"status","connection_id":9,"account":{"user":"app","host":"localhost"},"login":{"user":"app","os":"","ip":"10.0.0.5","proxy":""},"general_data":{"command":"Query","sql_command":"select","query":"select 1","status":0}},
]
"#;

const XML_SEED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<AUDIT>
<AUDIT_RECORD NAME="Query" RECORD="3_2026-11-28T10:00:00" TIMESTAMP="2026-11-28T10:00:00 UTC" COMMAND_CLASS="select" CONNECTION_ID="9" STATUS="0" SQLTEXT="select * from t where a = &quot;x&quot;" USER="app[app] @ localhost []" HOST="localhost" OS_USER="" IP="" DB="crm"/>
 <AUDIT_RECORD>
  <TIMESTAMP>2026-11-28T10:00:02 UTC</TIMESTAMP>
  <NAME>Query</NAME>
  <CONNECTION_ID>9</CONNECTION_ID>
  <STATUS>0</STATUS>
  <SQLTEXT>select 2</SQLTEXT>
  <USER>app</USER>
  <HOST>localhost</HOST>
  <DB>crm</DB>
 </AUDIT_RECORD>
</AUDIT>
"#;

/// An audit-log reader over bytes, each event handed to the callback.
type Reader = fn(&[u8], &mut dyn FnMut(AuditEvent)) -> Result<auditlog::Read, auditlog::Refused>;

/// Reads `text` with `read`; every event it gives lies on a line of the text, and
/// whatever it refuses, it says why.
fn read_any(text: &str, read: Reader) {
    let lines = text.lines().count() as u64 + 1;
    let mut events = Vec::new();
    match read(text.as_bytes(), &mut |e| events.push(e)) {
        Ok(r) => {
            assert!(r.bad.len() <= auditlog::KEPT_MALFORMED);
            assert!(r.through <= lines, "{} > {lines}", r.through);
            assert!(events.iter().all(|e| e.line >= 1 && e.line <= lines));
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

#[test]
fn audit_json_and_xml_of_any_shape_are_read_or_refused_without_a_panic() {
    let mut rng = Rng::new(0x5eed_0004);
    let json: Reader = |b, each| auditlog::read_json(b, each);
    let xml: Reader = |b, each| auditlog::read_xml(b, each);
    let mut seen = 0;
    assert!(auditlog::read_json(JSON_SEED.as_bytes(), |_| seen += 1).is_ok());
    assert!(auditlog::read_xml(XML_SEED.as_bytes(), |_| seen += 1).is_ok());
    assert_eq!(seen, 4, "the seeds are real records");
    for _ in 0..cases() {
        read_any(&rng.mutate(JSON_SEED, STRUCTURE), json);
        read_any(&rng.mutate(XML_SEED, STRUCTURE), xml);
        read_any(&rng.text(STRUCTURE, 300), json);
        read_any(&rng.text(STRUCTURE, 300), xml);
    }
    // A record past the longest read is malformed, not held in memory whole.
    let long = format!(
        "{{\"audit_record\":{{\"name\":\"{}\"}}}}\n",
        "a".repeat(auditlog::MAX_RECORD + 1)
    );
    let read = auditlog::read_json(long.as_bytes(), |_| {}).unwrap();
    assert_eq!(read.malformed, 1);
}

#[test]
fn the_csv_guard_round_trips_every_cell_and_no_guarded_cell_starts_a_formula() {
    let mut rng = Rng::new(0x5eed_0005);
    let alphabet = &[
        '=', '+', '-', '@', '\t', '\r', '\n', '\'', '"', ',', 'a', '1', ' ', 'é', '\u{feff}',
    ];
    let mut cells = Vec::new();
    for _ in 0..cases() {
        let cell = rng.text(alphabet, 8);
        let guarded = csv_guard::guard(&cell);
        assert_eq!(csv_guard::unguard(&guarded), cell, "{cell:?}");
        let first = guarded.chars().next();
        assert!(
            !matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n')),
            "{guarded:?}"
        );
        cells.push(cell);
    }
    // Through the writer every export uses, and back with a CSV reader: the guarded cells.
    for chunk in cells.chunks(7) {
        let mut out =
            warden_core::export::CsvOut::new(Vec::new(), &["a"; 7][..chunk.len()], false).unwrap();
        out.row(chunk.iter()).unwrap();
        let (bytes, _) = out.finish().unwrap();
        let mut reader = csv::ReaderBuilder::new().from_reader(&bytes[..]);
        let record = reader.records().next().unwrap().unwrap();
        let back: Vec<&str> = record.iter().map(csv_guard::unguard).collect();
        assert_eq!(back, chunk, "{:?}", String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn globs_parse_or_say_why_and_match_in_bounded_steps() {
    let mut rng = Rng::new(0x5eed_0006);
    let pattern_chars = &['a', 'b', '.', ':', '*', ' ', '@', '-', '_', '\'', '/'];
    let key_chars = &['a', 'b', '.', ':', ' ', '@', '-'];
    for _ in 0..cases() {
        let pattern = rng.text(pattern_chars, 16);
        let key = rng.text(key_chars, 40);
        match Glob::parse(&pattern) {
            Ok(g) => {
                let _ = g.matches(&key);
                if !pattern.contains('*') {
                    assert!(g.matches(&pattern), "{pattern:?} matches itself");
                    assert_eq!(g.matches(&key), key == pattern, "{pattern:?} / {key:?}");
                }
            }
            Err(why) => assert!(!why.is_empty()),
        }
        assert!(Glob::parse("**").unwrap().matches(&key));
    }
}
