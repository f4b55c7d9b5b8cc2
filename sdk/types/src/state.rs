//! The layout of the state: which key holds what. The state is one flat key-value map, and the
//! state root authenticates all of it.
//!
//! | key | value |
//! |---|---|
//! | `0x00 ‖ address` | SCALE([`Account`]) |
//! | `0x01 ‖ code_hash` | the wasm code as uploaded |
//! | `0x02 ‖ contract ‖ storage key` | a contract's storage value |
//! | `0x03 ‖ 0x00` | SCALE(`ValidatorSet`): the validator set written at genesis (absent on a chain without one, the dev chain) |
//! | `0x04 ‖ contract` | SCALE([`ContractInfo`]): its admin and how many codes it has had |
//! | `0x05 ‖ contract ‖ n` (u32 big-endian) | SCALE([`CodeRecord`]): its `n`th code (0: at instantiation) |

use alloc::vec::Vec;
use parity_scale_codec::{Decode, Encode};

use crate::{Amount, address::Address, hash::Hash};

/// Prefix of account entries.
pub const ACCOUNT_PREFIX: u8 = 0;
/// Prefix of code entries.
pub const CODE_PREFIX: u8 = 1;
/// Prefix of contract storage entries.
pub const STORAGE_PREFIX: u8 = 2;
/// Prefix of the chain's own entries (no account, code or contract writes them).
pub const CHAIN_PREFIX: u8 = 3;
/// Prefix of contracts' admin entries.
pub const CONTRACT_INFO_PREFIX: u8 = 4;
/// Prefix of contracts' code history.
pub const CODE_HISTORY_PREFIX: u8 = 5;

/// The state key of the validator set written at genesis: binding it into the genesis state
/// root, and so into the genesis block hash, means a node with another set is on another chain.
pub const VALIDATORS_KEY: [u8; 2] = [CHAIN_PREFIX, 0];

/// An account: a key-controlled account (no code) or a contract.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode)]
pub struct Account {
    /// Spendable native token.
    pub balance: Amount,
    /// Number of transactions the account has sent.
    pub nonce: u64,
    /// The contract's code, or `None` for a key-controlled account.
    pub code_hash: Option<Hash>,
    /// Bytes of contract storage (keys and values) the account holds.
    pub storage_bytes: u64,
    /// Storage deposit held for those bytes; not spendable, counted in the total supply.
    pub deposit: Amount,
}

/// What the protocol keeps of a contract besides its account: who may upgrade it.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode)]
pub struct ContractInfo {
    /// Who may upgrade the contract and change this; `None`: nobody (immutable).
    pub admin: Option<Address>,
    /// Codes the contract has had, its current one included: its history holds entries
    /// `0..codes`.
    pub codes: u32,
}

/// One code a contract has had.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct CodeRecord {
    /// The code.
    pub code_hash: Hash,
    /// The block from which the contract ran it (instantiated or upgraded).
    pub height: u64,
}

/// The state key of `contract`'s [`ContractInfo`].
pub fn contract_info_key(contract: &Address) -> Vec<u8> {
    prefixed(CONTRACT_INFO_PREFIX, &[&contract.0])
}

/// The state key of `contract`'s `n`th [`CodeRecord`].
pub fn code_record_key(contract: &Address, n: u32) -> Vec<u8> {
    prefixed(CODE_HISTORY_PREFIX, &[&contract.0, &n.to_be_bytes()])
}

/// The state key of `address`'s account.
pub fn account_key(address: &Address) -> Vec<u8> {
    prefixed(ACCOUNT_PREFIX, &[&address.0])
}

/// The state key of the code with `code_hash`.
pub fn code_key(code_hash: &Hash) -> Vec<u8> {
    prefixed(CODE_PREFIX, &[&code_hash.0])
}

/// The state key of `contract`'s storage entry `key`.
pub fn storage_key(contract: &Address, key: &[u8]) -> Vec<u8> {
    prefixed(STORAGE_PREFIX, &[&contract.0, key])
}

fn prefixed(prefix: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + parts.iter().map(|p| p.len()).sum::<usize>());
    out.push(prefix);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}
