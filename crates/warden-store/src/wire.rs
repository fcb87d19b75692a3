//! A minimal MySQL client-protocol reader for Warden's one bulk read: the detectors' scan
//! of the access log. One prepared statement with one bound integer, its binary rows
//! parsed straight out of the socket's buffer. sqlx's per-row machinery (a row object, a
//! stream poll, a shared buffer per row) cost more than the server's own work and the
//! detectors' together; this reads a row for a fraction of that.
//!
//! Only over a Unix socket (nothing to encrypt, so no TLS), with `mysql_native_password`
//! or `caching_sha2_password` (the defaults of MariaDB and MySQL 8). Anything else is
//! [`Refusal::Unsupported`] before a byte of the query is sent, and the caller reads
//! through sqlx instead: the fast path is an optimisation, never a requirement.

use std::path::Path;

use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use crate::connect::ConnectSpec;

const CLIENT_LONG_PASSWORD: u32 = 0x1;
const CLIENT_CONNECT_WITH_DB: u32 = 0x8;
const CLIENT_PROTOCOL_41: u32 = 0x200;
const CLIENT_TRANSACTIONS: u32 = 0x2000;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_MULTI_RESULTS: u32 = 0x2_0000;
const CLIENT_PLUGIN_AUTH: u32 = 0x8_0000;
const CLIENT_DEPRECATE_EOF: u32 = 0x100_0000;
/// utf8mb4_general_ci: the connection's character set (the collation does not matter here).
const UTF8MB4: u8 = 45;
/// A packet of this length continues in the next.
const MAX_PAYLOAD: usize = 0xff_ffff;
/// The largest row assembled from several packets: memory stays bounded whatever the
/// server sends.
const MAX_JOINED: usize = 256 << 20;
/// Connecting and signing in, whole.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The longest wait for the next bytes of an answer: the scan's statement may work a while
/// before its first row, never this long between two reads.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);
/// Round trips in one authentication (a plugin switch, caching_sha2's extra step): a server
/// asking more often is not authenticating.
const MAX_AUTH_ROUNDS: usize = 4;
/// The largest packet before the session is signed in (a greeting, a scramble, a key).
const MAX_AUTH_PACKET: usize = 16 << 10;

/// Why the fast path was not taken, or stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refusal {
    /// Not something this reader does (TCP, TLS, an authentication plugin it lacks):
    /// read through sqlx instead.
    #[error("{0}")]
    Unsupported(String),
    /// The server said no (its error code and message).
    #[error("the server answered {code}: {message}")]
    Server { code: u16, message: String },
    #[error("{0}")]
    Protocol(String),
    /// The socket's server is not one a password may be sent to, or not there.
    #[error("{0}")]
    Untrusted(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

type Result<T> = std::result::Result<T, Refusal>;

fn protocol(what: &str) -> Refusal {
    Refusal::Protocol(format!("unexpected reply from the server: {what}"))
}

/// A column's type code and flags, as its definition gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ColumnType {
    pub code: u8,
    pub unsigned: bool,
}

/// A value bound to a prepared statement's `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param {
    Int(i64),
    /// Text; also a time as `YYYY-MM-DD HH:MM:SS[.ffffff]`, which the server compares
    /// with a temporal column as that time.
    Text(String),
}

/// A connection, authenticated, with the statement's rows coming.
pub(crate) struct Wire {
    socket: UnixStream,
    buf: Vec<u8>,
    /// Parsed up to here; filled up to `buf.len()`.
    pos: usize,
    seq: u8,
    deprecate_eof: bool,
    /// A packet assembled from several (rows of 16 MiB and more).
    joined: Vec<u8>,
    /// The largest packet accepted now: small until signed in.
    limit: usize,
}

impl Wire {
    /// Connects and authenticates as `spec` says, over its Unix socket.
    pub(crate) async fn connect(spec: &ConnectSpec) -> Result<Self> {
        let Some(path) = spec.socket.as_deref() else {
            return Err(Refusal::Unsupported("not a Unix socket".into()));
        };
        let mut wire = Self::open(path).await?;
        // The whole exchange up to a usable session is bounded: a server that stalls or
        // keeps asking (plugin switch after plugin switch) is left, not waited on.
        tokio::time::timeout(HANDSHAKE_TIMEOUT, async {
            wire.handshake(spec).await?;
            // As sqlx's connections: times in UTC, text in UTF-8.
            wire.query("SET time_zone = '+00:00', NAMES utf8mb4").await
        })
        .await
        .map_err(|_| {
            Refusal::Protocol(format!(
                "the server did not complete sign-in within {} s",
                HANDSHAKE_TIMEOUT.as_secs()
            ))
        })??;
        wire.limit = MAX_PAYLOAD;
        Ok(wire)
    }

    async fn open(path: &Path) -> Result<Self> {
        let socket = crate::peer::connect(path, HANDSHAKE_TIMEOUT)
            .await
            .map_err(Refusal::Untrusted)?;
        Ok(Self {
            socket,
            buf: Vec::with_capacity(1 << 20),
            pos: 0,
            seq: 0,
            deprecate_eof: false,
            joined: Vec::new(),
            limit: MAX_AUTH_PACKET,
        })
    }

    /// The next packet's payload.
    async fn packet(&mut self) -> Result<&[u8]> {
        let (start, len) = self.frame().await?;
        if len < MAX_PAYLOAD {
            return Ok(&self.buf[start..start + len]);
        }
        let mut joined = std::mem::take(&mut self.joined);
        joined.clear();
        joined.extend_from_slice(&self.buf[start..start + len]);
        loop {
            let (start, len) = self.frame().await?;
            if joined.len() + len > MAX_JOINED {
                return Err(Refusal::Protocol("a row over 256 MiB".into()));
            }
            joined.extend_from_slice(&self.buf[start..start + len]);
            if len < MAX_PAYLOAD {
                break;
            }
        }
        self.joined = joined;
        Ok(&self.joined)
    }

    /// Reads one frame into the buffer: where its payload starts, and its length.
    async fn frame(&mut self) -> Result<(usize, usize)> {
        self.fill(4).await?;
        let h = &self.buf[self.pos..self.pos + 4];
        let len = usize::from(h[0]) | usize::from(h[1]) << 8 | usize::from(h[2]) << 16;
        if len > self.limit {
            return Err(Refusal::Protocol(format!(
                "a packet of {len} bytes where at most {} are expected",
                self.limit
            )));
        }
        // Packets of one exchange are numbered in turn: another number is a lost packet,
        // or bytes that are not the server's answer.
        if h[3] != self.seq {
            return Err(Refusal::Protocol(format!(
                "a packet out of sequence (number {}, expected {})",
                h[3], self.seq
            )));
        }
        self.seq = self.seq.wrapping_add(1);
        self.fill(4 + len).await?;
        let start = self.pos + 4;
        self.pos = start + len;
        Ok((start, len))
    }

    /// Makes `n` bytes past `pos` available.
    async fn fill(&mut self, n: usize) -> Result<()> {
        if self.buf.len() - self.pos >= n {
            return Ok(());
        }
        // Keep what is unread at the front, then read until there is enough.
        self.buf.drain(..self.pos);
        self.pos = 0;
        if self.buf.capacity() < n {
            self.buf.reserve(n - self.buf.len());
        }
        while self.buf.len() < n {
            let spare = self.buf.capacity().max(1 << 20) - self.buf.len();
            self.buf.reserve(spare);
            let read = tokio::time::timeout(
                READ_TIMEOUT,
                (&mut self.socket)
                    .take(spare as u64)
                    .read_buf(&mut self.buf),
            )
            .await
            .map_err(|_| {
                Refusal::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer within {} s", READ_TIMEOUT.as_secs()),
                ))
            })??;
            if read == 0 {
                return Err(Refusal::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
        }
        Ok(())
    }

    async fn send(&mut self, payload: &[u8]) -> Result<()> {
        // Commands and the handshake are small; larger is a bug, not a case.
        if payload.len() >= MAX_PAYLOAD {
            return Err(Refusal::Protocol("a command too long to send".into()));
        }
        let len = payload.len() as u32;
        let mut frame = Vec::with_capacity(payload.len() + 4);
        frame.extend_from_slice(&len.to_le_bytes()[..3]);
        frame.push(self.seq);
        frame.extend_from_slice(payload);
        self.socket.write_all(&frame).await?;
        self.seq = self.seq.wrapping_add(1);
        Ok(())
    }

    async fn command(&mut self, payload: &[u8]) -> Result<()> {
        self.seq = 0;
        self.send(payload).await
    }

    async fn handshake(&mut self, spec: &ConnectSpec) -> Result<()> {
        let greeting = self.packet().await?.to_vec();
        if greeting.first() == Some(&0xff) {
            return Err(server_error(&greeting));
        }
        let mut r = Reader(&greeting);
        if r.u8()? != 10 {
            return Err(protocol("a handshake of another protocol version"));
        }
        r.nul_str()?; // server version
        r.take(4)?; // connection id
        let mut scramble = r.take(8)?.to_vec();
        r.take(1)?;
        let caps_low = u32::from(r.u16()?);
        r.take(3)?; // character set, status
        let caps = caps_low | u32::from(r.u16()?) << 16;
        let data_len = usize::from(r.u8()?);
        r.take(10)?;
        if caps & CLIENT_SECURE_CONNECTION != 0 {
            let rest = data_len.saturating_sub(8).max(13);
            let part = r.take(rest)?;
            scramble.extend_from_slice(part.strip_suffix(&[0]).unwrap_or(part));
        }
        let plugin = if caps & CLIENT_PLUGIN_AUTH != 0 {
            String::from_utf8_lossy(r.nul_str()?).into_owned()
        } else {
            "mysql_native_password".into()
        };
        let needed = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;
        if caps & needed != needed {
            return Err(Refusal::Unsupported(
                "a server without protocol 4.1 auth".into(),
            ));
        }
        let ours = CLIENT_LONG_PASSWORD
            | CLIENT_CONNECT_WITH_DB
            | CLIENT_PROTOCOL_41
            | CLIENT_TRANSACTIONS
            | CLIENT_SECURE_CONNECTION
            | CLIENT_MULTI_RESULTS
            | CLIENT_PLUGIN_AUTH
            | (caps & CLIENT_DEPRECATE_EOF);
        self.deprecate_eof = ours & CLIENT_DEPRECATE_EOF != 0;
        let password = spec.password.as_ref().map_or("", |p| p.expose());
        let answer = scramble_for(&plugin, password, &scramble)?;
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(&ours.to_le_bytes());
        out.extend_from_slice(&(MAX_PAYLOAD as u32).to_le_bytes());
        out.push(UTF8MB4);
        out.extend_from_slice(&[0; 23]);
        nul_terminated(&mut out, spec.user.as_bytes())?;
        out.push(answer.len() as u8);
        out.extend_from_slice(&answer);
        nul_terminated(&mut out, spec.database.as_bytes())?;
        nul_terminated(&mut out, plugin.as_bytes())?;
        self.send(&out).await?;
        self.authenticated(password, plugin).await
    }

    /// Follows the server through authentication to its OK.
    async fn authenticated(&mut self, password: &str, mut plugin: String) -> Result<()> {
        for _ in 0..MAX_AUTH_ROUNDS {
            let reply = self.packet().await?.to_vec();
            match reply.first() {
                Some(0x00) => return Ok(()),
                Some(0xff) => return Err(server_error(&reply)),
                // Switch to another plugin, with a new scramble.
                Some(0xfe) => {
                    let mut r = Reader(&reply[1..]);
                    plugin = String::from_utf8_lossy(r.nul_str()?).into_owned();
                    let data = r.0;
                    let scramble = data.strip_suffix(&[0]).unwrap_or(data);
                    let answer = scramble_for(&plugin, password, scramble)?;
                    self.send(&answer).await?;
                }
                // caching_sha2_password: 3, the fast path worked (its OK follows); 4, the
                // password is wanted whole, which a Unix socket may carry.
                Some(0x01) if plugin == "caching_sha2_password" => match reply.get(1) {
                    Some(3) => {}
                    Some(4) => {
                        let mut whole = password.as_bytes().to_vec();
                        whole.push(0);
                        self.send(&whole).await?;
                    }
                    _ => return Err(protocol("caching_sha2_password said something else")),
                },
                _ => return Err(protocol("during authentication")),
            }
        }
        Err(protocol("an authentication that does not end"))
    }

    /// Runs a statement that returns no rows (text protocol, no values in it).
    async fn query(&mut self, sql: &str) -> Result<()> {
        let mut out = Vec::with_capacity(sql.len() + 1);
        out.push(0x03);
        out.extend_from_slice(sql.as_bytes());
        self.command(&out).await?;
        let reply = self.packet().await?;
        match reply.first() {
            Some(0x00) => Ok(()),
            Some(0xff) => Err(server_error(reply)),
            _ => Err(protocol("a statement without rows returned some")),
        }
    }

    /// Prepares `sql`, executes it with `params` (one per `?`, in order), and reads the
    /// result set's column definitions: then [`Wire::row`] gives the rows.
    pub(crate) async fn execute(&mut self, sql: &str, params: &[Param]) -> Result<Vec<ColumnType>> {
        let mut out = Vec::with_capacity(sql.len() + 1);
        out.push(0x16);
        out.extend_from_slice(sql.as_bytes());
        self.command(&out).await?;
        let reply = self.packet().await?;
        if reply.first() == Some(&0xff) {
            return Err(server_error(reply));
        }
        let mut r = Reader(reply);
        if r.u8()? != 0 {
            return Err(protocol("a prepared statement's reply"));
        }
        let id = r.u32()?;
        let columns = usize::from(r.u16()?);
        let wanted = usize::from(r.u16()?);
        if wanted != params.len() {
            return Err(Refusal::Protocol(format!(
                "the statement has {wanted} parameters, {} were given",
                params.len()
            )));
        }
        for _ in 0..wanted {
            self.packet().await?;
        }
        if wanted > 0 {
            self.eof().await?;
        }
        for _ in 0..columns {
            self.packet().await?;
        }
        if columns > 0 {
            self.eof().await?;
        }
        self.command(&execute_command(id, params)?).await?;
        let head = self.packet().await?;
        match head.first() {
            Some(0xff) => return Err(server_error(head)),
            Some(0x00) => return Err(protocol("a query that should return rows returned none")),
            _ => {}
        }
        let count = Reader(head).lenenc()?;
        // A result set has at most 4,096 columns; anything else is not a server's answer
        // (and must not become an allocation).
        if count > 4_096 {
            return Err(protocol("a column count"));
        }
        let mut types = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let def = self.packet().await?;
            types.push(column_type(def)?);
        }
        self.eof().await?;
        Ok(types)
    }

    /// Skips the EOF packet that ends a list, unless the session deprecated it.
    async fn eof(&mut self) -> Result<()> {
        if self.deprecate_eof {
            return Ok(());
        }
        let p = self.packet().await?;
        if p.first() == Some(&0xfe) && p.len() < 9 {
            Ok(())
        } else {
            Err(protocol("where an EOF belonged"))
        }
    }

    /// The next binary row (its payload, header byte included), or None after the last.
    pub(crate) async fn row(&mut self) -> Result<Option<&[u8]>> {
        let p = self.packet().await?;
        match p.first() {
            Some(0x00) => Ok(Some(p)),
            Some(0xfe) if p.len() < MAX_PAYLOAD => Ok(None),
            Some(0xff) => Err(server_error(p)),
            _ => Err(protocol("a row")),
        }
    }

    /// Says goodbye (COM_QUIT); the server closes its end.
    pub(crate) async fn quit(mut self) {
        let _ = self.command(&[0x01]).await;
    }
}

/// COM_STMT_EXECUTE of statement `id` with `params`: no cursor, once, no value NULL,
/// each typed (a signed 8-byte integer, or a string).
fn execute_command(id: u32, params: &[Param]) -> Result<Vec<u8>> {
    let mut exec = vec![0x17];
    exec.extend_from_slice(&id.to_le_bytes());
    exec.push(0);
    exec.extend_from_slice(&1u32.to_le_bytes());
    if params.is_empty() {
        return Ok(exec);
    }
    exec.resize(exec.len() + params.len().div_ceil(8), 0); // the NULL bitmap: none
    exec.push(1); // types follow
    for p in params {
        exec.extend_from_slice(match p {
            Param::Int(_) => &[0x08, 0x00],
            Param::Text(_) => &[0xfe, 0x00],
        });
    }
    for p in params {
        match p {
            Param::Int(v) => exec.extend_from_slice(&v.to_le_bytes()),
            Param::Text(t) => {
                let n = t.len();
                match n {
                    0..0xfb => exec.push(n as u8),
                    0xfb..0x1_0000 => {
                        exec.push(0xfc);
                        exec.extend_from_slice(&(n as u16).to_le_bytes());
                    }
                    0x1_0000..0x100_0000 => {
                        exec.push(0xfd);
                        exec.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
                    }
                    _ => return Err(Refusal::Protocol("a value too long to send".into())),
                }
                exec.extend_from_slice(t.as_bytes());
            }
        }
    }
    Ok(exec)
}

/// Splits a binary row into its cells by the columns' types (`out` has one place per
/// column): None for NULL.
pub(crate) fn cells<'r>(
    row: &'r [u8],
    types: &[ColumnType],
    out: &mut [Option<&'r [u8]>],
) -> Result<()> {
    if out.len() != types.len() {
        return Err(protocol("a row of another width"));
    }
    let bitmap_len = (types.len() + 9) / 8;
    let nulls = row
        .get(1..1 + bitmap_len)
        .ok_or_else(|| protocol("a short row"))?;
    let mut r = Reader(&row[1 + bitmap_len..]);
    for (i, (t, cell)) in types.iter().zip(out.iter_mut()).enumerate() {
        let bit = i + 2;
        if nulls[bit / 8] & (1 << (bit % 8)) != 0 {
            *cell = None;
            continue;
        }
        let len = match t.code {
            0x08 | 0x05 => 8,        // BIGINT, DOUBLE
            0x03 | 0x09 | 0x04 => 4, // INT, MEDIUMINT, FLOAT
            0x02 | 0x0d => 2,        // SMALLINT, YEAR
            0x01 => 1,               // TINYINT
            0x06 => 0,               // NULL
            0x07 | 0x0a | 0x0b | 0x0c => {
                // TIMESTAMP, DATE, TIME, DATETIME: a length byte, then that much; the
                // length byte stays on the front, as sqlx gives it.
                let n = usize::from(*r.0.first().ok_or_else(|| protocol("a short row"))?);
                *cell = Some(r.take(n + 1)?);
                continue;
            }
            // text, decimals, blobs, enums, JSON, bits
            _ => usize::try_from(r.lenenc()?).map_err(|_| protocol("a length"))?,
        };
        *cell = Some(r.take(len)?);
    }
    Ok(())
}

/// The type names sqlx gives, for [`crate::logs`]'s reading of a cell.
pub(crate) fn type_name(t: ColumnType) -> &'static str {
    let signed = match t.code {
        0x08 => "BIGINT",
        0x03 => "INT",
        0x09 => "MEDIUMINT",
        0x02 => "SMALLINT",
        0x01 => "TINYINT",
        0x0d => "YEAR",
        0x0c => "DATETIME",
        0x07 => "TIMESTAMP",
        0x0a => "DATE",
        0x0b => "TIME",
        0x04 => "FLOAT",
        0x05 => "DOUBLE",
        0x06 => "NULL",
        0x10 => "BIT",
        0xff => "GEOMETRY",
        _ => "TEXT",
    };
    match (t.unsigned, signed) {
        (true, "BIGINT") => "BIGINT UNSIGNED",
        (true, "INT") => "INT UNSIGNED",
        (true, "MEDIUMINT") => "MEDIUMINT UNSIGNED",
        (true, "SMALLINT") => "SMALLINT UNSIGNED",
        (true, "TINYINT") => "TINYINT UNSIGNED",
        (_, name) => name,
    }
}

/// A column definition packet's type and signedness.
pub(crate) fn column_type(def: &[u8]) -> Result<ColumnType> {
    let mut r = Reader(def);
    for _ in 0..6 {
        let n = r.lenenc()?;
        r.take(usize::try_from(n).map_err(|_| protocol("a length"))?)?; // catalog, schema, table, original table, name, original name
    }
    r.lenenc()?;
    r.take(6)?; // character set, length
    let code = r.u8()?;
    let flags = r.u16()?;
    Ok(ColumnType {
        code,
        unsigned: flags & 0x20 != 0,
    })
}

fn server_error(p: &[u8]) -> Refusal {
    let code = p.get(1..3).map_or(0, |c| u16::from_le_bytes([c[0], c[1]]));
    // `#` and a five-character SQL state precede the message.
    let message = match p.get(3) {
        Some(b'#') => p.get(9..).unwrap_or_default(),
        _ => p.get(3..).unwrap_or_default(),
    };
    Refusal::Server {
        code,
        message: String::from_utf8_lossy(message).into_owned(),
    }
}

fn nul_terminated(out: &mut Vec<u8>, s: &[u8]) -> Result<()> {
    if s.contains(&0) {
        return Err(Refusal::Unsupported("a NUL in a name".into()));
    }
    out.extend_from_slice(s);
    out.push(0);
    Ok(())
}

/// The authentication answer for `plugin` (an empty password answers nothing).
fn scramble_for(plugin: &str, password: &str, scramble: &[u8]) -> Result<Vec<u8>> {
    if password.is_empty() {
        return Ok(Vec::new());
    }
    let xor = |a: &[u8], b: &[u8]| a.iter().zip(b).map(|(x, y)| x ^ y).collect::<Vec<u8>>();
    match plugin {
        // SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password)))
        "mysql_native_password" => {
            let p1 = Sha1::digest(password.as_bytes());
            let p2 = Sha1::digest(p1);
            let mut h = Sha1::new();
            h.update(scramble);
            h.update(p2);
            Ok(xor(&p1, &h.finalize()))
        }
        // SHA256(password) XOR SHA256(SHA256(SHA256(password)) + scramble)
        "caching_sha2_password" => {
            let p1 = Sha256::digest(password.as_bytes());
            let p2 = Sha256::digest(p1);
            let mut h = Sha256::new();
            h.update(p2);
            h.update(scramble);
            Ok(xor(&p1, &h.finalize()))
        }
        other => Err(Refusal::Unsupported(format!("authentication by {other}"))),
    }
}

/// Reads a packet's fields in order.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(protocol("a packet cut short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn nul_str(&mut self) -> Result<&'a [u8]> {
        let end = (self.0.iter().position(|&b| b == 0)).ok_or_else(|| protocol("a string"))?;
        let s = self.take(end)?;
        self.take(1)?;
        Ok(s)
    }

    /// A length-encoded integer.
    fn lenenc(&mut self) -> Result<u64> {
        let le = |b: &[u8]| b.iter().rev().fold(0u64, |n, &x| n << 8 | u64::from(x));
        Ok(match self.u8()? {
            n @ 0..=0xfa => u64::from(n),
            0xfc => le(self.take(2)?),
            0xfd => le(self.take(3)?),
            0xfe => le(self.take(8)?),
            _ => return Err(protocol("a length")),
        })
    }
}

#[cfg(test)]
mod tests;
