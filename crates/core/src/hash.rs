//! sha256 of files and bytes, as lower-case hex.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

use crate::Result;

/// sha256 of a byte slice.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = fs_err::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Marks the start of a volatile span in an HTML artifact: wall-clock facts (the run date, fit
/// times) that a report must show but that cannot repeat from run to run.
pub const VOLATILE_OPEN: &str = "<span data-volatile>";

/// Wraps text in a volatile span.
pub fn volatile(text: &str) -> String {
    format!("{VOLATILE_OPEN}{text}</span>")
}

/// The bytes that identify an artifact: the file itself, except that in `.html` files the
/// content of every volatile span is left out. Everything else in a run is compared byte for byte.
pub fn canonical(path: &Path, bytes: &[u8]) -> Vec<u8> {
    if path.extension().is_none_or(|e| e != "html") {
        return bytes.to_vec();
    }
    let open = VOLATILE_OPEN.as_bytes();
    let close = b"</span>";
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(i) = find(rest, open) {
        out.extend_from_slice(&rest[..i + open.len()]);
        rest = &rest[i + open.len()..];
        match find(rest, close) {
            Some(j) => rest = &rest[j..],
            None => rest = &[],
        }
    }
    out.extend_from_slice(rest);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// sha256 of an artifact as runs compare it: [`canonical`] bytes for HTML, the file's bytes
/// (streamed) for everything else.
pub fn artifact_sha256(path: &Path) -> Result<String> {
    if path.extension().is_some_and(|e| e == "html") {
        let bytes = fs_err::read(path)?;
        return Ok(sha256_bytes(&canonical(path, &bytes)));
    }
    sha256_file(path)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn volatile_spans_do_not_count_in_html_only() {
        let a = format!(
            "<p>date {}</p><p>fit {} s</p>",
            super::volatile("2026-01-01"),
            super::volatile("1.2")
        );
        let b = format!(
            "<p>date {}</p><p>fit {} s</p>",
            super::volatile("2027-12-31"),
            super::volatile("0.9")
        );
        let html = Path::new("report.html");
        assert_eq!(
            super::canonical(html, a.as_bytes()),
            super::canonical(html, b.as_bytes())
        );
        assert_ne!(
            super::canonical(html, a.as_bytes()),
            super::canonical(html, b.replace("fit", "fat").as_bytes())
        );
        let json = Path::new("metrics.json");
        assert_ne!(
            super::canonical(json, a.as_bytes()),
            super::canonical(json, b.as_bytes())
        );
    }

    #[test]
    fn known_digest() {
        assert_eq!(
            super::sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
