//! Weft's protocol vocabulary: hashes, addresses, transactions, blocks, receipts and events, their
//! canonical SCALE encoding with decode limits, and the host ABI shared by the runtime and the
//! contract SDK.
//!
//! This crate is `no_std` + `alloc` so that contracts can use the same types as the node. It owns
//! no policy beyond the byte layout: whether a transaction is valid against state is decided by
//! `weft-runtime`.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod abi;
pub mod address;
pub mod block;
pub mod codec;
pub mod consensus;
pub mod dev;
pub mod hash;
pub mod hex;
#[cfg(feature = "std")]
pub mod key_file;
pub mod limits;
pub mod receipt;
pub mod state;
pub mod tx;

pub use address::{Address, ParseHexError};
pub use block::{Block, Header};
pub use codec::{BoundedBytes, BoundedVec, DecodeError};
pub use hash::{Hash, keccak_256, sha3_256};
pub use receipt::{Event, ExecError, ExecStatus, LimitKind, Receipt, TrapKind};
pub use state::Account;
pub use tx::{Action, ChainId, MethodName, Signature, SignatureError, SignedTransaction, Transaction};

/// An amount of the native token, in its smallest unit.
pub type Amount = u128;
/// An amount of gas. One unit of gas is one unit of wasm fuel.
pub type Gas = u64;
/// A block height; the genesis block has height 0.
pub type Height = u64;
#[cfg(feature = "serde")]
mod serde_impls;
