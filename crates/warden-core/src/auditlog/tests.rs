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
