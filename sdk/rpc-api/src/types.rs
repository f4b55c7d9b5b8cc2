//! The JSON shapes of the API. Conventions: hashes, addresses and byte strings are `0x` hex;
//! amounts (`u128`) are decimal strings, because JSON numbers lose precision past 2^53; heights,
//! nonces and gas are numbers.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use serde_json::Value;
use weft_types::{Address, Amount, Gas, Hash, Height};

/// `u128` as a decimal string (a JSON number is accepted when it is a non-negative integer).
pub mod amount {
    use super::*;

    /// Serializes as a decimal string.
    pub fn serialize<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    /// Accepts `"123"` or `123`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => s.parse().map_err(|_| {
                de::Error::custom(format!("amount {s:?} is not a decimal integer between 0 and 2^128-1"))
            }),
            Value::Number(n) => n
                .as_u64()
                .map(u128::from)
                .ok_or_else(|| de::Error::custom(format!("amount {n} is not a non-negative integer"))),
            other => Err(de::Error::custom(format!("amount must be a decimal string, got {other}"))),
        }
    }
}

/// `Option<u128>` as an optional decimal string.
pub mod amount_opt {
    use super::*;

    /// Serializes as a decimal string or null.
    pub fn serialize<S: Serializer>(v: &Option<u128>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    /// Accepts null, `"123"` or `123`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u128>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            v => super::amount::deserialize(v).map(Some).map_err(de::Error::custom),
        }
    }
}

/// Bytes as `0x` hex (even number of digits).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&weft_types::hex::Hex(&self.0), f)
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&weft_types::hex::Hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        weft_types::hex::decode(&s)
            .map(Bytes)
            .map_err(|e| de::Error::custom(format_args!("hex bytes {s:.20?}: {e}")))
    }
}

/// A block, named by height, hash, or tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockId {
    /// By height.
    Height(Height),
    /// By hash.
    Hash(Hash),
    /// The newest block.
    Head,
    /// The newest finalized block.
    Finalized,
}

impl Serialize for BlockId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            BlockId::Height(h) => s.serialize_u64(*h),
            BlockId::Hash(h) => h.serialize(s),
            BlockId::Head => s.serialize_str("head"),
            BlockId::Finalized => s.serialize_str("finalized"),
        }
    }
}

impl<'de> Deserialize<'de> for BlockId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_u64()
                .map(BlockId::Height)
                .ok_or_else(|| de::Error::custom(format!("block height {n} is not a non-negative integer"))),
            Value::String(s) if s == "head" || s == "latest" => Ok(BlockId::Head),
            Value::String(s) if s == "finalized" => Ok(BlockId::Finalized),
            Value::String(s) => s.parse().map(BlockId::Hash).map_err(|e| {
                de::Error::custom(format!(
                    "block id must be a height, a 0x block hash, \"head\" or \"finalized\": {e}"
                ))
            }),
            other => Err(de::Error::custom(format!(
                "block id must be a height, a 0x block hash, \"head\" or \"finalized\", got {other}"
            ))),
        }
    }
}

/// `node_info`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The chain id transactions must carry.
    pub chain_id: u64,
    /// The node's software version.
    pub version: String,
    /// The node's libp2p peer id, when it is networked.
    pub peer_id: Option<String>,
    /// Height of the newest block.
    pub height: Height,
    /// Height of the newest finalized block.
    pub finalized_height: Height,
    /// Whether this node votes.
    pub validator: bool,
    /// Whether the `dev_*` methods are enabled.
    pub dev: bool,
    /// The minimum gas price the node accepts.
    #[serde(with = "amount")]
    pub min_gas_price: Amount,
}

/// `node_health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// True when the node is not catching up and has peers (or is the only validator).
    pub healthy: bool,
    /// Height of the newest block.
    pub height: Height,
    /// Height of the newest finalized block.
    pub finalized_height: Height,
    /// Connected peers.
    pub peers: u32,
    /// True while the node catches up: compiling stored contract code at start (before it
    /// executes blocks), or fetching blocks it missed from its peers.
    pub syncing: bool,
    /// Transactions waiting in the mempool.
    pub pending_txs: u32,
}

/// `node_metrics`: the node process's resource use as the operating system reports it (Linux:
/// `/proc/self/stat` and `/proc/self/status`; elsewhere the process figures are `None`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeMetrics {
    /// CPU time spent in user mode since the process started, in milliseconds.
    pub cpu_user_ms: Option<u64>,
    /// CPU time spent in the kernel since the process started, in milliseconds.
    pub cpu_system_ms: Option<u64>,
    /// Resident memory now, in bytes.
    pub rss_bytes: Option<u64>,
    /// The most resident memory so far, in bytes.
    pub rss_peak_bytes: Option<u64>,
    /// Threads of the process.
    pub threads: Option<u32>,
    /// Milliseconds since the node started serving.
    pub uptime_ms: u64,
    /// Transactions waiting in the mempool.
    pub pending_txs: u32,
    /// Encoded bytes waiting in the mempool.
    pub pending_bytes: u64,
    /// Height of the newest block.
    pub height: Height,
    /// Gossiped transactions dropped because their peer sent over its budget
    /// (`p2p.gossip_tx_rate`, `p2p.gossip_tx_burst`), since the node started.
    #[serde(default)]
    pub gossip_txs_over_peer_limit: u64,
    /// Gossiped transactions dropped because the admission queue was full (the node was not
    /// keeping up), since the node started.
    #[serde(default)]
    pub gossip_txs_queue_full: u64,
    /// Consensus gossip dropped because its peer sent more useless messages (known, stale or
    /// refused) than its budget, since the node started.
    #[serde(default)]
    pub gossip_consensus_over_peer_limit: u64,
    /// Contract modules this node compiled since it started: one per upload it executed, plus
    /// any whose compiled form was missing (at start, or lost while running).
    #[serde(default)]
    pub code_compiled: u64,
    /// Contract executions for RPC clients refused as busy (over `max_executions` or
    /// `max_executions_per_connection` for longer than `execution_wait`), since it started.
    #[serde(default)]
    pub rpc_executions_busy: u64,
}

/// One entry of `node_peers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The peer's libp2p id.
    pub peer_id: String,
    /// Its address as seen by this node.
    pub address: String,
}

/// A piece of evidence of equivocation this node saw and kept (`node_evidence`): one validator
/// signed two messages that cannot both be honest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceInfo {
    /// The view both messages are of.
    pub view: u64,
    /// The validator that signed both.
    pub offender: Address,
    /// The two messages.
    pub conflict: Conflict,
    /// `SCALE(Evidence)` (docs/protocol.md): both messages with their signatures, for anyone to
    /// check.
    pub raw: Bytes,
}

/// The two messages of a piece of evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Conflict {
    /// Two votes of one view that contradict each other.
    Votes {
        /// The first vote.
        first: VoteInfo,
        /// The second vote.
        second: VoteInfo,
    },
    /// Two proposals of different blocks for one view.
    Proposals {
        /// The first proposal.
        first: ProposalInfo,
        /// The second proposal.
        second: ProposalInfo,
    },
}

/// A consensus vote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteInfo {
    /// `notarize`, `finalize` (of a block) or `nullify` (of the view).
    pub kind: String,
    /// The view.
    pub view: u64,
    /// The block voted for (none for `nullify`).
    pub block: Option<BlockRefInfo>,
}

/// A block of a view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRefInfo {
    /// Its height.
    pub height: Height,
    /// Its hash.
    pub hash: Hash,
}

/// A leader's proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalInfo {
    /// The view of the parent block.
    pub parent_view: u64,
    /// The proposed block.
    pub block: BlockRefInfo,
}

/// A block header with its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderInfo {
    /// The block hash: SHA3-256 of the SCALE-encoded header.
    pub hash: Hash,
    /// Height.
    pub height: Height,
    /// The parent block's hash.
    pub parent_hash: Hash,
    /// Consensus timestamp.
    pub timestamp_ms: u64,
    /// Validator that proposed it.
    pub proposer: Address,
    /// Merkle root of the transactions.
    pub tx_root: Hash,
    /// Merkle root of the receipts.
    pub receipts_root: Hash,
    /// State root after the block.
    pub state_root: Hash,
    /// Gas used by the block.
    pub gas_used: Gas,
    /// Number of transactions.
    pub tx_count: u32,
}

/// `chain_getBlock`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockInfo {
    /// The header.
    pub header: HeaderInfo,
    /// Transaction hashes, in block order.
    pub tx_hashes: Vec<Hash>,
    /// The full transactions, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactions: Option<Vec<TxInfo>>,
}

/// Where an included transaction sits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxLocation {
    /// Block height.
    pub block_height: Height,
    /// Block hash.
    pub block_hash: Hash,
    /// Position in the block.
    pub index: u32,
}

/// A transaction as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxInfo {
    /// SHA3-256 of the SCALE-encoded signed transaction.
    pub hash: Hash,
    /// Chain id.
    pub chain_id: u64,
    /// Sender.
    pub sender: Address,
    /// Sender nonce.
    pub nonce: u64,
    /// Gas limit.
    pub gas_limit: Gas,
    /// Gas price.
    #[serde(with = "amount")]
    pub gas_price: Amount,
    /// What it does.
    pub action: ActionInfo,
    /// The ed25519 signature.
    pub signature: Bytes,
    /// Where it was included (absent while pending).
    pub location: Option<TxLocation>,
}

/// A transaction's action as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ActionInfo {
    /// Native transfer.
    Transfer {
        /// Recipient.
        to: Address,
        /// Amount.
        #[serde(with = "amount")]
        amount: Amount,
    },
    /// Code upload.
    UploadCode {
        /// SHA3-256 of the code.
        code_hash: Hash,
        /// Code size in bytes.
        size: u32,
    },
    /// Contract instantiation.
    Instantiate {
        /// Code to instantiate.
        code_hash: Hash,
        /// Constructor input.
        args: Bytes,
        /// Value sent to the constructor.
        #[serde(with = "amount")]
        value: Amount,
        /// Salt of the address derivation.
        salt: Bytes,
    },
    /// Contract call.
    Call {
        /// The contract.
        contract: Address,
        /// Method name.
        method: String,
        /// Input bytes.
        args: Bytes,
        /// Value sent.
        #[serde(with = "amount")]
        value: Amount,
    },
    /// Contract upgrade by its admin.
    Upgrade {
        /// The contract.
        contract: Address,
        /// Its new code.
        code_hash: Hash,
        /// Input of the new code's `migrate`.
        args: Bytes,
    },
    /// Change of a contract's admin (`null`: immutable from then on).
    SetAdmin {
        /// The contract.
        contract: Address,
        /// The new admin.
        admin: Option<Address>,
    },
}

/// `state_getAccount`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// The address.
    pub address: Address,
    /// Spendable balance.
    #[serde(with = "amount")]
    pub balance: Amount,
    /// The nonce of the account's next transaction to be included (committed state).
    pub nonce: u64,
    /// The nonce to sign the next transaction with: past the account's transactions waiting in
    /// the mempool, without gaps.
    pub pending_nonce: u64,
    /// Code hash, for a contract.
    pub code_hash: Option<Hash>,
    /// Bytes of contract storage.
    pub storage_bytes: u64,
    /// Storage deposit held.
    #[serde(with = "amount")]
    pub deposit: Amount,
    /// Height of the state read.
    pub height: Height,
}

/// One key of a `state_getProof` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofItem {
    /// The state key (see `weft_types::state`).
    pub key: Bytes,
    /// Its value, or null when absent.
    pub value: Option<Bytes>,
    /// The SCALE-encoded `StateProof` of the key's value or absence.
    pub proof: Bytes,
}

/// `state_getProof`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateProofInfo {
    /// The finalized header the proofs are against.
    pub header: HeaderInfo,
    /// The account key.
    pub account: ProofItem,
    /// The requested storage keys.
    pub storage: Vec<ProofItem>,
}

/// One result of `tx_submitBatch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitResult {
    /// The transaction hash, when accepted.
    pub hash: Option<Hash>,
    /// Why it was refused.
    pub error: Option<ErrorInfo>,
}

/// An application error: a stable code and a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// One of `crate::codes`.
    pub code: i32,
    /// What was wrong.
    pub message: String,
}

/// A failed execution, decoded as far as the contract's ABI allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecErrorInfo {
    /// `out_of_gas`, `reverted`, `trap`, `insufficient_balance`, `limit`, …
    pub kind: String,
    /// One line for humans.
    pub message: String,
    /// The contract that failed, when one did.
    pub contract: Option<Address>,
    /// For `reverted`: the panic message, if the contract panicked.
    pub panic: Option<String>,
    /// For `reverted`: the typed error decoded through the ABI.
    pub error: Option<Value>,
    /// For `reverted`: the raw revert data.
    pub revert_data: Option<Bytes>,
    /// For `trap`: the wasm backtrace, innermost frame first, with function names when the
    /// module has a name section (queries and estimates only).
    pub backtrace: Option<Vec<String>>,
    /// The SCALE-encoded `ExecError`.
    pub raw: Bytes,
}

/// An event, with its decoding when the emitter has an ABI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInfo {
    /// The emitting contract.
    pub contract: Address,
    /// Topics.
    pub topics: Vec<Hash>,
    /// Data.
    pub data: Bytes,
    /// The event's name, from the ABI.
    pub name: Option<String>,
    /// The decoded fields, from the ABI.
    pub fields: Option<Value>,
    /// Block height (absent for queries).
    pub block_height: Option<Height>,
    /// Transaction hash (absent for queries).
    pub tx_hash: Option<Hash>,
    /// Position of the event in its transaction.
    pub index: u32,
}

/// `tx_getReceipt`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptInfo {
    /// The transaction.
    pub tx_hash: Hash,
    /// Where it was included.
    pub location: TxLocation,
    /// Whether it succeeded.
    pub success: bool,
    /// Why it failed.
    pub error: Option<ExecErrorInfo>,
    /// Gas charged.
    pub gas_used: Gas,
    /// Fee paid.
    #[serde(with = "amount")]
    pub fee: Amount,
    /// Storage deposit charged.
    #[serde(with = "amount")]
    pub deposit_charged: Amount,
    /// Storage deposit refunded.
    #[serde(with = "amount")]
    pub deposit_refunded: Amount,
    /// Events.
    pub events: Vec<EventInfo>,
    /// Raw return data.
    pub return_data: Bytes,
    /// Return data decoded through the ABI.
    pub return_value: Option<Value>,
    /// Address of an instantiated contract.
    pub contract_address: Option<Address>,
}

/// The life of a transaction, as `tx_subscribeStatus` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum TxStatus {
    /// In the mempool.
    Pending,
    /// In a block.
    Included {
        /// Where.
        location: TxLocation,
        /// Whether it succeeded.
        success: bool,
    },
    /// In a finalized block: final.
    Finalized {
        /// Where.
        location: TxLocation,
        /// Whether it succeeded.
        success: bool,
    },
    /// Removed from the mempool without being included.
    Dropped {
        /// Why.
        reason: String,
    },
    /// The node knows nothing of it.
    Unknown,
}

/// Input of a read-only call or an estimate: JSON arguments through the ABI, or raw input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CallInput {
    /// Arguments as JSON (an object by name or an array in order), encoded through the ABI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Value>,
    /// Raw SCALE input, for contracts without an ABI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Bytes>,
}

/// `contract_query`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryRequest {
    /// The contract.
    pub contract: Address,
    /// The method.
    pub method: String,
    /// Its input.
    #[serde(flatten)]
    pub input: CallInput,
    /// Caller seen by the contract (default: the zero address).
    #[serde(default)]
    pub caller: Option<Address>,
    /// Gas available (default: the per-tx maximum).
    #[serde(default)]
    pub gas_limit: Option<Gas>,
}

/// The answer to `contract_query`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryResult {
    /// Whether the call succeeded.
    pub success: bool,
    /// The return value decoded through the ABI.
    pub value: Option<Value>,
    /// Raw return data.
    pub return_data: Bytes,
    /// Gas the call used.
    pub gas_used: Gas,
    /// Events it would emit.
    pub events: Vec<EventInfo>,
    /// Why it failed.
    pub error: Option<ExecErrorInfo>,
    /// Height of the state it ran on.
    pub height: Height,
}

/// What `contract_estimateGas` dry-runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EstimateAction {
    /// Native transfer.
    Transfer {
        /// Recipient.
        to: Address,
        /// Amount.
        #[serde(with = "amount")]
        amount: Amount,
    },
    /// Code upload.
    UploadCode {
        /// The wasm.
        code: Bytes,
    },
    /// Instantiate uploaded code.
    Instantiate {
        /// The code.
        code_hash: Hash,
        /// Constructor input.
        #[serde(flatten)]
        input: CallInput,
        /// Value.
        #[serde(default, with = "amount_opt")]
        value: Option<Amount>,
        /// Salt.
        #[serde(default)]
        salt: Option<Bytes>,
    },
    /// Contract call.
    Call {
        /// The contract.
        contract: Address,
        /// Method.
        method: String,
        /// Input.
        #[serde(flatten)]
        input: CallInput,
        /// Value.
        #[serde(default, with = "amount_opt")]
        value: Option<Amount>,
    },
    /// Contract upgrade (by its admin).
    Upgrade {
        /// The contract.
        contract: Address,
        /// The new code.
        code_hash: Hash,
        /// Input of the new code's `migrate` (JSON args through its ABI's `migrate`, or hex).
        #[serde(flatten)]
        input: CallInput,
    },
    /// Change of a contract's admin (by its admin).
    SetAdmin {
        /// The contract.
        contract: Address,
        /// The new admin; `null` makes the contract immutable.
        admin: Option<Address>,
    },
}

/// `contract_estimateGas`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstimateRequest {
    /// The sender.
    pub from: Address,
    /// What to run.
    pub action: EstimateAction,
}

/// The answer to `contract_estimateGas`: an exact dry run on the head state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    /// Whether it would succeed.
    pub success: bool,
    /// Gas it uses, including intrinsic gas: the gas limit to set.
    pub gas_used: Gas,
    /// Storage deposit it would charge.
    #[serde(with = "amount")]
    pub storage_deposit: Amount,
    /// Storage deposit it would refund.
    #[serde(with = "amount")]
    pub storage_refund: Amount,
    /// Fee at the node's minimum gas price.
    #[serde(with = "amount")]
    pub fee: Amount,
    /// The return value decoded through the ABI.
    pub value: Option<Value>,
    /// The instantiated contract's address.
    pub contract_address: Option<Address>,
    /// Why it would fail.
    pub error: Option<ExecErrorInfo>,
}

/// `contract_getEvents` and `contract_subscribeEvents`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EventFilter {
    /// Only events of this contract.
    #[serde(default)]
    pub contract: Option<Address>,
    /// Only events with this name (through the emitter's ABI: `topics[0] = sha3_256(name)`).
    #[serde(default)]
    pub event: Option<String>,
    /// Topic filter by position; null matches anything.
    #[serde(default)]
    pub topics: Option<Vec<Option<Hash>>>,
    /// First block (default 0). Ignored by subscriptions.
    #[serde(default)]
    pub from_block: Option<Height>,
    /// Last block (default: the head). Ignored by subscriptions.
    #[serde(default)]
    pub to_block: Option<Height>,
    /// Continue from a previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A page of events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPage {
    /// Matching events, oldest first.
    pub events: Vec<EventInfo>,
    /// Pass as `cursor` to get the next page; null when the range is done.
    pub next_cursor: Option<String>,
}

/// An amount passed as a method parameter: a decimal string (or a JSON integer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountArg(#[serde(with = "amount")] pub Amount);

/// A dev-chain snapshot id.
pub type SnapshotId = u64;
