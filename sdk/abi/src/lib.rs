//! The contract ABI (docs/abi.md): reads the weft:abi section, encodes JSON arguments to SCALE and decodes results, events and errors.
//!
//! This crate is the reference reader of the ABI document that every contract built with
//! `weft-contract` carries in its `weft:abi` custom section:
//!
//! - [`Abi::from_json`] / [`Abi::from_wasm`] load and validate a document;
//! - [`Abi::encode_args`] turns JSON arguments (an object by name or an array in order) into a
//!   call's input, with errors that name the argument;
//! - [`Abi::decode_value`], [`Abi::decode_revert`] and [`Abi::decode_event`] turn return data,
//!   revert data and events back into JSON;
//! - [`with_abi_section`] attaches a document to a hand-written module.
//!
//! JSON conventions (the table of docs/abi.md): integers up to 64 bits are JSON numbers (a
//! decimal string is accepted on input), `u128`/`i128` decimal strings (a number that fits is
//! accepted on input), `bytes`, `address` and `hash` `0x` hex, options `null` or the value,
//! vectors, arrays and tuples JSON arrays, structs objects, enums `"Variant"` or
//! `{"Variant": {fields}}`.

mod decode;
mod doc;
mod encode;
mod error;
mod wasm;

pub use decode::{DecodedEvent, MAX_EMPTY_VALUES, Revert};
pub use doc::{
    ABI_VERSION, Abi, Arg, Constructor, EventDef, EventField, Field, MAX_ABI_BYTES, MAX_ARRAY_LEN,
    MAX_INDEXED_FIELDS, MAX_TYPE_DEPTH, Method, TypeDef, TypeRef, Variant, event_topic,
};
pub use error::AbiError;
pub use wasm::{abi_section, with_abi_section};
