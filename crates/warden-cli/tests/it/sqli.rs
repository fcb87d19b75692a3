//! The SQL injection corpus through the real binary: every line as `users --search` text and
//! as a login to `access`. Valid output or a clean "not found", never a database error, and
//! no table changed.

use crate::support::*;

fn corpus() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/sqli");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the SQL injection corpus in ../shared/corpora/sqli")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            String::from_utf8_lossy(&std::fs::read(f).unwrap())
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// CHECKSUM TABLE of every table in the database.
fn checksums(db: &warden_sandbox::TestDatabase) -> Vec<(String, Option<i64>)> {
    block_on(async {
        let conn = warden_store::Database::connect(&db.spec().unwrap())
            .await
            .unwrap();
        let sums = warden_sandbox::server::table_checksums(&conn)
            .await
            .unwrap();
        assert!(sums.len() > 10, "{sums:?}");
        sums
    })
}

#[test]
fn every_sqli_payload_is_data_to_the_cli() {
    let db = seeded();
    let before = checksums(&db);
    let payloads = corpus();
    assert!(payloads.len() > 1_000);
    let chunks: Vec<Vec<String>> = payloads
        .chunks(payloads.len() / 4 + 1)
        .map(<[String]>::to_vec)
        .collect();
    std::thread::scope(|s| {
        for chunk in &chunks {
            let db = &db;
            s.spawn(move || {
                for p in chunk {
                    let search = format!("--search={p}");
                    let (code, doc) = json(db, &["users", &search]);
                    assert_eq!(code, 0, "users --search {p:?}: {doc}");
                    assert!(doc["users"].is_array());
                    let (code, doc) = json(db, &["access", "--", p]);
                    match code {
                        0 => assert!(doc["user"]["login"].is_string()),
                        2 => assert_eq!(doc["error"]["code"], "not_found", "access {p:?}: {doc}"),
                        other => panic!("access {p:?}: exit {other}: {doc}"),
                    }
                }
            });
        }
    });
    assert_eq!(checksums(&db), before, "no data changed");
}
