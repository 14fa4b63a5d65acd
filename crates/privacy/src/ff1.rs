//! Format-preserving encryption: FF1 of NIST SP 800-38G with AES, for numeral strings whose
//! format must survive masking (a card or account number stays that many digits).
//!
//! Numbers here stay in machine integers: the half `v` of the message must satisfy
//! `radix^v < 2^64` (19 decimal digits, so messages of up to 38), which keeps `b <= 8` bytes,
//! `d <= 12` and every sum below `2^128`. A domain under 1,000,000 values (`radix^n`) is
//! refused, as SP 800-38G Rev. 1 requires.

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockEncrypt, KeyInit};

/// The smallest domain FF1 accepts.
pub const MIN_DOMAIN: u128 = 1_000_000;

/// AES under a 128-, 192- or 256-bit key.
enum Aes {
    A128(Box<aes::Aes128>),
    A192(Box<aes::Aes192>),
    A256(Box<aes::Aes256>),
}

impl Aes {
    fn encrypt(&self, block: &mut [u8; 16]) {
        let b = GenericArray::from_mut_slice(block);
        match self {
            Aes::A128(c) => c.encrypt_block(b),
            Aes::A192(c) => c.encrypt_block(b),
            Aes::A256(c) => c.encrypt_block(b),
        }
    }
}

/// An FF1 cipher: a key and a radix.
pub struct Ff1 {
    aes: Aes,
    radix: u32,
}

impl Ff1 {
    /// A cipher under `key` (16, 24 or 32 bytes) for numerals of `radix` (2 to 36).
    pub fn new(key: &[u8], radix: u32) -> Result<Ff1, String> {
        let aes = match key.len() {
            16 => Aes::A128(Box::new(aes::Aes128::new(GenericArray::from_slice(key)))),
            24 => Aes::A192(Box::new(aes::Aes192::new(GenericArray::from_slice(key)))),
            32 => Aes::A256(Box::new(aes::Aes256::new(GenericArray::from_slice(key)))),
            n => return Err(format!("an AES key has 16, 24 or 32 bytes, not {n}")),
        };
        if !(2..=36).contains(&radix) {
            return Err(format!("radix {radix} is outside 2 to 36"));
        }
        Ok(Ff1 { aes, radix })
    }

    /// `radix^m`, when it fits a u64.
    fn power(&self, m: usize) -> Option<u64> {
        (0..m).try_fold(1u64, |acc, _| acc.checked_mul(u64::from(self.radix)))
    }

    /// Checks a message of `n` numerals: a domain of at least [`MIN_DOMAIN`] values, halves
    /// that fit the integers used.
    pub fn check_len(&self, n: usize) -> Result<(), String> {
        let domain = (0..n).try_fold(1u128, |acc, _| acc.checked_mul(u128::from(self.radix)));
        if domain.is_some_and(|d| d < MIN_DOMAIN) {
            return Err(format!(
                "{n} numerals of radix {} make a domain under 1,000,000 values; FF1 is refused for it",
                self.radix
            ));
        }
        if self.power(n - n / 2).is_none() {
            return Err(format!(
                "{n} numerals are more than this FF1 takes (radix^{} must fit 64 bits)",
                n - n / 2
            ));
        }
        Ok(())
    }

    /// The CBC-MAC of `blocks` (a multiple of 16 bytes) with a zero IV.
    fn prf(&self, blocks: &[u8]) -> [u8; 16] {
        let mut y = [0u8; 16];
        for chunk in blocks.chunks(16) {
            for (a, b) in y.iter_mut().zip(chunk) {
                *a ^= b;
            }
            self.aes.encrypt(&mut y);
        }
        y
    }

    /// Encrypts numerals `x` (each below the radix) under `tweak`.
    pub fn encrypt(&self, x: &[u32], tweak: &[u8]) -> Result<Vec<u32>, String> {
        self.feistel(x, tweak, true)
    }

    /// Decrypts what [`Ff1::encrypt`] gave under the same tweak.
    pub fn decrypt(&self, x: &[u32], tweak: &[u8]) -> Result<Vec<u32>, String> {
        self.feistel(x, tweak, false)
    }

    /// The ten Feistel rounds of FF1, forwards (encryption) or backwards.
    fn feistel(&self, x: &[u32], tweak: &[u8], forwards: bool) -> Result<Vec<u32>, String> {
        let n = x.len();
        self.check_len(n)?;
        if x.iter().any(|d| *d >= self.radix) {
            return Err(format!("a numeral is not below the radix {}", self.radix));
        }
        let (u, v) = (n / 2, n - n / 2);
        let radix = u64::from(self.radix);
        let bits = (v as f64 * f64::from(self.radix).log2()).ceil() as usize;
        let b = bits.div_ceil(8);
        let d = 4 * b.div_ceil(4) + 4;
        let t = tweak.len();
        // P = [1, 2, 1] [radix]^3 [10] [u mod 256] [n]^4 [t]^4.
        let mut p = vec![1u8, 2, 1];
        p.extend_from_slice(&self.radix.to_be_bytes()[1..]);
        p.push(10);
        p.push((u % 256) as u8);
        p.extend_from_slice(&(n as u32).to_be_bytes());
        p.extend_from_slice(&(t as u32).to_be_bytes());
        // y of round i from the half that stays: PRF(P || T || 0s || [i] || [NUM(half)]^b),
        // its first d bytes (S is R alone since d <= 12).
        let y = |i: u8, half: u64| -> u128 {
            let mut msg = p.clone();
            msg.extend_from_slice(tweak);
            msg.extend(std::iter::repeat_n(0u8, (16 - (t + b + 1) % 16) % 16));
            msg.push(i);
            msg.extend_from_slice(&half.to_be_bytes()[8 - b..]);
            self.prf(&msg)[..d]
                .iter()
                .fold(0u128, |acc, &c| (acc << 8) | u128::from(c))
        };
        let modulus = |i: u8| u128::from(self.power(if i.is_multiple_of(2) { u } else { v }).expect("checked"));
        let num = |digits: &[u32]| digits.iter().fold(0u64, |acc, &c| acc * radix + u64::from(c));
        let (mut a, mut bb) = (num(&x[..u]), num(&x[u..]));
        if forwards {
            for i in 0..10u8 {
                let m = modulus(i);
                let c = (u128::from(a) + y(i, bb) % m) % m;
                (a, bb) = (bb, c as u64);
            }
        } else {
            for i in (0..10u8).rev() {
                let m = modulus(i);
                let c = (u128::from(bb) + m - y(i, a) % m) % m;
                (a, bb) = (c as u64, a);
            }
        }
        let digits = |mut value: u64, len: usize| {
            let mut out = vec![0u32; len];
            for slot in out.iter_mut().rev() {
                *slot = (value % radix) as u32;
                value /= radix;
            }
            out
        };
        let mut out = digits(a, u);
        out.extend(digits(bb, v));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numerals(s: &str) -> Vec<u32> {
        s.chars().map(|c| c.to_digit(36).unwrap()).collect()
    }

    fn text(x: &[u32]) -> String {
        x.iter().map(|d| char::from_digit(*d, 36).unwrap()).collect()
    }

    /// The nine samples NIST publishes for FF1 (AES-128, -192, -256; radix 10 and 36).
    #[test]
    fn nist_samples() {
        let k128 = "2B7E151628AED2A6ABF7158809CF4F3C";
        let k192 = "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F";
        let k256 = "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94";
        let (t2, t3) = ("39383736353433323130", "3737373770717273373737");
        let samples = [
            (k128, "", 10, "0123456789", "2433477484"),
            (k128, t2, 10, "0123456789", "6124200773"),
            (k128, t3, 36, "0123456789abcdefghi", "a9tv40mll9kdu509eum"),
            (k192, "", 10, "0123456789", "2830668132"),
            (k192, t2, 10, "0123456789", "2496655549"),
            (k192, t3, 36, "0123456789abcdefghi", "xbj3kv35jrawxv32ysr"),
            (k256, "", 10, "0123456789", "6657667009"),
            (k256, t2, 10, "0123456789", "1001623463"),
            (k256, t3, 36, "0123456789abcdefghi", "xs8a0azh2avyalyzuwd"),
        ];
        for (i, (key, tweak, radix, pt, ct)) in samples.iter().enumerate() {
            let c = Ff1::new(&hex::decode(key).unwrap(), *radix).unwrap();
            let tweak = hex::decode(tweak).unwrap();
            let got = c.encrypt(&numerals(pt), &tweak).unwrap();
            assert_eq!(text(&got), *ct, "sample {}", i + 1);
            assert_eq!(text(&c.decrypt(&got, &tweak).unwrap()), *pt, "sample {} back", i + 1);
        }
    }

    #[test]
    fn small_domains_are_refused() {
        let c = Ff1::new(&[7u8; 32], 10).unwrap();
        assert!(c.encrypt(&numerals("12345"), &[]).unwrap_err().contains("1,000,000"));
        assert!(c.encrypt(&numerals("123456"), &[]).is_ok());
        assert!(c.encrypt(&[1; 40], &[]).is_err());
    }
}
