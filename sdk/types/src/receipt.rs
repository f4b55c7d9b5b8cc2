//! Receipts, events and the decodable execution error carried by a failed transaction.

use alloc::{string::String, vec::Vec};
use parity_scale_codec::{Decode, Encode, Input};

use crate::{
    Amount, Gas,
    address::Address,
    codec::{
        BoundedBytes, BoundedVec, DecodeError, EventDataLimit, EventsLimit, ReturnDataLimit, TopicsLimit,
        decode_exact,
    },
    hash::Hash,
    limits::MAX_RECEIPT_BYTES,
};

/// An event emitted by a contract.
///
/// Decoding applies `MAX_EVENT_TOPICS` and `MAX_EVENT_DATA_BYTES`; the encoding is the derived one.
#[derive(Clone, PartialEq, Eq, Debug, Encode)]
pub struct Event {
    /// The contract that emitted it.
    pub contract: Address,
    /// Indexed topics (at most `MAX_EVENT_TOPICS`).
    pub topics: Vec<Hash>,
    /// Unindexed data (at most `MAX_EVENT_DATA_BYTES`).
    pub data: Vec<u8>,
}

/// How a wasm instance trapped.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode)]
pub enum TrapKind {
    /// `unreachable` was executed (also a Rust panic without the SDK's revert hook).
    Unreachable,
    /// A load or store outside linear memory.
    MemoryOutOfBounds,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// Integer overflow in division or conversion.
    IntegerOverflow,
    /// A float that does not fit the integer it is converted to.
    BadConversionToInteger,
    /// `call_indirect` to a null table entry or outside the table.
    IndirectCall,
    /// `call_indirect` through the wrong signature.
    BadSignature,
    /// The deterministic wasm stack budget (`MAX_STACK_UNITS`) is exhausted.
    StackLimit,
    /// A host function was given a pointer and length outside linear memory.
    HostMemoryAccess,
    /// Any other trap.
    Other,
}

/// Which per-transaction limit a contract broke.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode)]
pub enum LimitKind {
    /// `MAX_STORAGE_KEY_BYTES`.
    StorageKey,
    /// `MAX_STORAGE_VALUE_BYTES`.
    StorageValue,
    /// `MAX_EVENT_TOPICS`.
    EventTopics,
    /// `MAX_EVENT_DATA_BYTES`.
    EventData,
    /// `MAX_EVENTS_PER_TX`.
    EventCount,
    /// `MAX_RETURN_DATA_BYTES`.
    ReturnData,
    /// `MAX_CALL_DEPTH`.
    CallDepth,
    /// `MAX_ARGS_BYTES`, for the input of a cross-contract call.
    CallInput,
    /// A hashing or signature-verification input over its limit.
    HostInput,
    /// Linear memory grown over `MAX_MEMORY_PAGES`.
    Memory,
}

/// Why an included transaction failed. Its state changes were reverted; its gas was charged.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub enum ExecError {
    /// The gas limit was reached.
    #[codec(index = 0)]
    OutOfGas,
    /// The contract reverted; `data` is its revert payload (the SDK puts a message or an
    /// encoded typed error there).
    #[codec(index = 1)]
    Reverted {
        /// The contract that reverted.
        contract: Address,
        /// Revert payload.
        data: Vec<u8>,
    },
    /// The wasm instance trapped.
    #[codec(index = 2)]
    Trap {
        /// The contract that trapped.
        contract: Address,
        /// Kind of trap.
        kind: TrapKind,
    },
    /// An account lacked the balance for a transfer or a call's value.
    #[codec(index = 3)]
    InsufficientBalance {
        /// The account.
        account: Address,
        /// Amount needed.
        needed: Amount,
        /// Amount it had.
        available: Amount,
    },
    /// The sender lacked the balance for the storage deposit of the bytes it added.
    #[codec(index = 4)]
    InsufficientDeposit {
        /// Deposit needed.
        needed: Amount,
        /// Balance left after gas and value.
        available: Amount,
    },
    /// No code with this hash was uploaded.
    #[codec(index = 5)]
    CodeNotFound(Hash),
    /// No contract at this address.
    #[codec(index = 6)]
    ContractNotFound(Address),
    /// A contract already exists at the derived address (same deployer, code and salt).
    #[codec(index = 7)]
    ContractExists(Address),
    /// The contract does not export this method (or it is reserved, like `init`).
    #[codec(index = 8)]
    MethodNotFound {
        /// The contract.
        contract: Address,
        /// The method asked for.
        method: String,
    },
    /// A call would re-enter a contract already on the call stack, which did not opt in.
    #[codec(index = 9)]
    ReentrancyRefused(Address),
    /// A per-transaction limit was exceeded.
    #[codec(index = 10)]
    LimitExceeded {
        /// The limit.
        limit: LimitKind,
        /// The value that was asked for.
        value: u64,
        /// The limit's value.
        max: u64,
    },
    /// Uploaded code failed deploy-time validation; the message names the rule and the value.
    #[codec(index = 11)]
    InvalidCode(String),
    /// The code is already uploaded. Not produced since schedule 5 (uploading stored code
    /// succeeds and costs only its hash); kept so that stored receipts still decode.
    #[codec(index = 12)]
    CodeExists(Hash),
    /// A balance would exceed `u128::MAX`.
    #[codec(index = 13)]
    BalanceOverflow(Address),
    /// The sender may not upgrade or re-administer this contract: it is not its admin, or the
    /// contract has none (it is immutable).
    #[codec(index = 14)]
    NotAdmin {
        /// The contract.
        contract: Address,
        /// Its admin; `None`: immutable.
        admin: Option<Address>,
    },
    /// An upgrade gave arguments for a migration, and the new code has no `migrate` entry.
    #[codec(index = 15)]
    NoMigrate(Hash),
}

impl core::fmt::Display for ExecError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::OutOfGas => write!(f, "out of gas"),
            Self::Reverted { contract, data } => match core::str::from_utf8(data) {
                Ok(msg) => write!(f, "contract {contract} reverted: {msg}"),
                Err(_) => write!(f, "contract {contract} reverted with {} bytes of data", data.len()),
            },
            Self::Trap { contract, kind } => write!(f, "contract {contract} trapped: {kind:?}"),
            Self::InsufficientBalance { account, needed, available } => {
                write!(f, "insufficient balance: {account} has {available}, needs {needed}")
            }
            Self::InsufficientDeposit { needed, available } => {
                write!(f, "insufficient balance for storage deposit: needs {needed}, has {available}")
            }
            Self::CodeNotFound(h) => write!(f, "no code with hash {h}"),
            Self::ContractNotFound(a) => write!(f, "no contract at {a}"),
            Self::ContractExists(a) => write!(f, "a contract already exists at {a}"),
            Self::MethodNotFound { contract, method } => {
                write!(f, "contract {contract} has no callable method {method:?}")
            }
            Self::ReentrancyRefused(a) => write!(f, "reentrant call into {a} refused (not opted in)"),
            Self::LimitExceeded { limit, value, max } => {
                write!(f, "{limit:?} limit exceeded: {value} > {max}")
            }
            Self::InvalidCode(m) => write!(f, "invalid code: {m}"),
            Self::CodeExists(h) => write!(f, "code {h} is already uploaded"),
            Self::BalanceOverflow(a) => write!(f, "balance of {a} would overflow"),
            Self::NotAdmin { contract, admin: Some(admin) } => {
                write!(f, "only the admin of {contract}, {admin}, may upgrade it or change its admin")
            }
            Self::NotAdmin { contract, admin: None } => {
                write!(f, "contract {contract} is immutable: it has no admin, so it cannot be upgraded")
            }
            Self::NoMigrate(h) => {
                write!(f, "code {h} has no `migrate` entry, so the upgrade can take no arguments")
            }
        }
    }
}

/// Whether an included transaction succeeded.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub enum ExecStatus {
    /// It succeeded; its state changes are kept.
    #[codec(index = 0)]
    Success,
    /// It failed; only the nonce increment, the fee and the gas are kept.
    #[codec(index = 1)]
    Failed(ExecError),
}

/// The outcome of one included transaction.
///
/// Decoding applies `MAX_EVENTS_PER_TX` and `MAX_RETURN_DATA_BYTES` (and the limits of
/// [`Event`]); the encoding is the derived one.
#[derive(Clone, PartialEq, Eq, Debug, Encode)]
pub struct Receipt {
    /// The transaction's hash.
    pub tx_hash: Hash,
    /// Success or the error.
    pub status: ExecStatus,
    /// Gas charged.
    pub gas_used: Gas,
    /// Fee paid to the proposer: `gas_used × gas_price`.
    pub fee: Amount,
    /// Storage deposit taken from the sender for bytes this transaction added.
    pub deposit_charged: Amount,
    /// Storage deposit returned to the sender for bytes this transaction freed.
    pub deposit_refunded: Amount,
    /// Events, in emission order (none when the transaction failed).
    pub events: Vec<Event>,
    /// What the outermost call returned.
    pub return_data: Vec<u8>,
    /// The address of the contract an `Instantiate` created.
    pub contract_address: Option<Address>,
}

impl Decode for Event {
    fn decode<I: Input>(input: &mut I) -> Result<Self, parity_scale_codec::Error> {
        Ok(Self {
            contract: Address::decode(input)?,
            topics: BoundedVec::<Hash, TopicsLimit>::decode(input)?.into_inner(),
            data: BoundedBytes::<EventDataLimit>::decode(input)?.into_inner(),
        })
    }
}

impl Decode for Receipt {
    fn decode<I: Input>(input: &mut I) -> Result<Self, parity_scale_codec::Error> {
        Ok(Self {
            tx_hash: Hash::decode(input)?,
            status: ExecStatus::decode(input)?,
            gas_used: Gas::decode(input)?,
            fee: Amount::decode(input)?,
            deposit_charged: Amount::decode(input)?,
            deposit_refunded: Amount::decode(input)?,
            events: BoundedVec::<Event, EventsLimit>::decode(input)?.into_inner(),
            return_data: BoundedBytes::<ReturnDataLimit>::decode(input)?.into_inner(),
            contract_address: Option::<Address>::decode(input)?,
        })
    }
}

impl Receipt {
    /// Decodes a receipt with every limit applied (see [`crate::codec`]).
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, MAX_RECEIPT_BYTES, "receipt")
    }

    /// SHA3-256 of the receipt's encoding; the leaves of a header's receipts root.
    pub fn hash(&self) -> Hash {
        crate::hash::sha3_256(&self.encode())
    }

    /// Whether the transaction succeeded.
    pub fn is_success(&self) -> bool {
        self.status == ExecStatus::Success
    }
}
