use std::path::PathBuf;

use super::*;

/// A server that is not MariaDB: it writes `frames` (payload, sequence number) as soon
/// as a client connects, then holds the connection open until the client leaves.
async fn hostile_server(name: &str, frames: Vec<(Vec<u8>, u8)>) -> (ConnectSpec, PathBuf) {
    let dir = std::env::temp_dir().join(format!("warden-wire-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s.sock");
    let listener = tokio::net::UnixListener::bind(&path).unwrap();
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        for (payload, seq) in frames {
            let len = (payload.len() as u32).to_le_bytes();
            s.write_all(&[len[0], len[1], len[2], seq]).await.unwrap();
            s.write_all(&payload).await.unwrap();
        }
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink).await;
    });
    let url = format!("mysql://u@localhost/app?socket={}", path.display());
    let mut spec = ConnectSpec::from_url(&url).unwrap();
    spec.password = Some(crate::Secret::new("pw"));
    (spec, dir)
}

fn greeting() -> Vec<u8> {
    let caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;
    let mut g = vec![10];
    g.extend_from_slice(b"10.11.0-not-mariadb\0");
    g.extend_from_slice(&7u32.to_le_bytes());
    g.extend_from_slice(b"abcdefgh\0");
    g.extend_from_slice(&(caps as u16).to_le_bytes());
    g.push(UTF8MB4);
    g.extend_from_slice(&[2, 0]);
    g.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
    g.push(21);
    g.extend_from_slice(&[0; 10]);
    g.extend_from_slice(b"ijklmnopqrst\0");
    g.extend_from_slice(b"mysql_native_password\0");
    g
}

fn switch_to_native() -> Vec<u8> {
    let mut p = vec![0xfe];
    p.extend_from_slice(b"mysql_native_password\0");
    p.extend_from_slice(b"0123456789abcdefghij\0");
    p
}

fn refusal(r: Result<Wire>) -> String {
    match r {
        Ok(_) => panic!("a hostile server was accepted"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn a_packet_out_of_sequence_is_refused() {
    let (spec, dir) = hostile_server("seq", vec![(greeting(), 3)]).await;
    let why = refusal(Wire::connect(&spec).await);
    assert!(
        why.contains("out of sequence (number 3, expected 0)"),
        "{why}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn an_authentication_that_never_ends_is_left() {
    // Plugin switch after plugin switch, each numbered as the client expects.
    let mut frames = vec![(greeting(), 0)];
    frames.extend((1..=8u8).map(|i| (switch_to_native(), 2 * i)));
    let (spec, dir) = hostile_server("rounds", frames).await;
    let why = refusal(Wire::connect(&spec).await);
    assert!(why.contains("does not end"), "{why}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_huge_packet_before_sign_in_is_refused_unread() {
    let (spec, dir) = hostile_server("huge", vec![(vec![10; 1 << 20], 0)]).await;
    let why = refusal(Wire::connect(&spec).await);
    assert!(why.contains("a packet of 1048576 bytes"), "{why}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Time is paused: the runtime jumps to the deadline as soon as only the silent
/// server is left to wait on, so this takes no ten seconds.
#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_is_left_after_the_handshake_timeout() {
    let (spec, dir) = hostile_server("silent", Vec::new()).await;
    let why = refusal(Wire::connect(&spec).await);
    assert!(
        why.contains("did not complete sign-in within 10 s"),
        "{why}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cells_are_split_by_type_with_nulls_from_the_bitmap() {
    let types = [
        ColumnType {
            code: 0x08,
            unsigned: false,
        },
        ColumnType {
            code: 0x0c,
            unsigned: false,
        },
        ColumnType {
            code: 0x03,
            unsigned: true,
        },
        ColumnType {
            code: 0x0f,
            unsigned: false,
        },
    ];
    // Header, bitmap (column 3 NULL: bit 2 + 2 = 4), BIGINT 7, DATETIME 2026-11-28,
    // VARCHAR "ab".
    let mut row = vec![0x00, 0b0001_0000];
    row.extend_from_slice(&7i64.to_le_bytes());
    row.extend_from_slice(&[4, 0xea, 0x07, 11, 28]);
    row.extend_from_slice(&[2, b'a', b'b']);
    let mut out = [None; 4];
    cells(&row, &types, &mut out).unwrap();
    assert_eq!(
        out,
        [
            Some(&7i64.to_le_bytes()[..]),
            Some(&[4, 0xea, 0x07, 11, 28][..]),
            None,
            Some(&b"ab"[..]),
        ]
    );
    assert!(cells(&row[..row.len() - 1], &types, &mut out).is_err());
    assert_eq!(type_name(types[2]), "INT UNSIGNED");
}

#[test]
fn scrambles_match_the_servers_formulas() {
    // mysql_native_password of "secret" with a fixed 20-byte scramble: the server keeps
    // SHA1(SHA1(password)) and checks SHA1(answer XOR SHA1(scramble + stored)) == stored.
    let scramble: Vec<u8> = (1..=20).collect();
    let answer = scramble_for("mysql_native_password", "secret", &scramble).unwrap();
    let stored = Sha1::digest(Sha1::digest(b"secret"));
    let mut h = Sha1::new();
    h.update(&scramble);
    h.update(stored);
    let p1: Vec<u8> = answer
        .iter()
        .zip(h.finalize())
        .map(|(a, b)| a ^ b)
        .collect();
    assert_eq!(Sha1::digest(&p1), stored);
    assert!(
        scramble_for("mysql_native_password", "", &scramble)
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        scramble_for("client_ed25519", "x", &scramble),
        Err(Refusal::Unsupported(_))
    ));
}

/// xorshift64*: the same sequence on every machine for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// A length-encoded integer, as the server writes one.
fn lenenc(out: &mut Vec<u8>, n: usize) {
    match n {
        0..=0xfa => out.push(n as u8),
        0xfb..=0xffff => {
            out.push(0xfc);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        _ => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        }
    }
}

/// Property (issue 18, item 8): the socket reader's decoders answer packets of any bytes
/// without a panic or an allocation they are told to make, and a row encoded from random
/// cells of random types splits back into exactly those cells. `WARDEN_PROPERTY_CASES`
/// cases (2,000 by default), from a fixed seed.
#[test]
fn packets_of_any_bytes_are_decoded_or_refused_and_rows_round_trip() {
    let cases: usize = std::env::var("WARDEN_PROPERTY_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let mut rng = Rng(0x5eed_0007);
    // BIGINT, INT, SMALLINT, TINYINT, DATETIME, VARCHAR, BLOB, NULL
    let codes = [0x08u8, 0x03, 0x02, 0x01, 0x0c, 0x0f, 0xfc, 0x06];
    let mut round_trips = 0;
    for _ in 0..cases {
        let noise = rng.bytes(64);
        let _ = column_type(&noise);
        let _ = server_error(&noise);
        let width = 1 + rng.below(6);
        let types: Vec<ColumnType> = (0..width)
            .map(|_| ColumnType {
                code: codes[rng.below(codes.len())],
                unsigned: rng.below(2) == 0,
            })
            .collect();
        let mut out = vec![None; width];
        let _ = cells(&noise, &types, &mut out);

        // A row as the server encodes it: header, NULL bitmap, then each cell.
        let mut want: Vec<Option<Vec<u8>>> = Vec::new();
        let mut row = vec![0x00];
        let mut bitmap = vec![0u8; (width + 9) / 8];
        let mut body = Vec::new();
        for (i, t) in types.iter().enumerate() {
            if t.code == 0x06 || rng.below(5) == 0 {
                let bit = i + 2;
                bitmap[bit / 8] |= 1 << (bit % 8);
                want.push(None);
                continue;
            }
            let cell = match t.code {
                0x08 => rng.next().to_le_bytes().to_vec(),
                0x03 => (rng.next() as u32).to_le_bytes().to_vec(),
                0x02 => (rng.next() as u16).to_le_bytes().to_vec(),
                0x01 => vec![rng.next() as u8],
                0x0c => {
                    let n = [0usize, 4, 7, 11][rng.below(4)];
                    let mut c = vec![n as u8];
                    c.extend((0..n).map(|_| rng.next() as u8));
                    c
                }
                _ => {
                    // Long enough, at times, to need a two- or three-byte length.
                    let n = [rng.below(250), 251 + rng.below(300), 70_000][rng.below(3)];
                    let text: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                    lenenc(&mut body, text.len());
                    body.extend_from_slice(&text);
                    want.push(Some(text));
                    continue;
                }
            };
            body.extend_from_slice(&cell);
            want.push(Some(cell));
        }
        row.extend_from_slice(&bitmap);
        row.extend_from_slice(&body);
        let mut got = vec![None; width];
        cells(&row, &types, &mut got).unwrap();
        let got: Vec<Option<Vec<u8>>> = got.iter().map(|c| c.map(<[u8]>::to_vec)).collect();
        assert_eq!(got, want);
        round_trips += 1;
        // Cut short anywhere, the same row is refused, never read past its end.
        let cut = rng.below(row.len());
        if cut < row.len() && want.iter().any(Option::is_some) {
            let _ = cells(&row[..cut], &types, &mut out);
        }
    }
    assert_eq!(round_trips, cases);
}
