//! Stable application error codes, beyond JSON-RPC 2.0's own (-32700 parse error, -32600 invalid
//! request, -32601 method not found, -32602 invalid params, -32603 internal error). Clients may
//! match on them; the message says what was wrong in words.

use jsonrpsee::types::ErrorObjectOwned;
use serde::Serialize;

/// The transaction bytes do not decode (truncated, garbage, over a limit).
pub const TX_DECODE: i32 = 1000;
/// The signature does not verify.
pub const TX_BAD_SIGNATURE: i32 = 1001;
/// The transaction is for another chain.
pub const TX_WRONG_CHAIN: i32 = 1002;
/// The nonce was already used.
pub const TX_NONCE_TOO_LOW: i32 = 1003;
/// The nonce is too far ahead of the account's.
pub const TX_NONCE_TOO_HIGH: i32 = 1004;
/// The sender cannot pay the fee (or the value).
pub const TX_INSUFFICIENT_BALANCE: i32 = 1005;
/// Gas limit or price out of bounds.
pub const TX_BAD_GAS: i32 = 1006;
/// The transaction is otherwise invalid.
pub const TX_INVALID: i32 = 1007;
/// The mempool already holds this transaction.
pub const TX_ALREADY_KNOWN: i32 = 1008;
/// The mempool is full (for this sender or overall).
pub const TX_POOL_FULL: i32 = 1009;
/// Another transaction of the sender with this nonce is pending with a higher or equal price.
pub const TX_REPLACEMENT_UNDERPRICED: i32 = 1010;
/// The request is over a limit (batch length, block range, page size, response size).
pub const LIMIT_EXCEEDED: i32 = 1100;
/// No such block, transaction, account code or contract.
pub const NOT_FOUND: i32 = 2000;
/// The address holds no contract.
pub const NOT_A_CONTRACT: i32 = 2001;
/// The arguments do not match the contract's ABI, or it has none and no raw input was given.
pub const ABI_MISMATCH: i32 = 2002;
/// A `dev_*` method on a node not started with `weft-node dev`.
pub const DEV_ONLY: i32 = 3000;
/// `dev_revert` to an unknown snapshot.
pub const UNKNOWN_SNAPSHOT: i32 = 3001;
/// The node failed internally (storage, engine); the message says how.
pub const NODE_ERROR: i32 = 4000;
/// The node is at a bound of concurrent work for clients (contract executions, server-wide or
/// per connection) or has not yet compiled the code a call needs; the message says which.
/// Retrying later succeeds.
pub const BUSY: i32 = 4001;

/// An error object with an application code, a message and optional data.
pub fn error(code: i32, message: impl Into<String>, data: Option<impl Serialize>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, message.into(), data)
}

/// An error object with an application code and a message.
pub fn err(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned::<()>(code, message.into(), None)
}
