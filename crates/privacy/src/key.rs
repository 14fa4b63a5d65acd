//! Keyed hashing: the pseudonym of a value and the non-secret id of a key (HMAC-SHA256). The
//! plan, the masking and the scorer all use it; it uses none of them.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn hmac_hex(key: &[u8], value: &[u8], bytes: usize) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(value);
    hex::encode(&mac.finalize().into_bytes()[..bytes])
}

/// A non-secret fingerprint of a key: 16 hex characters of HMAC(key, fixed label).
pub fn key_id(key: &[u8]) -> String {
    hmac_hex(key, b"riskpipe masking key id", 8)
}

/// The key a domain's pseudonyms are made with: HMAC(key, domain label), so pseudonyms of one
/// domain say nothing about another's, and neither reveals the masking key.
pub fn domain_key(key: &[u8], domain: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"riskpipe pseudonym domain\n");
    mac.update(domain.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The AES-256 key of FF1 for `domain`: derived from the domain's key, never the key itself.
pub fn fpe_key(key: &[u8], domain: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(&domain_key(key, domain)).expect("HMAC takes any key length");
    mac.update(b"riskpipe ff1 key");
    mac.finalize().into_bytes().to_vec()
}

/// The keyed pseudonym of one value (32 hex characters).
pub fn pseudonym(key: &[u8], value: &str) -> String {
    hmac_hex(key, value.as_bytes(), 16)
}
