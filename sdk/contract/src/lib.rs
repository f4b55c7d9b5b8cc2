//! The Weft contract SDK (no_std): host function wrappers, storage collections, the #[contract] macro.
//!
//! A contract is a `cdylib` crate built for `wasm32v1-none`:
//!
//! ```
//! #![cfg_attr(target_arch = "wasm32", no_std)]
//! use weft_contract::prelude::*;
//!
//! #[derive(Encode, Decode, AbiType)]
//! pub enum CounterError { Overflow }
//!
//! #[derive(Event)]
//! pub struct Bumped { #[indexed] pub by: Address, pub value: u64 }
//!
//! #[storage]
//! pub struct Counter { value: Item<u64> }
//!
//! #[contract(events = [Bumped])]
//! impl Counter {
//!     /// Starts at `start`.
//!     #[init]
//!     pub fn new(&mut self, start: u64) { self.value.set(&start) }
//!
//!     /// The current value.
//!     pub fn get(&self) -> u64 { self.value.get_or_default() }
//!
//!     /// Adds one.
//!     pub fn bump(&mut self) -> Result<u64, CounterError> {
//!         let value = self.get().checked_add(1).ok_or(CounterError::Overflow)?;
//!         self.value.set(&value);
//!         self.env().emit(Bumped { by: self.env().caller(), value });
//!         Ok(value)
//!     }
//! }
//! ```
//!
//! - [`storage`](macro@storage) (attribute): the state struct; each field is a collection of
//!   [`storage`](mod@storage).
//! - [`contract`] (attribute, on the inherent `impl`): every `pub fn` becomes an export (`&self`:
//!   read-only, `&mut self`: state-changing); `#[init]` marks the constructor (export `init`),
//!   `#[migrate]` the migration an upgrade to this code runs (export `migrate`, taking the
//!   upgrade's arguments; never callable as a method), `#[payable]` a method that accepts value; `Result<T, E>` methods revert with
//!   `0x01 ‖ SCALE(E)` on `Err`. It also writes the ABI (docs/abi.md) into the `weft:abi`
//!   custom section at compile time. Options: `events = [A, B]` (every event the contract
//!   emits), `name = "…"` (default: the type name in snake case), `reentrant` (export
//!   `__weft_reentrant`).
//! - [`Event`] (derive) and [`AbiType`] (derive, for argument/return/error/event types).
//! - [`env`](mod@env): every host function; [`call()`]: typed cross-contract calls.
//!
//! The macros refuse what the ABI could not describe or the runtime could not call, at compile
//! time: see [`compile_fail`].
//!
//! On wasm32 the crate provides the global allocator (a bump allocator) and the panic handler
//! (reverting with `0x00 ‖ message`). On other targets host functions panic, so contract
//! crates compile (and pass clippy) on the host but only run in wasm.
#![no_std]

extern crate alloc;

pub mod abi;
pub mod call;
pub mod compile_fail;
pub mod env;
pub mod event;
#[doc(hidden)]
pub mod rt;
pub mod storage;
mod sys;

pub use abi::AbiType;
pub use call::{CallError, call};
pub use env::{Env, emit};
pub use event::Event;
pub use parity_scale_codec as scale;
pub use storage::{Item, Map, Set, Storage, StorageVec, VecMap};
pub use weft_contract_macros::{AbiType, Event, contract, storage};
pub use weft_types::{Address, Hash, abi::codes, limits};

/// First byte of revert data for a panic: `0x00 ‖ UTF-8 message`.
pub const REVERT_PANIC: u8 = 0x00;
/// First byte of revert data for a typed error: `0x01 ‖ SCALE(E)`.
pub const REVERT_ERROR: u8 = 0x01;

/// A contract type: implemented by `#[contract]`.
pub trait Contract {
    /// The contract's ABI; the `weft:abi` section holds `abi::json(&ABI)`.
    const ABI: abi::ContractDef;

    /// The ABI document as JSON (the bytes of the `weft:abi` section).
    fn abi_json() -> alloc::string::String {
        abi::to_json(&Self::ABI)
    }
}

/// Everything a contract usually needs: `use weft_contract::prelude::*;`.
pub mod prelude {
    pub use crate::storage::{Item, Map, Set, Storage, StorageVec, VecMap};
    pub use crate::{
        AbiType, Address, CallError, Contract, Env, Event, Hash, call, contract, emit, env, storage,
    };
    pub use alloc::{boxed::Box, format, string::String, string::ToString, vec, vec::Vec};
    pub use parity_scale_codec::{Decode, Encode};
}
