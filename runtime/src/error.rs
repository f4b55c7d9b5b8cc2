//! Errors of the state transition, split by who is to blame: [`TxError`] (the transaction cannot
//! be included: the sender's fault, nothing changes), [`BlockError`] (a block from a proposer is
//! invalid: the proposer's fault) and [`RuntimeError`] (the node's own fault: I/O, corruption,
//! engine failure; fatal for the block).

use weft_types::{Amount, Gas, Hash, SignatureError};

use crate::state::StateError;

/// Why a transaction cannot be included in a block. Checked before execution; a transaction
/// refused with a `TxError` changes nothing and pays nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// Signed for another chain.
    #[error("wrong chain id: this chain is {expected}, the transaction is for {found}")]
    WrongChain {
        /// This chain's id.
        expected: u64,
        /// The transaction's.
        found: u64,
    },
    /// The signature does not verify.
    #[error(transparent)]
    BadSignature(#[from] SignatureError),
    /// The nonce was already used.
    #[error("nonce too low: account has {expected}, tx has {found}")]
    NonceTooLow {
        /// The account's nonce.
        expected: u64,
        /// The transaction's.
        found: u64,
    },
    /// The nonce is ahead of the account's.
    #[error("nonce too high: account has {expected}, tx has {found}")]
    NonceTooHigh {
        /// The account's nonce.
        expected: u64,
        /// The transaction's.
        found: u64,
    },
    /// The gas limit does not cover the intrinsic gas.
    #[error("gas limit {limit} is below the intrinsic gas {intrinsic} of this transaction")]
    IntrinsicGas {
        /// The transaction's gas limit.
        limit: Gas,
        /// Gas needed before execution.
        intrinsic: Gas,
    },
    /// The gas limit is over `MAX_TX_GAS`.
    #[error("gas limit {limit} is over MAX_TX_GAS ({max})")]
    GasLimitTooHigh {
        /// The transaction's gas limit.
        limit: Gas,
        /// The limit.
        max: Gas,
    },
    /// `gas_limit × gas_price` does not fit in u128.
    #[error("fee overflows: gas limit {gas_limit} × gas price {gas_price}")]
    FeeOverflow {
        /// Gas limit.
        gas_limit: Gas,
        /// Gas price.
        gas_price: Amount,
    },
    /// The sender cannot pay the maximum fee.
    #[error("insufficient balance for fee: account has {available}, max fee is {needed}")]
    InsufficientFee {
        /// Maximum fee.
        needed: Amount,
        /// Sender balance.
        available: Amount,
    },
    /// The gas price is below the minimum.
    #[error("gas price {found} is below the minimum {min}")]
    GasPriceTooLow {
        /// Minimum price.
        min: Amount,
        /// The transaction's.
        found: Amount,
    },
    /// The block has no room left for this transaction's gas limit.
    #[error("block gas exhausted: {remaining} left, the transaction asks for {limit}")]
    BlockGasExhausted {
        /// Gas left in the block.
        remaining: Gas,
        /// The transaction's gas limit.
        limit: Gas,
    },
    /// The transaction is over `MAX_TX_BYTES` once encoded.
    #[error("transaction is {len} bytes, over MAX_TX_BYTES ({max})")]
    TooLarge {
        /// Encoded length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// A node fault: the block cannot be executed at all on this node.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The state backend failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// The wasm engine failed for a reason that is not the contract's (resources, internal).
    #[error("wasm engine failure: {0}")]
    Engine(String),
    /// A read-only execution needs code this node has not compiled yet (it compiles code when
    /// it is uploaded or, after losing its artifacts, at start; queries never compile).
    #[error("code {0} is not compiled on this node yet; retry shortly")]
    NotCompiled(Hash),
    /// A read-only execution ran past the wall-clock limit its VM sets for one execution
    /// (`vm::Vm::limit_time`). Never happens to block execution, which has no clock.
    #[error("the execution ran past this node's time limit for one execution")]
    Interrupted,
}

/// Why a block received from a proposer is invalid.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// The block is not the child of the given parent.
    #[error("block {height} does not extend the parent (expected height {expected_height}, parent {parent})")]
    NotChild {
        /// The block's height.
        height: u64,
        /// Parent height + 1.
        expected_height: u64,
        /// The parent hash expected.
        parent: Hash,
    },
    /// A transaction could not have been included.
    #[error("transaction {index} ({hash}) is not includable: {error}")]
    InvalidTx {
        /// Position in the block.
        index: usize,
        /// Its hash.
        hash: Hash,
        /// Why.
        error: TxError,
    },
    /// A header field differs from the result of re-execution.
    #[error("header {field} mismatch: block says {claimed}, execution gives {computed}")]
    HeaderMismatch {
        /// The field.
        field: &'static str,
        /// What the header claims.
        claimed: String,
        /// What re-execution computed.
        computed: String,
    },
    /// The block is not later than its parent.
    #[error("block timestamp {timestamp_ms} ms is not after its parent's ({parent_ms} ms)")]
    Timestamp {
        /// The block's.
        timestamp_ms: u64,
        /// The parent's.
        parent_ms: u64,
    },
    /// The node failed while executing.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}
