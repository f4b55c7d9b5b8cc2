//! Safe wrappers over every host function of `weft_types::abi`: the call's input and output,
//! the caller and value, native balances and transfers, raw storage, events, the block, gas,
//! hashing and signatures, and raw cross-contract calls.
//!
//! Each function is also available as a method of [`Env`] (what `self.env()` returns in a
//! contract), so contract code can read either `env::caller()` or `self.env().caller()`.
//! Gas: every host call costs at least `host_base`; see the runtime's gas schedule.

use alloc::vec;
use alloc::vec::Vec;

use crate::event::Event;
use crate::sys;
use crate::{Address, Hash};

/// The call's input: the SCALE-encoded arguments of the method being run.
pub fn input() -> Vec<u8> {
    let len = sys::input_len();
    let mut buf = vec![0u8; len];
    if len > 0 {
        sys::input_read(&mut buf);
    }
    buf
}

/// Length of the call's input.
pub fn input_len() -> usize {
    sys::input_len()
}

/// Sets the call's return data (at most `MAX_RETURN_DATA_BYTES`); the last call wins.
pub fn set_return(data: &[u8]) {
    sys::set_return(data)
}

/// Ends the call, undoing everything it changed; `data` becomes the revert data.
///
/// Contracts normally revert through a panic (`0x00 ‖ message`) or by returning `Err(e)` from a
/// method (`0x01 ‖ SCALE(e)`); this writes raw revert data that follows neither form.
pub fn revert(data: &[u8]) -> ! {
    sys::revert(data)
}

/// Reverts with a panic-style message: revert data `0x00 ‖ message` (docs/abi.md).
pub fn revert_message(message: &str) -> ! {
    let mut data = Vec::with_capacity(message.len() + 1);
    data.push(crate::REVERT_PANIC);
    data.extend_from_slice(message.as_bytes());
    sys::revert(&data)
}

/// Reverts with a typed error: revert data `0x01 ‖ SCALE(error)` (docs/abi.md).
pub fn revert_error<E: parity_scale_codec::Encode>(error: &E) -> ! {
    let mut data = Vec::with_capacity(error.size_hint() + 1);
    data.push(crate::REVERT_ERROR);
    error.encode_to(&mut data);
    sys::revert(&data)
}

/// The immediate caller: the transaction's sender, or the contract that called this one.
pub fn caller() -> Address {
    let mut out = [0u8; 32];
    sys::caller(&mut out);
    Address(out)
}

/// The address of the running contract.
pub fn self_address() -> Address {
    let mut out = [0u8; 32];
    sys::self_address(&mut out);
    Address(out)
}

/// The native value sent with this call (already credited to this contract).
pub fn value() -> u128 {
    let mut out = [0u8; 16];
    sys::value(&mut out);
    u128::from_le_bytes(out)
}

/// The native balance of `account`.
pub fn balance(account: &Address) -> u128 {
    let mut out = [0u8; 16];
    sys::balance(&account.0, &mut out);
    u128::from_le_bytes(out)
}

/// Reads the storage value under `key` (at most `MAX_STORAGE_KEY_BYTES` bytes), if any.
pub fn storage_read(key: &[u8]) -> Option<Vec<u8>> {
    let mut small = [0u8; 128];
    let len = usize::try_from(sys::storage_read(key, &mut small)).ok()?;
    if len <= small.len() {
        return Some(small[..len].to_vec());
    }
    let mut buf = vec![0u8; len];
    sys::storage_read(key, &mut buf);
    Some(buf)
}

/// Reads the storage value under `key` into `out` if it fits; returns the value's length, or
/// `None` if there is no value. When the length exceeds `out.len()`, `out` is left unchanged.
pub fn storage_read_into(key: &[u8], out: &mut [u8]) -> Option<usize> {
    usize::try_from(sys::storage_read(key, out)).ok()
}

/// Writes `value` (at most `MAX_STORAGE_VALUE_BYTES`) under `key` (at most
/// `MAX_STORAGE_KEY_BYTES`). The transaction's sender pays the storage deposit of added bytes.
pub fn storage_write(key: &[u8], value: &[u8]) {
    sys::storage_write(key, value)
}

/// Removes the value under `key`; returns whether there was one.
pub fn storage_remove(key: &[u8]) -> bool {
    sys::storage_remove(key)
}

/// Emits a raw event: at most `MAX_EVENT_TOPICS` topics and `MAX_EVENT_DATA_BYTES` of data.
pub fn emit_raw(topics: &[[u8; 32]], data: &[u8]) {
    sys::emit_event(topics, data)
}

/// Emits a typed event as docs/abi.md specifies (see [`Event`]).
pub fn emit<E: Event>(event: &E) {
    let mut topics = [[0u8; 32]; 4];
    topics[0] = E::TOPIC0;
    let mut count = 1;
    event.topics(&mut |topic| {
        if let Some(slot) = topics.get_mut(count) {
            *slot = topic;
        }
        count += 1;
    });
    let mut data = Vec::new();
    event.data(&mut data);
    sys::emit_event(&topics[..count.min(4)], &data)
}

/// Height of the block being built.
pub fn block_height() -> u64 {
    sys::block_height()
}

/// The block's consensus timestamp, in milliseconds since the Unix epoch.
pub fn block_timestamp() -> u64 {
    sys::block_timestamp()
}

/// Gas left to this call.
pub fn gas_left() -> u64 {
    sys::gas_left()
}

/// SHA3-256 of `data` (the protocol hash), computed by the host.
pub fn sha3_256(data: &[u8]) -> Hash {
    let mut out = [0u8; 32];
    sys::sha3_256(data, &mut out);
    Hash(out)
}

/// Keccak-256 of `data` (the pre-standard variant Ethereum uses), computed by the host.
pub fn keccak_256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    sys::keccak_256(data, &mut out);
    out
}

/// Whether `signature` is a valid ed25519 signature of `message` by `public_key` (the
/// protocol's one rule, `verify_strict`). `message` is at most `MAX_VERIFY_MESSAGE_BYTES`.
pub fn ed25519_verify(signature: &[u8; 64], public_key: &Address, message: &[u8]) -> bool {
    sys::ed25519_verify(signature, &public_key.0, message)
}

/// Moves `amount` of the native token from this contract to `to`. On failure returns the
/// result code (`abi::codes::INSUFFICIENT_BALANCE` or `BALANCE_OVERFLOW`) and nothing moved.
pub fn transfer(to: &Address, amount: u128) -> Result<(), i32> {
    match sys::transfer(&to.0, &amount.to_le_bytes()) {
        crate::codes::OK => Ok(()),
        code => Err(code),
    }
}

/// Calls `method` of `contract` with raw SCALE `args`, sending `value`, with at most `gas`
/// (0: as much as allowed, 63/64 of the gas left). Returns the result code (`abi::codes`);
/// [`last_return`] then holds the callee's return data, revert data, or encoded `ExecError`.
/// Prefer the typed [`crate::call()`].
pub fn call_raw(contract: &Address, method: &str, args: &[u8], value: u128, gas: u64) -> i32 {
    sys::call(&contract.0, method.as_bytes(), args, &value.to_le_bytes(), gas)
}

/// Output of the last cross-contract call (see [`call_raw`]).
pub fn last_return() -> Vec<u8> {
    let len = sys::last_return_len();
    let mut buf = vec![0u8; len];
    if len > 0 {
        sys::last_return_read(&mut buf);
    }
    buf
}

/// Handle on the execution environment; `self.env()` in a contract returns one. Its methods are
/// the functions of this module.
#[derive(Clone, Copy, Debug, Default)]
pub struct Env;

impl Env {
    /// See [`caller`].
    pub fn caller(&self) -> Address {
        caller()
    }
    /// See [`self_address`].
    pub fn self_address(&self) -> Address {
        self_address()
    }
    /// See [`value`].
    pub fn value(&self) -> u128 {
        value()
    }
    /// See [`balance`].
    pub fn balance(&self, account: &Address) -> u128 {
        balance(account)
    }
    /// See [`emit`].
    pub fn emit<E: Event>(&self, event: E) {
        emit(&event)
    }
    /// See [`block_height`].
    pub fn block_height(&self) -> u64 {
        block_height()
    }
    /// See [`block_timestamp`].
    pub fn block_timestamp(&self) -> u64 {
        block_timestamp()
    }
    /// See [`gas_left`].
    pub fn gas_left(&self) -> u64 {
        gas_left()
    }
    /// See [`sha3_256`].
    pub fn sha3_256(&self, data: &[u8]) -> Hash {
        sha3_256(data)
    }
    /// See [`keccak_256`].
    pub fn keccak_256(&self, data: &[u8]) -> [u8; 32] {
        keccak_256(data)
    }
    /// See [`ed25519_verify`].
    pub fn ed25519_verify(&self, signature: &[u8; 64], public_key: &Address, message: &[u8]) -> bool {
        ed25519_verify(signature, public_key, message)
    }
    /// See [`transfer`].
    pub fn transfer(&self, to: &Address, amount: u128) -> Result<(), i32> {
        transfer(to, amount)
    }
}
