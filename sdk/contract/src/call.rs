//! Typed cross-contract calls.
//!
//! ```no_run
//! # use weft_contract::{Address, CallError, call};
//! # fn pay(token: Address, owner: Address, from: Address, to: Address, amount: u128) -> Result<u128, CallError> {
//! let balance: u128 = call(&token, "balance_of", &(owner,), 0, 0)?;
//! call::<()>(&token, "transfer_from", &(from, to, amount), 0, 0)?;
//! # Ok(balance)
//! # }
//! ```
//!
//! Arguments are the tuple of the callee's method arguments (a 1-tuple `(x,)` for one, `&()` for
//! none): its SCALE encoding is exactly the callee's input (docs/abi.md, "Calls"). On failure
//! everything the callee changed has been rolled back and the caller continues with a
//! [`CallError`].

use alloc::vec::Vec;
use parity_scale_codec::{Decode, DecodeAll, Encode};

use crate::codes;
use crate::{Address, env};

/// Why a cross-contract call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallError {
    /// The result code: one of `abi::codes` (never `OK`), or [`CallError::UNDECODABLE_RETURN`].
    pub code: i32,
    /// The callee's revert data (`CALLEE_REVERTED`), its return data (`UNDECODABLE_RETURN`), the
    /// SCALE-encoded `ExecError` (other failures), or empty.
    pub data: Vec<u8>,
}

impl CallError {
    /// The callee succeeded but its return data did not decode as the expected type.
    pub const UNDECODABLE_RETURN: i32 = -1;

    /// Whether the callee reverted (a panic or a typed error).
    pub fn reverted(&self) -> bool {
        self.code == codes::CALLEE_REVERTED
    }

    /// The callee's panic message, when it reverted with `0x00 ‖ message`.
    pub fn panic_message(&self) -> Option<&str> {
        match self.data.split_first() {
            Some((&crate::REVERT_PANIC, msg)) if self.reverted() => core::str::from_utf8(msg).ok(),
            _ => None,
        }
    }

    /// The callee's typed error, when it reverted with `0x01 ‖ SCALE(E)` that decodes as `E`.
    pub fn error<E: Decode>(&self) -> Option<E> {
        match self.data.split_first() {
            Some((&crate::REVERT_ERROR, mut rest)) if self.reverted() => E::decode_all(&mut rest).ok(),
            _ => None,
        }
    }

    /// The callee's `ExecError` for failures other than a revert (trap, out of gas, a limit,
    /// missing contract or method, refused reentrancy), when the host supplied one.
    pub fn exec_error(&self) -> Option<weft_types::ExecError> {
        if self.reverted() || self.code == Self::UNDECODABLE_RETURN {
            return None;
        }
        weft_types::ExecError::decode_all(&mut &self.data[..]).ok()
    }
}

/// Calls `method` of `contract` with `args`, sending `value`, with at most `gas` (0: as much as
/// the host allows, 63/64 of the gas left), and decodes its return data as `R`.
pub fn call<R: Decode>(
    contract: &Address,
    method: &str,
    args: &impl Encode,
    value: u128,
    gas: u64,
) -> Result<R, CallError> {
    let code = args.using_encoded(|input| env::call_raw(contract, method, input, value, gas));
    let data = env::last_return();
    if code != codes::OK {
        return Err(CallError { code, data });
    }
    R::decode_all(&mut &data[..]).map_err(|_| CallError { code: CallError::UNDECODABLE_RETURN, data })
}
