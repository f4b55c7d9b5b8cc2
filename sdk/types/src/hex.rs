//! The text form of bytes everywhere in Weft (RPC, ABI values, the CLI, key files): `0x`
//! followed by two hex digits per byte. Read in either case, strictly (the prefix is `0x`, never
//! `0X`); written in lower case. Every parser of such text in the workspace is one of these
//! functions, so every one answers the same input with the same [`ParseHexError`].

use alloc::{string::String, vec, vec::Vec};
use core::fmt;

/// Why a string is not the hex text that was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHexError {
    /// The string does not start with `0x`.
    #[error("expected a 0x-prefixed hex string")]
    MissingPrefix,
    /// A character that is not a hex digit.
    #[error("invalid hex digit {ch:?} at position {position}")]
    InvalidDigit {
        /// The offending character.
        ch: char,
        /// Its character position in the whole string (the prefix counted).
        position: usize,
    },
    /// An odd number of hex digits: not whole bytes.
    #[error("expected an even number of hex digits after 0x, found {found}")]
    OddLength {
        /// Number of digits found after the prefix.
        found: usize,
    },
    /// Whole bytes, but not as many as the fixed-size value has.
    #[error("expected {expected} hex digits after 0x, found {found}")]
    WrongLength {
        /// Number of digits the value takes (two per byte).
        expected: usize,
        /// Number of digits found after the prefix.
        found: usize,
    },
}

/// The bytes of `0x` followed by an even number of hex digits (none is the empty value).
pub fn decode(s: &str) -> Result<Vec<u8>, ParseHexError> {
    let digits = s.strip_prefix("0x").ok_or(ParseHexError::MissingPrefix)?;
    check_digits(digits, 2)?;
    if digits.len() % 2 != 0 {
        return Err(ParseHexError::OddLength { found: digits.len() });
    }
    let mut out = vec![0u8; digits.len() / 2];
    fill(digits, &mut out)?;
    Ok(out)
}

/// The `N` bytes of `0x` followed by exactly `2 * N` hex digits.
pub fn decode_array<const N: usize>(s: &str) -> Result<[u8; N], ParseHexError> {
    let digits = s.strip_prefix("0x").ok_or(ParseHexError::MissingPrefix)?;
    digits_array(digits, 2)
}

/// The `N` bytes of exactly `2 * N` hex digits, with or without `0x`: the form of secret keys,
/// pasted by people or read from key files, where nothing else could be meant.
pub fn decode_array_lenient<const N: usize>(s: &str) -> Result<[u8; N], ParseHexError> {
    match s.strip_prefix("0x") {
        Some(digits) => digits_array(digits, 2),
        None => digits_array(s, 0),
    }
}

/// The `N` bytes of exactly `2 * N` hex digits without a prefix; `offset` is the position of
/// the first digit in the whole string (for [`ParseHexError::InvalidDigit`]).
fn digits_array<const N: usize>(digits: &str, offset: usize) -> Result<[u8; N], ParseHexError> {
    check_digits(digits, offset)?;
    if digits.len() != 2 * N {
        return Err(ParseHexError::WrongLength { expected: 2 * N, found: digits.len() });
    }
    let mut out = [0u8; N];
    fill(digits, &mut out)?;
    Ok(out)
}

/// Refuses the first character that is not a hex digit (checked before the length, so a typo
/// is named as such even when the length is also wrong).
fn check_digits(digits: &str, offset: usize) -> Result<(), ParseHexError> {
    match digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        Some((i, ch)) => Err(ParseHexError::InvalidDigit { ch, position: i + offset }),
        None => Ok(()),
    }
}

/// Decodes checked digits whose count is twice `out`'s length; the hex crate cannot refuse
/// them, but its error is mapped rather than unwrapped.
fn fill(digits: &str, out: &mut [u8]) -> Result<(), ParseHexError> {
    ::hex::decode_to_slice(digits, out)
        .map_err(|_| ParseHexError::WrongLength { expected: 2 * out.len(), found: digits.len() })
}

/// `bytes` as `0x` and lower-case hex digits.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    out.push_str(&::hex::encode(bytes));
    out
}

/// Displays bytes as `0x` and lower-case hex digits, without allocating: through a stack
/// buffer, one write for up to 64 bytes (every hash and address is printed with one write).
#[derive(Clone, Copy)]
pub struct Hex<'a>(pub &'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const BLOCK: usize = 64;
        let mut buf = [0u8; 2 + 2 * BLOCK];
        buf[..2].copy_from_slice(b"0x");
        let mut start = 2;
        let mut rest = self.0;
        loop {
            let (block, tail) = rest.split_at(rest.len().min(BLOCK));
            let end = start + 2 * block.len();
            ::hex::encode_to_slice(block, &mut buf[start..end]).map_err(|_| fmt::Error)?;
            f.write_str(core::str::from_utf8(&buf[..end]).map_err(|_| fmt::Error)?)?;
            if tail.is_empty() {
                return Ok(());
            }
            rest = tail;
            start = 0;
        }
    }
}

impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{format, string::ToString};

    #[test]
    fn bytes_of_any_length() {
        assert_eq!(decode("0x"), Ok(Vec::new()));
        assert_eq!(decode("0x00aBfF"), Ok(vec![0, 0xab, 0xff]));
        assert_eq!(decode("abcd"), Err(ParseHexError::MissingPrefix));
        assert_eq!(decode("0Xabcd"), Err(ParseHexError::MissingPrefix));
        assert_eq!(decode("0xabc"), Err(ParseHexError::OddLength { found: 3 }));
        assert_eq!(decode("0xzz1"), Err(ParseHexError::InvalidDigit { ch: 'z', position: 2 }));
        assert_eq!(decode("0xab é"), Err(ParseHexError::InvalidDigit { ch: ' ', position: 4 }));
    }

    #[test]
    fn fixed_size_values() {
        assert_eq!(decode_array::<2>("0xa0B1"), Ok([0xa0, 0xb1]));
        assert_eq!(decode_array::<2>("0xa0"), Err(ParseHexError::WrongLength { expected: 4, found: 2 }));
        assert_eq!(decode_array::<2>("0xa0b"), Err(ParseHexError::WrongLength { expected: 4, found: 3 }));
        assert_eq!(decode_array::<2>("0xa0bg1"), Err(ParseHexError::InvalidDigit { ch: 'g', position: 5 }));
        assert_eq!(decode_array_lenient::<1>("ff"), Ok([0xff]));
        assert_eq!(decode_array_lenient::<1>("0xfF"), Ok([0xff]));
        assert_eq!(
            decode_array_lenient::<1>("fg"),
            Err(ParseHexError::InvalidDigit { ch: 'g', position: 1 })
        );
        assert_eq!(
            decode_array_lenient::<1>("0xfff"),
            Err(ParseHexError::WrongLength { expected: 2, found: 3 })
        );
        assert_eq!(
            ParseHexError::WrongLength { expected: 64, found: 4 }.to_string(),
            "expected 64 hex digits after 0x, found 4"
        );
    }

    #[test]
    fn written_in_lower_case_and_read_back() {
        let long: Vec<u8> = (0..=200).collect();
        for bytes in [&[][..], &[0xab, 0x01][..], &[7; 64][..], &long[..]] {
            let text = encode(bytes);
            assert_eq!(format!("{}", Hex(bytes)), text);
            assert_eq!(text, text.to_lowercase());
            assert_eq!(decode(&text).as_deref(), Ok(bytes));
        }
    }
}
