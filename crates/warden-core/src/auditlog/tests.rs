use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

fn server_audit(text: &str) -> (Vec<AuditEvent>, Vec<Malformed>) {
    let mut out = Vec::new();
    let read = read_server_audit(text.as_bytes(), today(), |e| out.push(e)).unwrap();
    (out, read.bad)
}

#[test]
fn server_audit_lines_are_read_quote_aware() {
    let text = "20261128 10:00:01,db1,app,10.0.0.5,42,0,CONNECT,crm,,0\n\
20261128 10:00:02,db1,app,10.0.0.5,42,7,QUERY,crm,'SELECT name, email FROM customers WHERE note = \\'a, b\\'',0\n\
20261128 10:00:02,db1,app,10.0.0.5,42,7,READ,crm,customers,\n\
this is not an audit line\n\
20261128 10:00:03,db1,app,10.0.0.5,42,8,QUERY,crm,'DROP TABLE t',1146\n\
Nov 28 10:00:04 db1 mysql-server_auditing:  db1,root,localhost,43,9,QUERY,,'select 1',0\n";
    let (events, bad) = server_audit(text);
    assert_eq!(events.len(), 5, "{bad:?}");
    assert_eq!(
        bad,
        [Malformed {
            line: 4,
            message:
                "expected a server_audit line: `YYYYMMDD HH:MM:SS,host,user,…` or a syslog line"
                    .into()
        }]
    );
    let q = &events[1];
    assert_eq!(
        q.object.as_deref(),
        Some("SELECT name, email FROM customers WHERE note = 'a, b'")
    );
    assert_eq!((q.user.as_str(), q.host.as_str()), ("app", "10.0.0.5"));
    assert_eq!(
        (q.connection_id, q.query_id, q.status),
        (Some(42), Some(7), Some(0))
    );
    assert_eq!(q.database.as_deref(), Some("crm"));
    assert_eq!(q.line, 2);
    assert_eq!(events[2].object.as_deref(), Some("customers"));
    assert_eq!(events[2].status, None);
    assert_eq!(events[3].status, Some(1146));
    let s = &events[4];
    assert_eq!(
        (s.user.as_str(), s.operation.as_str(), s.line),
        ("root", "QUERY", 6)
    );
    assert_eq!(s.at.to_string(), "2026-11-28 10:00:04");
    // The same line is the same event, wherever it is read.
    let (again, _) = server_audit(&format!("{}\n", text.lines().nth(1).unwrap()));
    assert_eq!(again[0].hash, q.hash);
    // A syslog line from December is last year's.
    let (dec, _) =
        server_audit("Dec 31 23:59:59 db1 mysql-server_auditing: db1,u,h,1,1,QUERY,,'x',0\n");
    assert_eq!(dec[0].at.year(), 2025);
}

#[test]
fn unclosed_quotes_and_short_lines_are_reported_not_guessed() {
    let (events, bad) = server_audit(
        "20261128 10:00:02,db1,app,h,1,2,QUERY,crm,'SELECT 1,0\n20261128 10:00:02,db1,app\n20261128 10:00:02,db1,app,h,x,2,QUERY,crm,'SELECT 1',0\n",
    );
    assert!(events.is_empty());
    let lines: Vec<(u64, &str)> = bad.iter().map(|m| (m.line, m.message.as_str())).collect();
    assert_eq!(
        lines,
        [
            (1, "a quoted field is not closed"),
            (2, "expected 10 fields, found 3"),
            (3, "the connection id `x` is not a number"),
        ]
    );
}

fn xml(text: &str) -> Result<(Vec<AuditEvent>, Vec<Malformed>), Refused> {
    let mut out = Vec::new();
    let read = read_xml(text.as_bytes(), |e| out.push(e))?;
    Ok((out, read.bad))
}

const NEW_STYLE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<AUDIT>
 <AUDIT_RECORD>
  <TIMESTAMP>2026-11-28T10:00:00 UTC</TIMESTAMP>
  <RECORD_ID>1_2026-11-28T10:00:00</RECORD_ID>
  <NAME>Query</NAME>
  <CONNECTION_ID>5</CONNECTION_ID>
  <STATUS>0</STATUS>
  <USER>app[app] @ localhost [127.0.0.1]</USER>
  <HOST>localhost</HOST>
  <IP>127.0.0.1</IP>
  <DB>crm</DB>
  <SQLTEXT>SELECT * FROM customers WHERE name = 'O&apos;Brien' AND note &lt;&gt; '&lt;script&gt;'</SQLTEXT>
 </AUDIT_RECORD>
 <AUDIT_RECORD>
  <TIMESTAMP>2026-11-28T10:00:01 UTC</TIMESTAMP>
  <NAME>Connect</NAME>
  <CONNECTION_ID>6</CONNECTION_ID>
  <STATUS>1045</STATUS>
  <USER>mallory</USER>
  <HOST>evil</HOST>
 </AUDIT_RECORD>
"#;

#[test]
fn xml_records_are_read_from_a_file_still_being_written() {
    // No closing </AUDIT>: every whole record, nothing reported.
    let (events, bad) = xml(NEW_STYLE).unwrap();
    assert_eq!(events.len(), 2);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(
        events[0].object.as_deref(),
        Some("SELECT * FROM customers WHERE name = 'O'Brien' AND note <> '<script>'")
    );
    assert_eq!((events[0].host.as_str(), events[0].line), ("127.0.0.1", 3));
    assert_eq!(
        (events[1].operation.as_str(), events[1].status),
        ("Connect", Some(1045))
    );
    // A record cut short at the end is reported with its line, the rest kept.
    let cut = format!(
        "{NEW_STYLE} <AUDIT_RECORD>\n  <TIMESTAMP>2026-11-28T10:00:02 UTC</TIMESTAMP>\n  <NAME>Qu"
    );
    let (events, bad) = xml(&cut).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].line, 23);
    // Closed, it is the same.
    let (closed, bad) = xml(&format!("{NEW_STYLE}</AUDIT>\n")).unwrap();
    assert_eq!((closed, bad.len()), (events, 0));
}

#[test]
fn old_style_records_carry_their_fields_as_attributes() {
    let text = r#"<AUDIT>
<AUDIT_RECORD NAME="Query" RECORD="3_2026-11-28T10:00:00" TIMESTAMP="2026-11-28T10:00:00 UTC" COMMAND_CLASS="select" CONNECTION_ID="9" STATUS="0" SQLTEXT="select * from t where a = &quot;x&quot;" USER="app[app] @ localhost []" HOST="localhost" OS_USER="" IP="" DB="crm"/>
<AUDIT_RECORD NAME="Quit" TIMESTAMP="2026-11-28T10:00:05 UTC" CONNECTION_ID="9" STATUS="0" USER="app" HOST="localhost" IP="" DB=""/>
</AUDIT>"#;
    let (events, bad) = xml(text).unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0].object.as_deref(),
        Some("select * from t where a = \"x\"")
    );
    assert_eq!(
        (events[0].host.as_str(), events[0].connection_id),
        ("localhost", Some(9))
    );
    assert_eq!(events[1].database, None);
}

#[test]
fn a_record_naming_an_undeclared_entity_is_reported_and_the_rest_read() {
    let text = NEW_STYLE.replace("O&apos;Brien", "&xxe;");
    let (events, bad) = xml(&text).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(bad.len(), 1);
    assert!(bad[0].message.contains("&xxe;"), "{bad:?}");
    assert_eq!(bad[0].line, 3);
}

#[test]
fn every_xxe_document_of_the_corpus_is_refused_for_its_dtd() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/xxe");
    let mut documents = 0;
    let mut with_dtd = 0;
    for f in std::fs::read_dir(dir).expect("the XXE corpus in ../shared/corpora/xxe") {
        let path = f.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).to_string();
        let docs: Vec<String> = if path.extension().is_some_and(|e| e == "xml") {
            vec![text]
        } else {
            text.lines().map(str::to_string).collect()
        };
        for doc in docs {
            documents += 1;
            match xml(&doc) {
                Err(Refused::Dtd { .. }) => with_dtd += 1,
                // A legacy encoding declared, and no DTD: refused for the encoding.
                Err(Refused::Encoding(_)) => {
                    let declares = doc.contains("<!DOCTYPE") || doc.contains("<!ENTITY");
                    assert!(!declares, "{}: {doc}", path.display());
                }
                Err(other) => panic!("{}: {other}", path.display()),
                // Without a DTD there is nothing to refuse; and nothing is an audit record.
                Ok((events, _)) => {
                    let declares = doc.contains("<!DOCTYPE") || doc.contains("<!ENTITY");
                    assert!(!declares, "{}: {doc}", path.display());
                    assert!(events.is_empty(), "{doc}");
                }
            }
        }
    }
    assert!(
        documents > 100 && with_dtd > 50,
        "{documents} documents, {with_dtd} refused"
    );
}

#[test]
fn json_records_of_both_vendors_are_read_line_by_line() {
    let text = r#"[
{ "timestamp": "2026-11-28 10:00:00", "id": 1, "class": "general", "event": "status", "connection_id": 11, "account": { "user": "app", "host": "localhost" }, "login": { "user": "app", "os": "", "ip": "10.1.1.1", "proxy": "" }, "general_data": { "command": "Query", "sql_command": "select", "query": "SELECT * FROM customers WHERE id = 1 OR 1=1 -- ", "status": 0 } },
{ "timestamp": "2026-11-28 10:00:01", "id": 2, "class": "connection", "event": "disconnect", "connection_id": 11, "account": { "user": "app", "host": "localhost" } },
{ "timestamp": "not a time", "class": "x" },
not json at all
]
{"audit_record":{"name":"Query","record":"5_2026-11-28T10:00:02","timestamp":"2026-11-28T10:00:02Z","command_class":"select","connection_id":"12","status":0,"sqltext":"select 1","user":"root[root] @ localhost []","host":"localhost","os_user":"","ip":"","db":"crm"}}
"#;
    let mut events = Vec::new();
    let read = read_json(text.as_bytes(), |e| events.push(e)).unwrap();
    let bad = read.bad;
    assert_eq!(events.len(), 3, "{bad:?}");
    assert_eq!(bad.iter().map(|m| m.line).collect::<Vec<_>>(), [4, 5]);
    assert_eq!(
        events[0].object.as_deref(),
        Some("SELECT * FROM customers WHERE id = 1 OR 1=1 -- ")
    );
    assert_eq!(
        (events[0].host.as_str(), events[0].operation.as_str()),
        ("10.1.1.1", "Query")
    );
    assert_eq!(events[1].operation, "disconnect");
    assert_eq!(
        (events[2].connection_id, events[2].database.as_deref()),
        (Some(12), Some("crm"))
    );
    assert_eq!(events[2].line, 7);
}

#[test]
fn an_unfinished_last_line_or_record_is_left_for_the_next_import() {
    let whole = "20261128 10:00:01,db1,app,h,1,1,QUERY,crm,'select 1',0\n";
    let text = format!("{whole}20261128 10:00:02,db1,app,h,1,2,QUERY,crm,'sel");
    let mut events = Vec::new();
    let read = read_server_audit(text.as_bytes(), today(), |e| events.push(e)).unwrap();
    assert_eq!((events.len(), read.through, read.bad.len()), (1, 1, 0));
    let read = read_server_audit(format!("{text}ect 2',0\n").as_bytes(), today(), |_| {}).unwrap();
    assert_eq!(read.through, 2);
    let cut = format!(
        "{NEW_STYLE} <AUDIT_RECORD>\n  <TIMESTAMP>2026-11-28T10:00:02 UTC</TIMESTAMP>\n  <NA"
    );
    let read = read_xml(cut.as_bytes(), |_| {}).unwrap();
    assert_eq!(read.through, 22, "the lines before the cut record");
    let read = read_xml(NEW_STYLE.as_bytes(), |_| {}).unwrap();
    assert_eq!(read.through, 22);
}

#[test]
fn server_audit_stamps_are_read_exactly() {
    let t = |s: &str| audit_stamp(s.as_bytes()).map(|t| t.to_string());
    assert_eq!(
        t("20261128 09:05:07").as_deref(),
        Some("2026-11-28 09:05:07")
    );
    for bad in [
        "20261128 09:05:0",
        "20261128 09:05:07,",
        "20261128T09:05:07",
        "20261328 09:05:07",
        "20261128 24:05:07",
        "2026112a 09:05:07",
        "20261128 09-05-07",
        "",
    ] {
        assert_eq!(t(bad), None, "{bad}");
    }
    assert_eq!(hash(b"abc").len(), 64);
    assert_eq!(
        hash(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

/// A reader of `n` bytes that counts what was taken from it.
struct Endless {
    left: u64,
    byte: u8,
    taken: std::rc::Rc<std::cell::Cell<u64>>,
}

impl std::io::Read for Endless {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = (out.len() as u64).min(self.left) as usize;
        out[..n].fill(self.byte);
        self.left -= n as u64;
        self.taken.set(self.taken.get() + n as u64);
        Ok(n)
    }
}

fn huge(prefix: &str, byte: u8, n: u64) -> (impl BufRead, std::rc::Rc<std::cell::Cell<u64>>) {
    let taken = std::rc::Rc::new(std::cell::Cell::new(0));
    let body = Endless {
        left: n,
        byte,
        taken: taken.clone(),
    };
    let input = std::io::BufReader::with_capacity(
        1 << 20,
        std::io::Read::chain(std::io::Cursor::new(prefix.as_bytes().to_vec()), body),
    );
    (input, taken)
}

#[test]
fn a_gigabyte_field_or_a_gigabyte_without_markup_is_never_read_whole() {
    const GIB: u64 = 1 << 30;
    // Bounded memory means bounded reading too: the parser is stopped at the budget, long
    // before the gigabyte, with the record named.
    for (prefix, byte) in [
        (
            "<AUDIT>\n<AUDIT_RECORD>\n<NAME>Query</NAME>\n<SQLTEXT>",
            b'a',
        ),
        ("", b'a'),
        ("<AUDIT>\n", b' '),
    ] {
        let (input, taken) = huge(prefix, byte, GIB);
        let mut events = 0;
        let read = read_xml(input, |_| events += 1).unwrap();
        assert_eq!(events, 0);
        assert_eq!(read.malformed, 1, "{prefix:?}: {:?}", read.bad);
        assert!(
            read.bad[0].message.contains("longer than"),
            "{prefix:?}: {:?}",
            read.bad
        );
        assert!(
            taken.get() <= (MAX_RECORD + (3 << 20)) as u64,
            "{prefix:?}: {} bytes read",
            taken.get()
        );
    }
    // A gigabyte line: reported, and the reading goes on after it in bounded memory.
    let (input, _) = huge("", b'x', 64 << 20);
    let input = std::io::Read::chain(
        input,
        "\n20261128 10:00:01,db1,app,h,1,1,QUERY,crm,'select 1',0\n".as_bytes(),
    );
    let mut events = 0;
    let read = read_server_audit(std::io::BufReader::new(input), today(), |_| events += 1).unwrap();
    assert_eq!((events, read.malformed), (1, 1), "{:?}", read.bad);
}

#[test]
fn malformed_lines_are_all_counted_and_the_first_hundred_kept() {
    let mut text = String::new();
    for i in 0..1_000 {
        text.push_str(&format!("not an audit line {i}\n"));
    }
    text.push_str("20261128 10:00:01,db1,app,h,1,1,QUERY,crm,'select 1',0\n");
    let mut events = 0;
    let read = read_server_audit(text.as_bytes(), today(), |_| events += 1).unwrap();
    assert_eq!(
        (events, read.malformed, read.bad.len()),
        (1, 1_000, KEPT_MALFORMED)
    );
    assert_eq!(
        read.bad.iter().map(|m| m.line).collect::<Vec<_>>(),
        (1..=100).collect::<Vec<u64>>()
    );
    let json: String = (0..500).map(|i| format!("{{\"nope\": {i}}}\n")).collect();
    let read = read_json(json.as_bytes(), |_| {}).unwrap();
    assert_eq!((read.malformed, read.bad.len()), (500, KEPT_MALFORMED));
}

#[test]
fn the_dtd_look_ahead_scans_each_byte_about_once() {
    let mut text = String::from("<AUDIT>\n");
    let record = NEW_STYLE.split_once("<AUDIT>\n").unwrap().1;
    while text.len() < 16 << 20 {
        text.push_str(record);
    }
    text.push_str("</AUDIT>\n");
    LOOKED_AT.with(|n| n.set(0));
    let mut events = 0;
    let read = read_xml(
        std::io::BufReader::with_capacity(1 << 20, text.as_bytes()),
        |_| events += 1,
    )
    .unwrap();
    assert_eq!(read.malformed, 0, "{:?}", read.bad);
    assert!(events > 10_000);
    let looked = LOOKED_AT.with(|n| n.get());
    assert!(
        looked < text.len() as u64 * 11 / 10,
        "{looked} bytes scanned for {} in the file",
        text.len()
    );
}

fn utf16(text: &str, little: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend(if little { [0xFF, 0xFE] } else { [0xFE, 0xFF] });
    }
    for u in text.encode_utf16() {
        out.extend(if little {
            u.to_le_bytes()
        } else {
            u.to_be_bytes()
        });
    }
    out
}

fn utf32(text: &str, little: bool) -> Vec<u8> {
    text.chars()
        .flat_map(|c| {
            if little {
                (c as u32).to_le_bytes()
            } else {
                (c as u32).to_be_bytes()
            }
        })
        .collect()
}

#[test]
fn a_document_in_another_encoding_is_refused_whole_and_a_dtd_in_any() {
    let line = "20261128 10:00:01,db1,app,h,1,1,QUERY,crm,'select 1',0\n";
    let dtd = "<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<AUDIT>&x;</AUDIT>\n";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (utf16(line, true, true), "UTF-16LE"),
        (utf16(line, true, false), "UTF-16LE"),
        (utf16(line, false, true), "UTF-16BE"),
        (utf16(line, false, false), "UTF-16BE"),
        (utf32(line, true), "UTF-32LE"),
        (utf32(line, false), "UTF-32BE"),
    ];
    for (bytes, name) in &cases {
        let mut events = 0;
        let refused = read_server_audit(bytes.as_slice(), today(), |_| events += 1).unwrap_err();
        assert!(
            matches!(&refused, Refused::Encoding(m) if m.contains(name)),
            "{name}: {refused}"
        );
        assert_eq!(events, 0);
        assert!(read_json(bytes.as_slice(), |_| {}).is_err(), "{name}");
    }
    for bytes in [
        utf16(dtd, true, true),
        utf16(dtd, false, false),
        utf32(dtd, true),
    ] {
        let refused = read_xml(bytes.as_slice(), |_| {}).unwrap_err();
        assert_eq!(refused, Refused::Dtd { line: 2 }, "{refused}");
    }
    let latin = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<AUDIT></AUDIT>\n";
    let refused = read_xml(latin.as_bytes(), |_| {}).unwrap_err();
    assert!(
        matches!(&refused, Refused::Encoding(m) if m.contains("iso-8859-1")),
        "{refused}"
    );
    // UTF-8, with or without its byte-order mark, is read.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(line.as_bytes());
    let mut events = 0;
    read_server_audit(bom.as_slice(), today(), |_| events += 1).unwrap();
    let mut xml_events = 0;
    let mut with_bom = vec![0xEF, 0xBB, 0xBF];
    with_bom.extend_from_slice(NEW_STYLE.as_bytes());
    read_xml(with_bom.as_slice(), |_| xml_events += 1).unwrap();
    assert_eq!((events, xml_events), (1, 2));
}

#[test]
fn a_declaration_anywhere_is_found_by_the_first_pass_even_across_buffers() {
    let mut text = String::from("<?xml version=\"1.0\"?>\n<AUDIT>\n");
    let record = NEW_STYLE.split_once("<AUDIT>\n").unwrap().1;
    for _ in 0..2_000 {
        text.push_str(record);
    }
    let lines = text.matches('\n').count() as u64;
    let with = format!("{text}<![CDATA[x]]><!eNtItY x \"y\">\n</AUDIT>\n");
    // Small buffers put the marker across a seam wherever it falls.
    for capacity in [7, 8, 9, 64, 4096] {
        let found =
            find_declaration(std::io::BufReader::with_capacity(capacity, with.as_bytes())).unwrap();
        assert_eq!(found, Some(lines + 1), "buffers of {capacity}");
    }
    assert_eq!(find_declaration(text.as_bytes()).unwrap(), None);
}

#[test]
fn elements_nested_past_any_audit_log_stop_the_read() {
    let deep = format!("<AUDIT>\n{}", "<a>".repeat(100_000));
    let read = read_xml(deep.as_bytes(), |_| {}).unwrap();
    assert_eq!(read.malformed, 1);
    assert!(
        read.bad[0].message.contains("nested deeper"),
        "{:?}",
        read.bad
    );
}

#[test]
fn an_encoding_declaration_is_read_as_xml_writes_it() {
    for decl in [
        "<?xml version=\"1.0\"\n   encoding\n = 'UTF-8'?>",
        "<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>",
        "<?xml version=\"1.0\"?>",
    ] {
        let text = format!("{decl}\n{}", NEW_STYLE.split_once('\n').unwrap().1);
        let mut events = 0;
        read_xml(text.as_bytes(), |_| events += 1).unwrap();
        assert_eq!(events, 2, "{decl}");
    }
    let latin = "<?xml version=\"1.0\" encoding\t=\t\"windows-1252\"?>\n<AUDIT/>\n";
    assert!(matches!(
        read_xml(latin.as_bytes(), |_| {}),
        Err(Refused::Encoding(_))
    ));
}
