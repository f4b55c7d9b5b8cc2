//! Typed events, emitted exactly as docs/abi.md specifies.
//!
//! `#[derive(Event)]` implements [`Event`] for a struct with named fields; up to three fields may
//! be marked `#[indexed]`. An emitted event has
//! - `topics[0] = sha3_256(name)`, computed when the macro expands;
//! - one topic per indexed field, in field order, made by [`topic`]: addresses and hashes as they
//!   are, `bool` and integers SCALE-encoded and zero-padded on the right to 32 bytes, any other
//!   type `sha3_256(SCALE(value))`;
//! - `data` = the SCALE encodings of the other fields, concatenated in order.
//!
//! Emit with [`crate::env::emit`] (`emit(&event)`) or `self.env().emit(event)`.

use alloc::vec::Vec;
use parity_scale_codec::Encode;

use crate::abi::{AbiType, EventDef, topic_is_direct};

/// An event type; implement it with `#[derive(Event)]`.
pub trait Event {
    /// The event's ABI entry (name, fields, which are indexed).
    const DEF: EventDef;
    /// `sha3_256(name)`.
    const TOPIC0: [u8; 32];
    /// Passes the topic of each indexed field, in field order, to `push`.
    fn topics(&self, push: &mut impl FnMut([u8; 32]));
    /// Appends the SCALE encodings of the non-indexed fields, in order, to `out`.
    fn data(&self, out: &mut Vec<u8>);
}

/// The topic of an indexed field of type `T` (see the module documentation).
pub fn topic<T: AbiType + Encode>(value: &T) -> [u8; 32] {
    value.using_encoded(|bytes| {
        if const { topic_is_direct(&T::TY) } {
            let mut out = [0u8; 32];
            let n = bytes.len().min(32);
            out[..n].copy_from_slice(&bytes[..n]);
            out
        } else {
            crate::env::sha3_256(bytes).0
        }
    })
}
