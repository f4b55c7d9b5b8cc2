//! The Weft JSON-RPC API: one jsonrpsee trait ([`WeftApiServer`] for the node, and with the
//! `client` feature [`WeftApiClient`] for clients), its JSON types, the stable application error
//! codes, and the OpenRPC document that `rpc.discover` serves.
//!
//! Method names are public API: renaming one is a breaking change.

pub mod codes;
pub mod openrpc;
pub mod types;

use jsonrpsee::{core::SubscriptionResult, proc_macros::rpc, types::ErrorObjectOwned};
use serde_json::Value;
use weft_types::{Address, Hash};

pub use types::*;

/// The result of an RPC method.
pub type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// The Weft JSON-RPC API.
#[cfg_attr(not(feature = "client"), rpc(server))]
#[cfg_attr(feature = "client", rpc(server, client))]
pub trait WeftApi {
    /// Chain id, version, peer id, heights, role.
    #[method(name = "node_info")]
    async fn node_info(&self) -> RpcResult<NodeInfo>;

    /// Whether the node is healthy.
    #[method(name = "node_health")]
    async fn node_health(&self) -> RpcResult<Health>;

    /// The node process's own resource use (CPU time, resident memory) and its pools: for load
    /// generators and monitoring of a remote node.
    #[method(name = "node_metrics")]
    async fn node_metrics(&self) -> RpcResult<NodeMetrics>;

    /// Connected peers.
    #[method(name = "node_peers")]
    async fn node_peers(&self) -> RpcResult<Vec<PeerInfo>>;

    /// The evidence of equivocation this node has seen and kept, lowest view first (at most
    /// `MAX_STORED_EVIDENCE` pieces; empty on a dev chain).
    #[method(name = "node_evidence")]
    async fn node_evidence(&self) -> RpcResult<Vec<EvidenceInfo>>;

    /// The newest block's header.
    #[method(name = "chain_getHead")]
    async fn chain_get_head(&self) -> RpcResult<HeaderInfo>;

    /// The newest finalized block's header.
    #[method(name = "chain_getFinalized")]
    async fn chain_get_finalized(&self) -> RpcResult<HeaderInfo>;

    /// A block by height, hash or tag; with `full`, the transactions too. Null when unknown.
    #[method(name = "chain_getBlock")]
    async fn chain_get_block(&self, id: BlockId, full: Option<bool>) -> RpcResult<Option<BlockInfo>>;

    /// Every new block's header.
    #[subscription(name = "chain_subscribeHeads" => "chain_head", unsubscribe = "chain_unsubscribeHeads", item = HeaderInfo)]
    async fn chain_subscribe_heads(&self) -> SubscriptionResult;

    /// Every newly finalized block's header.
    #[subscription(name = "chain_subscribeFinalized" => "chain_finalized", unsubscribe = "chain_unsubscribeFinalized", item = HeaderInfo)]
    async fn chain_subscribe_finalized(&self) -> SubscriptionResult;

    /// An account at the head (a never-seen account has balance 0 and nonce 0).
    #[method(name = "state_getAccount")]
    async fn state_get_account(&self, address: Address) -> RpcResult<AccountInfo>;

    /// A contract's storage value at the head; null when absent.
    #[method(name = "state_getStorage")]
    async fn state_get_storage(&self, contract: Address, key: Bytes) -> RpcResult<Option<Bytes>>;

    /// Merkle proofs of an account and some of its storage keys against the finalized state root.
    #[method(name = "state_getProof")]
    async fn state_get_proof(&self, address: Address, keys: Option<Vec<Bytes>>) -> RpcResult<StateProofInfo>;

    /// Submits a hex SCALE-encoded `SignedTransaction`; returns its hash.
    #[method(name = "tx_submit")]
    async fn tx_submit(&self, tx: Bytes) -> RpcResult<Hash>;

    /// Submits several transactions; one result each, in order.
    #[method(name = "tx_submitBatch")]
    async fn tx_submit_batch(&self, txs: Vec<Bytes>) -> RpcResult<Vec<SubmitResult>>;

    /// The receipt of an included transaction; null when not (yet) included.
    #[method(name = "tx_getReceipt")]
    async fn tx_get_receipt(&self, hash: Hash) -> RpcResult<Option<ReceiptInfo>>;

    /// A transaction, included or pending; null when unknown.
    #[method(name = "tx_get")]
    async fn tx_get(&self, hash: Hash) -> RpcResult<Option<TxInfo>>;

    /// A transaction's status now and on every change until it is finalized or dropped; the
    /// subscription ends after a final status (`finalized`, `dropped`, or `unknown` at once).
    #[subscription(name = "tx_subscribeStatus" => "tx_status", unsubscribe = "tx_unsubscribeStatus", item = TxStatus)]
    async fn tx_subscribe_status(&self, hash: Hash) -> SubscriptionResult;

    /// A read-only call at the head.
    #[method(name = "contract_query")]
    async fn contract_query(&self, request: QueryRequest) -> RpcResult<QueryResult>;

    /// An exact dry run of a transaction at the head: gas used and storage deposit.
    #[method(name = "contract_estimateGas")]
    async fn contract_estimate_gas(&self, request: EstimateRequest) -> RpcResult<Estimate>;

    /// A contract's ABI (docs/abi.md); null when its code carries none.
    #[method(name = "contract_getAbi")]
    async fn contract_get_abi(&self, contract: Address) -> RpcResult<Option<Value>>;

    /// A contract's wasm code.
    #[method(name = "contract_getCode")]
    async fn contract_get_code(&self, contract: Address) -> RpcResult<Bytes>;

    /// Past events matching a filter, a page at a time.
    #[method(name = "contract_getEvents")]
    async fn contract_get_events(&self, filter: EventFilter) -> RpcResult<EventPage>;

    /// Events matching a filter as their blocks are committed.
    #[subscription(name = "contract_subscribeEvents" => "contract_event", unsubscribe = "contract_unsubscribeEvents", item = EventInfo)]
    async fn contract_subscribe_events(&self, filter: EventFilter) -> SubscriptionResult;

    /// Dev only: produces `count` blocks (default 1) now; returns the new head.
    #[method(name = "dev_mine")]
    async fn dev_mine(&self, count: Option<u32>) -> RpcResult<HeaderInfo>;

    /// Dev only: sets an account's balance (in a new block).
    #[method(name = "dev_setBalance")]
    async fn dev_set_balance(&self, address: Address, balance: AmountArg) -> RpcResult<AccountInfo>;

    /// Dev only: moves the clock of the next blocks forward; returns the total offset in ms.
    #[method(name = "dev_increaseTime")]
    async fn dev_increase_time(&self, ms: u64) -> RpcResult<u64>;

    /// Dev only: remembers the current chain; returns an id for `dev_revert`.
    #[method(name = "dev_snapshot")]
    async fn dev_snapshot(&self) -> RpcResult<SnapshotId>;

    /// Dev only: returns the chain to a snapshot (later snapshots are forgotten).
    #[method(name = "dev_revert")]
    async fn dev_revert(&self, id: SnapshotId) -> RpcResult<HeaderInfo>;

    /// The OpenRPC document of this API.
    #[method(name = "rpc.discover")]
    async fn rpc_discover(&self) -> RpcResult<Value>;
}
