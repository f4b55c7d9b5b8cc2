//! The host ABI: what a contract module may import and must export, defined once for the
//! runtime (which validates and links against it) and the contract SDK (which declares it).
//!
//! Conventions: pointers and lengths are `i32` offsets into the contract's exported memory;
//! addresses and hashes are 32 bytes, amounts 16 bytes little-endian (`u128`), signatures 64
//! bytes. Every host function charges gas first, checks lengths against `crate::limits` second
//! and only then touches memory; a pointer/length outside memory traps with
//! `TrapKind::HostMemoryAccess`.

/// The import module of every host function.
pub const IMPORT_MODULE: &str = "weft";
/// The linear memory every contract must export.
pub const MEMORY_EXPORT: &str = "memory";
/// The optional constructor, run once by `Instantiate`; it cannot be called afterwards.
pub const CONSTRUCTOR: &str = "init";
/// The optional migration entry, run by `Upgrade` on the new code; it cannot be called as a
/// method.
pub const MIGRATE: &str = "migrate";
/// The event the protocol emits from a contract when it is upgraded: one topic, the sha3 of this
/// name; data SCALE((old code hash, new code hash)).
pub const UPGRADED_EVENT: &str = "weft:Upgraded";
/// The event the protocol emits from a contract when its admin changes: one topic, the sha3 of
/// this name; data SCALE(Option<Address>), the new admin.
pub const ADMIN_CHANGED_EVENT: &str = "weft:AdminChanged";
/// Exports starting with this are reserved for the protocol and cannot be called as methods.
pub const RESERVED_PREFIX: &str = "__weft";
/// Exporting a function with this name opts the contract in to reentrant calls.
pub const REENTRANT_MARKER: &str = "__weft_reentrant";
/// The custom section holding a contract's ABI (JSON), written by the contract SDK.
pub const ABI_SECTION: &str = "weft:abi";

/// A wasm value type used by the host ABI.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
}

/// One host function: its import name and signature.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HostFn {
    /// Import name within [`IMPORT_MODULE`].
    pub name: &'static str,
    /// Parameter types.
    pub params: &'static [ValType],
    /// Result types.
    pub results: &'static [ValType],
}

use ValType::{I32, I64};

macro_rules! host_fns {
    ($($(#[$doc:meta])* $konst:ident = $name:literal ($($p:ident),*) -> ($($r:ident),*);)*) => {
        $( $(#[$doc])* pub const $konst: HostFn = HostFn { name: $name, params: &[$($p),*], results: &[$($r),*] }; )*
        /// Every host function, in a fixed order.
        pub const HOST_FUNCTIONS: &[HostFn] = &[$($konst),*];
    };
}

host_fns! {
    /// `input_len() -> len`: length of the call's input.
    INPUT_LEN = "input_len" () -> (I32);
    /// `input_read(out)`: copies the input to `out`.
    INPUT_READ = "input_read" (I32) -> ();
    /// `set_return(ptr, len)`: sets the call's return data (at most `MAX_RETURN_DATA_BYTES`).
    SET_RETURN = "set_return" (I32, I32) -> ();
    /// `revert(ptr, len)`: aborts the call, undoing its changes; the bytes become the revert data.
    REVERT = "revert" (I32, I32) -> ();
    /// `caller(out)`: writes the immediate caller's address (the sender, or a contract).
    CALLER = "caller" (I32) -> ();
    /// `self_address(out)`: writes the running contract's address.
    SELF_ADDRESS = "self_address" (I32) -> ();
    /// `value(out)`: writes the native value sent with this call (u128 LE).
    VALUE = "value" (I32) -> ();
    /// `balance(addr, out)`: writes the balance of `addr` (u128 LE).
    BALANCE = "balance" (I32, I32) -> ();
    /// `storage_read(key, key_len, out, cap) -> len`: `-1` if absent, else the value's length;
    /// the value is copied to `out` only when it fits in `cap`.
    STORAGE_READ = "storage_read" (I32, I32, I32, I32) -> (I32);
    /// `storage_write(key, key_len, value, value_len)`.
    STORAGE_WRITE = "storage_write" (I32, I32, I32, I32) -> ();
    /// `storage_remove(key, key_len) -> existed`: 1 if a value was removed, else 0.
    STORAGE_REMOVE = "storage_remove" (I32, I32) -> (I32);
    /// `emit_event(topics, topic_count, data, data_len)`: topics are `topic_count` × 32 bytes.
    EMIT_EVENT = "emit_event" (I32, I32, I32, I32) -> ();
    /// `block_height() -> height`.
    BLOCK_HEIGHT = "block_height" () -> (I64);
    /// `block_timestamp() -> ms`: the block's consensus timestamp.
    BLOCK_TIMESTAMP = "block_timestamp" () -> (I64);
    /// `gas_left() -> gas`.
    GAS_LEFT = "gas_left" () -> (I64);
    /// `sha3_256(ptr, len, out)`: writes the 32-byte digest.
    SHA3_256 = "sha3_256" (I32, I32, I32) -> ();
    /// `keccak_256(ptr, len, out)`: writes the 32-byte digest.
    KECCAK_256 = "keccak_256" (I32, I32, I32) -> ();
    /// `ed25519_verify(sig, pubkey, msg, msg_len) -> ok`: 1 if valid under `verify_strict`.
    ED25519_VERIFY = "ed25519_verify" (I32, I32, I32, I32) -> (I32);
    /// `transfer(to, amount) -> code`: moves native token from this contract.
    TRANSFER = "transfer" (I32, I32) -> (I32);
    /// `call(addr, method, method_len, args, args_len, value, gas) -> code`: calls another
    /// contract synchronously with at most `gas`, and never more than 63/64 of the gas left (0 =
    /// that much), so the caller can always handle the callee's failure. On failure everything
    /// the callee changed is rolled back. Afterwards `last_return_*` holds the callee's return
    /// data, its revert data, or (other failures) the SCALE-encoded `ExecError`.
    CALL = "call" (I32, I32, I32, I32, I32, I32, I64) -> (I32);
    /// `last_return_len() -> len`: length of the last call's output.
    LAST_RETURN_LEN = "last_return_len" () -> (I32);
    /// `last_return_read(out)`: copies the last call's output.
    LAST_RETURN_READ = "last_return_read" (I32) -> ();
}

/// Looks a host function up by import name.
pub fn host_fn(name: &str) -> Option<&'static HostFn> {
    HOST_FUNCTIONS.iter().find(|f| f.name == name)
}

/// Result codes of `transfer` and `call`.
pub mod codes {
    /// Success.
    pub const OK: i32 = 0;
    /// The payer lacks the balance.
    pub const INSUFFICIENT_BALANCE: i32 = 1;
    /// The callee reverted; `last_return_*` holds its revert data.
    pub const CALLEE_REVERTED: i32 = 2;
    /// The callee trapped.
    pub const CALLEE_TRAPPED: i32 = 3;
    /// The callee ran out of the gas given to it.
    pub const CALLEE_OUT_OF_GAS: i32 = 4;
    /// No contract at the address.
    pub const NOT_A_CONTRACT: i32 = 5;
    /// The callee has no such method.
    pub const METHOD_NOT_FOUND: i32 = 6;
    /// The callee is already on the call stack and did not opt in to reentrancy.
    pub const REENTRANCY_REFUSED: i32 = 7;
    /// `MAX_CALL_DEPTH` reached.
    pub const CALL_DEPTH: i32 = 8;
    /// The recipient's balance would overflow.
    pub const BALANCE_OVERFLOW: i32 = 9;
    /// The callee failed otherwise (a limit); `last_return_*` holds the encoded `ExecError`.
    pub const CALLEE_FAILED: i32 = 10;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_function_names_are_unique() {
        for (i, f) in HOST_FUNCTIONS.iter().enumerate() {
            assert!(HOST_FUNCTIONS[i + 1..].iter().all(|g| g.name != f.name), "{} twice", f.name);
            assert_eq!(host_fn(f.name), Some(f));
        }
        assert_eq!(host_fn("fd_write"), None);
    }
}
