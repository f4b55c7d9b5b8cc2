//! [`CallError`]: why a sandbox call, deploy or transfer did not succeed, split the way a
//! contract test asserts on it (reverted, failed, not includable, bad arguments, node fault).

use serde_json::Value;
use weft_abi::{AbiError, Revert};
use weft_runtime::{RuntimeError, TxError};
use weft_types::{ExecError, Gas};

/// Why a call, deploy or transfer did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The contract reverted: a panic message, a typed error decoded with the method's error
    /// type, or raw revert data. The transaction was included: nonce and gas are spent.
    #[error("reverted: {revert}")]
    Reverted {
        /// The decoded revert data.
        revert: Revert,
        /// Gas charged for the transaction.
        gas_used: Gas,
    },
    /// The transaction was included and failed otherwise: a trap, out of gas, a limit,
    /// insufficient balance, no such method…
    #[error("failed: {error}")]
    Failed {
        /// The receipt's execution error.
        error: ExecError,
        /// Gas charged for the transaction.
        gas_used: Gas,
    },
    /// The transaction could not be included at all (fee, nonce, gas limit…); nothing changed
    /// and no block was produced.
    #[error("not includable: {0}")]
    NotIncludable(TxError),
    /// The JSON arguments do not fit the ABI, the method is unknown, or the return data does
    /// not decode; nothing was sent.
    #[error("ABI: {0}")]
    Abi(#[from] AbiError),
    /// The call could not be made as asked: the sender has no key in this sandbox, the contract
    /// has no ABI, the method name is invalid, the input is too large…; nothing was sent.
    #[error("{0}")]
    Invalid(String),
    /// The return data does not decode as the type asked for (`call_typed`/`query_typed`).
    #[error("cannot decode the return data as {ty}: {reason}")]
    Decode {
        /// The Rust type asked for.
        ty: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// The runtime failed (a node fault, never the contract's): state corruption or an engine
    /// failure.
    #[error("runtime failure: {0}")]
    Runtime(#[from] RuntimeError),
}

impl CallError {
    /// The panic message, when the contract reverted with one.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            CallError::Reverted { revert, .. } => revert.panic_message(),
            _ => None,
        }
    }

    /// The decoded typed error, when the contract reverted with one.
    pub fn error_value(&self) -> Option<&Value> {
        match self {
            CallError::Reverted { revert, .. } => revert.error_value(),
            _ => None,
        }
    }

    /// The revert, when the contract reverted.
    pub fn revert(&self) -> Option<&Revert> {
        match self {
            CallError::Reverted { revert, .. } => Some(revert),
            _ => None,
        }
    }

    /// The execution error, when the transaction failed other than by a revert.
    pub fn exec_error(&self) -> Option<&ExecError> {
        match self {
            CallError::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Gas charged, when the transaction was included.
    pub fn gas_used(&self) -> Option<Gas> {
        match self {
            CallError::Reverted { gas_used, .. } | CallError::Failed { gas_used, .. } => Some(*gas_used),
            _ => None,
        }
    }
}
