//! Is it UTF-8? A document in another encoding is refused whole, a DTD in any encoding named.

use std::io::BufRead;

use super::{Refused, count_newlines, declaration};

/// Reads the start of `input` to say whether it is UTF-8 (a byte-order mark is skipped),
/// and refuses anything else as a whole: UTF-16 or UTF-32 (by their byte-order marks, or
/// by the zero bytes ASCII text has in them), or an XML declaration naming another
/// encoding. A DTD in such a document is named as the reason (it is refused for that
/// whatever its encoding).
pub fn check_encoding(input: &mut impl BufRead) -> Result<(), Refused> {
    let head = input.fill_buf().map_err(|e| Refused::Io(e.to_string()))?;
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        input.consume(3);
        return check_declared_encoding(input);
    }
    // By the byte-order mark, else by where ASCII text has its zero bytes.
    let wide = match head {
        [0xFF, 0xFE, 0, 0, ..] => Some(("UTF-32LE", 4, true)),
        [0, 0, 0xFE, 0xFF, ..] => Some(("UTF-32BE", 4, false)),
        [0xFF, 0xFE, ..] => Some(("UTF-16LE", 2, true)),
        [0xFE, 0xFF, ..] => Some(("UTF-16BE", 2, false)),
        [a, 0, 0, 0, ..] if *a != 0 => Some(("UTF-32LE", 4, true)),
        [0, 0, 0, a, ..] if *a != 0 => Some(("UTF-32BE", 4, false)),
        [a, 0, b, 0, ..] if *a != 0 && *b != 0 => Some(("UTF-16LE", 2, true)),
        [0, a, 0, b, ..] if *a != 0 && *b != 0 => Some(("UTF-16BE", 2, false)),
        _ => None,
    };
    let Some((name, width, little)) = wide else {
        return check_declared_encoding(input);
    };
    // What the document says, in ASCII: enough to find a DTD in it.
    let narrow: Vec<u8> = head
        .chunks_exact(width)
        .map(|c| if little { c[0] } else { c[width - 1] })
        .filter(|b| b.is_ascii())
        .collect();
    if let Some(at) = declaration(&narrow) {
        let line = 1 + count_newlines(&narrow[..at]);
        return Err(Refused::Dtd { line });
    }
    Err(Refused::Encoding(format!(
        "the file is {name}, not UTF-8 (as the servers write audit logs): nothing was \
         imported; convert it first, e.g. `iconv -f {name} -t UTF-8 FILE > FILE.utf8`"
    )))
}

/// An XML declaration at the start that names an encoding other than UTF-8 (or its ASCII
/// subset) is refused: the bytes would be read as something they are not.
fn check_declared_encoding(input: &mut impl BufRead) -> Result<(), Refused> {
    let head = input.fill_buf().map_err(|e| Refused::Io(e.to_string()))?;
    let Some(decl) = head.strip_prefix(b"<?xml") else {
        return Ok(());
    };
    let end = memchr::memmem::find(decl, b"?>").unwrap_or(decl.len().min(256));
    let decl = String::from_utf8_lossy(&decl[..end]).to_ascii_lowercase();
    // The pseudo-attribute `encoding`, XML whitespace around its `=`, its quoted value.
    let xml_space = [' ', '\t', '\r', '\n'];
    let value = decl.match_indices("encoding").find_map(|(at, word)| {
        let rest = decl[at + word.len()..].trim_start_matches(xml_space);
        let rest = rest.strip_prefix('=')?.trim_start_matches(xml_space);
        let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        Some(
            rest[1..]
                .split(quote)
                .next()
                .unwrap_or_default()
                .to_string(),
        )
    });
    let Some(name) = value else {
        return Ok(());
    };
    if ["utf-8", "utf8", "us-ascii", "ascii"].contains(&name.as_str()) {
        return Ok(());
    }
    // A DTD is the reason to name, whatever the encoding.
    let head = input.fill_buf().map_err(|e| Refused::Io(e.to_string()))?;
    if let Some(at) = declaration(head) {
        return Err(Refused::Dtd {
            line: 1 + count_newlines(&head[..at]),
        });
    }
    Err(Refused::Encoding(format!(
        "the XML declares encoding `{name}`, not UTF-8: nothing was imported; convert it \
         first, e.g. `iconv -f {name} -t UTF-8 FILE > FILE.utf8`"
    )))
}
