//! The canonical codec: SCALE (parity-scale-codec) with decode limits.
//!
//! Every variable-length field of a protocol type is a [`BoundedBytes`] or [`BoundedVec`] (or,
//! for [`crate::Event`] and [`crate::Receipt`], is decoded through one) whose decoder reads the
//! length prefix, refuses it when it is over the field's limit or beyond the end of the input,
//! and only then allocates. The exceptions are the payloads of an [`crate::ExecError`] (revert
//! data, method name, message), bounded only by the size limit of the receipt that carries them. Top-level decoding ([`decode_exact`]) also refuses
//! input over the type's size limit before looking at it, and trailing bytes after it, so one
//! value has exactly one encoding.

use alloc::vec::Vec;
use core::{fmt, marker::PhantomData, ops::Deref};
use parity_scale_codec::{Compact, Decode, Encode, Input};

/// A named length limit of a bounded field.
pub trait Limit {
    /// The largest accepted length (bytes for [`BoundedBytes`], items for [`BoundedVec`]).
    const MAX: usize;
    /// What the field is, for error messages ("code", "args").
    const WHAT: &'static str;
    /// The decode error, naming the field and the limit (checked against `MAX` by a test).
    const ERR: &'static str;
}

macro_rules! limits {
    ($($(#[$doc:meta])* $name:ident = $max:path, $what:literal, $err:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
        pub struct $name;
        impl Limit for $name {
            const MAX: usize = $max;
            const WHAT: &'static str = $what;
            const ERR: &'static str = $err;
        }
    )*
        #[cfg(test)]
        pub(crate) const ALL_LIMITS: &[(usize, &str)] = &[$(($max, $err)),*];
    };
}

limits! {
    /// Contract code.
    CodeLimit = crate::limits::MAX_CODE_BYTES, "code", "code is longer than MAX_CODE_BYTES (262144)";
    /// Constructor and call arguments.
    ArgsLimit = crate::limits::MAX_ARGS_BYTES, "args", "args are longer than MAX_ARGS_BYTES (65536)";
    /// Instantiation salt.
    SaltLimit = crate::limits::MAX_SALT_BYTES, "salt", "salt is longer than MAX_SALT_BYTES (32)";
    /// Method name.
    MethodLimit = crate::limits::MAX_METHOD_NAME_BYTES, "method name", "method name is longer than MAX_METHOD_NAME_BYTES (64)";
    /// Transactions of a block.
    BlockTxsLimit = crate::limits::MAX_BLOCK_TXS, "block transactions", "block has more than MAX_BLOCK_TXS (10000) transactions";
    /// Event topics.
    TopicsLimit = crate::limits::MAX_EVENT_TOPICS, "event topics", "event has more than MAX_EVENT_TOPICS (4) topics";
    /// Event data.
    EventDataLimit = crate::limits::MAX_EVENT_DATA_BYTES, "event data", "event data is longer than MAX_EVENT_DATA_BYTES (4096)";
    /// Events of a receipt.
    EventsLimit = crate::limits::MAX_EVENTS_PER_TX, "events", "receipt has more than MAX_EVENTS_PER_TX (256) events";
    /// Return or revert data.
    ReturnDataLimit = crate::limits::MAX_RETURN_DATA_BYTES, "return data", "return data is longer than MAX_RETURN_DATA_BYTES (65536)";
}

/// A value was too long for its bounded field (when building one, not decoding).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is {len} long, over the limit of {max}")]
pub struct LengthError {
    /// The field.
    pub what: &'static str,
    /// Length found.
    pub len: usize,
    /// The limit.
    pub max: usize,
}

fn read_len<L: Limit, I: Input>(input: &mut I) -> Result<usize, parity_scale_codec::Error> {
    let len = usize::try_from(<Compact<u32>>::decode(input)?.0).map_err(|_| L::ERR)?;
    if len > L::MAX {
        return Err(L::ERR.into());
    }
    Ok(len)
}

/// Bytes of at most `L::MAX`; encoded exactly like `Vec<u8>` (compact length, then the bytes).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct BoundedBytes<L>(Vec<u8>, PhantomData<L>);

impl<L: Limit> BoundedBytes<L> {
    /// Wraps `bytes` if they are within the limit.
    pub fn new(bytes: Vec<u8>) -> Result<Self, LengthError> {
        if bytes.len() > L::MAX {
            return Err(LengthError { what: L::WHAT, len: bytes.len(), max: L::MAX });
        }
        Ok(Self(bytes, PhantomData))
    }

    /// The bytes.
    pub fn into_inner(self) -> Vec<u8> {
        self.0
    }
}

impl<L: Limit> TryFrom<Vec<u8>> for BoundedBytes<L> {
    type Error = LengthError;
    fn try_from(bytes: Vec<u8>) -> Result<Self, LengthError> {
        Self::new(bytes)
    }
}

impl<L: Limit> TryFrom<&[u8]> for BoundedBytes<L> {
    type Error = LengthError;
    fn try_from(bytes: &[u8]) -> Result<Self, LengthError> {
        Self::new(bytes.to_vec())
    }
}

impl<L> Deref for BoundedBytes<L> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl<L> fmt::Debug for BoundedBytes<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x")?;
        for b in self.0.iter().take(64) {
            write!(f, "{b:02x}")?;
        }
        if self.0.len() > 64 {
            write!(f, "…({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

impl<L> Encode for BoundedBytes<L> {
    fn size_hint(&self) -> usize {
        self.0.size_hint()
    }
    fn encode_to<T: parity_scale_codec::Output + ?Sized>(&self, dest: &mut T) {
        self.0.encode_to(dest)
    }
}

impl<L: Limit> Decode for BoundedBytes<L> {
    fn decode<I: Input>(input: &mut I) -> Result<Self, parity_scale_codec::Error> {
        let len = read_len::<L, I>(input)?;
        if let Some(remaining) = input.remaining_len()?
            && len > remaining
        {
            return Err("length prefix runs past the end of the input".into());
        }
        let mut bytes = alloc::vec![0u8; len];
        input.read(&mut bytes)?;
        Ok(Self(bytes, PhantomData))
    }
}

/// A vector of at most `L::MAX` items; encoded exactly like `Vec<T>`.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct BoundedVec<T, L>(Vec<T>, PhantomData<L>);

impl<T, L: Limit> BoundedVec<T, L> {
    /// Wraps `items` if there are not too many.
    pub fn new(items: Vec<T>) -> Result<Self, LengthError> {
        if items.len() > L::MAX {
            return Err(LengthError { what: L::WHAT, len: items.len(), max: L::MAX });
        }
        Ok(Self(items, PhantomData))
    }

    /// The items.
    pub fn into_inner(self) -> Vec<T> {
        self.0
    }
}

impl<T, L> Deref for BoundedVec<T, L> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: fmt::Debug, L> fmt::Debug for BoundedVec<T, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<T: Encode, L> Encode for BoundedVec<T, L> {
    fn size_hint(&self) -> usize {
        self.0.size_hint()
    }
    fn encode_to<O: parity_scale_codec::Output + ?Sized>(&self, dest: &mut O) {
        self.0.encode_to(dest)
    }
}

impl<T: Decode, L: Limit> Decode for BoundedVec<T, L> {
    fn decode<I: Input>(input: &mut I) -> Result<Self, parity_scale_codec::Error> {
        let len = read_len::<L, I>(input)?;
        // Items are at least one byte each in every type we bound, so a prefix larger than the
        // remaining input is refused before any allocation; the vector then grows as items decode.
        if let Some(remaining) = input.remaining_len()?
            && len > remaining
        {
            return Err("length prefix runs past the end of the input".into());
        }
        let mut items = Vec::with_capacity(len.min(64));
        for _ in 0..len {
            items.push(T::decode(input)?);
        }
        Ok(Self(items, PhantomData))
    }
}

/// Why bytes are not a valid encoding of a protocol value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input is larger than the type may ever be.
    #[error("{what} is {len} bytes, over the limit of {max} bytes")]
    TooLarge {
        /// The type being decoded.
        what: &'static str,
        /// Input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes do not decode; the message says where.
    #[error("invalid {what} encoding: {reason}")]
    Malformed {
        /// The type being decoded.
        what: &'static str,
        /// What the decoder refused.
        reason: alloc::string::String,
    },
    /// A valid value followed by extra bytes.
    #[error("{what} encoding has {extra} trailing bytes")]
    TrailingBytes {
        /// The type being decoded.
        what: &'static str,
        /// Bytes left over.
        extra: usize,
    },
}

/// Decodes exactly one `T` from `bytes`: refuses input over `max` bytes before reading it, and
/// input with bytes left over after the value.
pub fn decode_exact<T: Decode>(bytes: &[u8], max: usize, what: &'static str) -> Result<T, DecodeError> {
    if bytes.len() > max {
        return Err(DecodeError::TooLarge { what, len: bytes.len(), max });
    }
    let mut input = bytes;
    let value =
        T::decode(&mut input).map_err(|e| DecodeError::Malformed { what, reason: alloc::format!("{e}") })?;
    if !input.is_empty() {
        return Err(DecodeError::TrailingBytes { what, extra: input.len() });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn every_limit_message_names_its_value() {
        for (max, err) in ALL_LIMITS {
            assert!(err.contains(&alloc::format!("({max})")), "{err:?} should name {max}");
        }
    }

    #[test]
    fn bounded_bytes_refuse_long_prefix_before_allocating() {
        // A compact prefix of 1 GiB followed by nothing.
        let mut bytes = Compact(1u32 << 30).encode();
        bytes.extend_from_slice(&[1, 2, 3]);
        let err = decode_exact::<BoundedBytes<CodeLimit>>(&bytes, usize::MAX, "code").expect_err("refused");
        assert!(err.to_string().contains("MAX_CODE_BYTES (262144)"), "{err}");

        // Within the limit but past the end of the input.
        let mut bytes = Compact(1000u32).encode();
        bytes.extend_from_slice(&[0; 10]);
        let err = decode_exact::<BoundedBytes<CodeLimit>>(&bytes, usize::MAX, "code").expect_err("refused");
        assert!(err.to_string().contains("past the end"), "{err}");
    }

    #[test]
    fn bounded_types_encode_like_vec() {
        let b = BoundedBytes::<SaltLimit>::new(alloc::vec![1, 2, 3]).expect("within the limit");
        assert_eq!(b.encode(), alloc::vec![1u8, 2, 3].encode());
        assert_eq!(BoundedBytes::<SaltLimit>::new(alloc::vec![0; 33]).expect_err("over the limit").max, 32);
        let v = BoundedVec::<u16, TopicsLimit>::new(alloc::vec![7, 8]).expect("within the limit");
        assert_eq!(v.encode(), alloc::vec![7u16, 8].encode());
        assert!(BoundedVec::<u16, TopicsLimit>::new(alloc::vec![0; 5]).is_err());
        let five = alloc::vec![0u16; 5].encode();
        assert!(decode_exact::<BoundedVec<u16, TopicsLimit>>(&five, 100, "topics").is_err());
    }

    #[test]
    fn decode_exact_refuses_size_and_trailing_bytes() {
        assert_eq!(
            decode_exact::<u32>(&[0; 9], 8, "thing"),
            Err(DecodeError::TooLarge { what: "thing", len: 9, max: 8 })
        );
        assert_eq!(
            decode_exact::<u32>(&[0; 5], 8, "thing"),
            Err(DecodeError::TrailingBytes { what: "thing", extra: 1 })
        );
        assert!(matches!(decode_exact::<u32>(&[0; 3], 8, "thing"), Err(DecodeError::Malformed { .. })));
    }
}
