//! [`Client`]: one WebSocket connection to a node, every RPC method typed, and the chain
//! parameters (chain id, minimum gas price) the transaction builder needs.
//!
//! Transport: WebSocket only. The node serves HTTP and WebSocket on one port, so an `http://`
//! URL is used as the `ws://` URL of the same host and port; one transport keeps one code path
//! for calls and subscriptions. `wss://`/`https://` need the `tls` feature.

use std::{collections::HashMap, sync::Arc, time::Duration};

use futures_util::StreamExt as _;
use jsonrpsee::{
    async_client::{Client as WsClient, ClientBuilder},
    client_transport::ws::{Url, WsTransportClientBuilder},
    core::client::Subscription,
};
use parity_scale_codec::Encode as _;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{Mutex, OnceCell};
use weft_rpc_api::{
    AccountInfo, AmountArg, BlockId, BlockInfo, Bytes, Estimate, EstimateRequest, EventFilter, EventInfo,
    EventPage, EvidenceInfo, HeaderInfo, Health, NodeInfo, NodeMetrics, PeerInfo, QueryRequest, QueryResult,
    ReceiptInfo, SnapshotId, StateProofInfo, SubmitResult, TxInfo, TxStatus,
};
use weft_rpc_api::{
    ChainApiClient, ContractApiClient, DevApiClient, DiscoverApiClient, NodeApiClient, StateApiClient,
    TxApiClient,
};
use weft_types::{Address, Amount, ChainId, Hash, SignedTransaction};

use crate::error::{ClientError, Result};

/// How long one request may take before [`ClientError::Timeout`].
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long connecting may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default node URL, that of `weft-node dev`.
pub const DEFAULT_URL: &str = "ws://127.0.0.1:9944";
/// Events buffered per subscription before the node's sends wait on this client.
const SUBSCRIPTION_BUFFER: usize = 4096;

/// A stream of subscription items; dropping it unsubscribes.
pub type ClientStream<T> = std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<T>> + Send>>;

/// Options of [`Client::connect_with`].
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// How long one request may take.
    pub request_timeout: Duration,
    /// How long connecting may take.
    pub connect_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { request_timeout: DEFAULT_REQUEST_TIMEOUT, connect_timeout: DEFAULT_CONNECT_TIMEOUT }
    }
}

/// The chain parameters a transaction needs, read once from `node_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainParams {
    /// The chain id every transaction carries.
    pub chain_id: ChainId,
    /// The node's minimum gas price: the default gas price.
    pub min_gas_price: Amount,
}

/// A connection to a Weft node. Cheap to clone: clones share the connection and the nonce
/// bookkeeping.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    rpc: WsClient,
    url: String,
    request_timeout: Duration,
    params: OnceCell<ChainParams>,
    /// For each sender this client has sent from: the next nonce and the hash of the last
    /// transaction sent (see `tx`).
    pub(crate) nonces: Mutex<HashMap<Address, (u64, Hash)>>,
    /// Held while a send picks its nonce and submits.
    pub(crate) send_lock: Mutex<()>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("url", &self.inner.url).finish_non_exhaustive()
    }
}

/// Turns a user-given node URL into the WebSocket URL to dial: `ws://` and `wss://` as they are,
/// `http://` → `ws://`, `https://` → `wss://`, and a bare `host:port` → `ws://host:port`.
pub fn ws_url(url: &str) -> Result<Url> {
    let url = url.trim();
    let text = if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if url.contains("://") {
        url.to_string()
    } else {
        format!("ws://{url}")
    };
    let parsed =
        Url::parse(&text).map_err(|e| ClientError::InvalidInput(format!("invalid node URL {url:?}: {e}")))?;
    match parsed.scheme() {
        "ws" => Ok(parsed),
        "wss" if cfg!(feature = "tls") => Ok(parsed),
        "wss" => Err(ClientError::InvalidInput(format!(
            "{url}: TLS is not built into this client (enable weft-client's `tls` feature)"
        ))),
        other => Err(ClientError::InvalidInput(format!(
            "invalid node URL {url:?}: scheme {other:?} is not ws, wss, http or https"
        ))),
    }
}

impl Client {
    /// Connects to the node at `url` (`ws://`, `http://` or `host:port`; see [`ws_url`]).
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, ConnectOptions::default()).await
    }

    /// Connects with explicit timeouts.
    pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<Self> {
        let target = ws_url(url)?;
        let shown = url.trim().to_string();
        let (sender, receiver) = WsTransportClientBuilder::default()
            .connection_timeout(options.connect_timeout)
            .max_request_size(16 * 1024 * 1024)
            .max_response_size(64 * 1024 * 1024)
            .build(target)
            .await
            .map_err(|e| ClientError::Connect { url: shown.clone(), reason: connect_reason(&e) })?;
        let rpc = ClientBuilder::default()
            .request_timeout(options.request_timeout)
            .max_buffer_capacity_per_subscription(SUBSCRIPTION_BUFFER)
            .build_with_tokio(sender, receiver);
        Ok(Self {
            inner: Arc::new(Inner {
                rpc,
                url: shown,
                request_timeout: options.request_timeout,
                params: OnceCell::new(),
                nonces: Mutex::new(HashMap::new()),
                send_lock: Mutex::new(()),
            }),
        })
    }

    /// The URL this client was connected with.
    pub fn url(&self) -> &str {
        &self.inner.url
    }

    /// The raw jsonrpsee client: every method of the API is available on it with the namespaces'
    /// client traits in scope (`weft_rpc_api::{NodeApiClient, ChainApiClient, …}`).
    pub fn rpc(&self) -> &WsClient {
        &self.inner.rpc
    }

    /// Whether the connection is still open.
    pub fn is_connected(&self) -> bool {
        self.inner.rpc.is_connected()
    }

    pub(crate) fn map_err(&self, e: jsonrpsee::core::ClientError) -> ClientError {
        match e {
            jsonrpsee::core::ClientError::RequestTimeout => {
                ClientError::Timeout { what: "the node's answer".into(), after: self.inner.request_timeout }
            }
            other => other.into(),
        }
    }

    /// Chain id and minimum gas price, read from `node_info` on first use and then cached.
    pub async fn chain_params(&self) -> Result<ChainParams> {
        self.inner
            .params
            .get_or_try_init(|| async {
                let info = self.node_info().await?;
                Ok(ChainParams { chain_id: info.chain_id, min_gas_price: info.min_gas_price })
            })
            .await
            .copied()
    }

    // ----- node -----

    /// `node_info`: chain id, version, heights, role, minimum gas price.
    pub async fn node_info(&self) -> Result<NodeInfo> {
        self.rpc().node_info().await.map_err(|e| self.map_err(e))
    }

    /// `node_metrics`: the node process's CPU time, resident memory and mempool.
    pub async fn metrics(&self) -> Result<NodeMetrics> {
        self.rpc().node_metrics().await.map_err(|e| self.map_err(e))
    }

    /// `node_health`.
    pub async fn health(&self) -> Result<Health> {
        self.rpc().node_health().await.map_err(|e| self.map_err(e))
    }

    /// `node_peers`.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>> {
        self.rpc().node_peers().await.map_err(|e| self.map_err(e))
    }

    /// `node_evidence`: the evidence of equivocation the node has seen and kept.
    pub async fn evidence(&self) -> Result<Vec<EvidenceInfo>> {
        self.rpc().node_evidence().await.map_err(|e| self.map_err(e))
    }

    // ----- chain -----

    /// `chain_getHead`: the newest block's header.
    pub async fn head(&self) -> Result<HeaderInfo> {
        self.rpc().chain_get_head().await.map_err(|e| self.map_err(e))
    }

    /// `chain_getFinalized`: the newest finalized block's header.
    pub async fn finalized_head(&self) -> Result<HeaderInfo> {
        self.rpc().chain_get_finalized().await.map_err(|e| self.map_err(e))
    }

    /// `chain_getBlock`: a block by height, hash or tag (`None` when unknown); with `full`,
    /// its transactions too.
    pub async fn block(&self, id: BlockId, full: bool) -> Result<Option<BlockInfo>> {
        self.rpc().chain_get_block(id, Some(full)).await.map_err(|e| self.map_err(e))
    }

    /// `chain_subscribeHeads`: every new block's header.
    pub async fn subscribe_heads(&self) -> Result<ClientStream<HeaderInfo>> {
        let sub = self.rpc().chain_subscribe_heads().await.map_err(|e| self.map_err(e))?;
        Ok(stream(sub))
    }

    /// `chain_subscribeFinalized`: every newly finalized block's header.
    pub async fn subscribe_finalized(&self) -> Result<ClientStream<HeaderInfo>> {
        let sub = self.rpc().chain_subscribe_finalized().await.map_err(|e| self.map_err(e))?;
        Ok(stream(sub))
    }

    // ----- state -----

    /// `state_getAccount`: an account at the head (balance 0 and nonce 0 when never seen).
    pub async fn account(&self, address: Address) -> Result<AccountInfo> {
        self.rpc().state_get_account(address).await.map_err(|e| self.map_err(e))
    }

    /// `state_getStorage`: a contract's storage value at the head.
    pub async fn storage(&self, contract: Address, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let value =
            self.rpc().state_get_storage(contract, Bytes(key.to_vec())).await.map_err(|e| self.map_err(e))?;
        Ok(value.map(|b| b.0))
    }

    /// `state_getProof`, unverified: proofs of an account and some of its storage keys against
    /// the finalized state root. See [`Client::verified_state`] (feature `proofs`).
    pub async fn proof(&self, address: Address, keys: &[Vec<u8>]) -> Result<StateProofInfo> {
        let keys = keys.iter().map(|k| Bytes(k.clone())).collect();
        self.rpc().state_get_proof(address, Some(keys)).await.map_err(|e| self.map_err(e))
    }

    // ----- transactions -----

    /// `tx_submit`: submits a signed transaction; returns its hash (checked against the
    /// locally computed one).
    pub async fn submit(&self, tx: &SignedTransaction) -> Result<Hash> {
        let hash = self.rpc().tx_submit(Bytes(tx.encode())).await.map_err(|e| self.map_err(e))?;
        if hash != tx.hash() {
            return Err(ClientError::Protocol(format!(
                "the node named the transaction {hash}, but its hash is {}",
                tx.hash()
            )));
        }
        Ok(hash)
    }

    /// `tx_submitBatch`: one result per transaction, in order.
    pub async fn submit_batch(&self, txs: &[SignedTransaction]) -> Result<Vec<SubmitResult>> {
        let txs = txs.iter().map(|tx| Bytes(tx.encode())).collect();
        self.rpc().tx_submit_batch(txs).await.map_err(|e| self.map_err(e))
    }

    /// `tx_submitBatch` of transactions encoded ahead of time (SCALE bytes, as a load generator
    /// prepares them): one result per transaction, in order.
    pub async fn submit_batch_encoded(&self, txs: Vec<Bytes>) -> Result<Vec<SubmitResult>> {
        self.rpc().tx_submit_batch(txs).await.map_err(|e| self.map_err(e))
    }

    /// `tx_getReceipt`: the receipt of an included transaction, `None` when not included.
    pub async fn receipt(&self, hash: Hash) -> Result<Option<ReceiptInfo>> {
        self.rpc().tx_get_receipt(hash).await.map_err(|e| self.map_err(e))
    }

    /// `tx_get`: a transaction, included or pending; `None` when unknown.
    pub async fn transaction(&self, hash: Hash) -> Result<Option<TxInfo>> {
        self.rpc().tx_get(hash).await.map_err(|e| self.map_err(e))
    }

    /// `tx_subscribeStatus`: the status now, then every change until final or dropped.
    pub async fn subscribe_tx_status(&self, hash: Hash) -> Result<ClientStream<TxStatus>> {
        let sub = self.rpc().tx_subscribe_status(hash).await.map_err(|e| self.map_err(e))?;
        Ok(stream(sub))
    }

    // ----- contracts -----

    /// `contract_query`: a read-only call at the head.
    pub async fn query_raw(&self, request: QueryRequest) -> Result<QueryResult> {
        self.rpc().contract_query(request).await.map_err(|e| self.map_err(e))
    }

    /// `contract_estimateGas`: an exact dry run at the head.
    pub async fn estimate(&self, request: EstimateRequest) -> Result<Estimate> {
        self.rpc().contract_estimate_gas(request).await.map_err(|e| self.map_err(e))
    }

    /// `contract_getAbi`: a contract's ABI JSON; `None` when its code carries none.
    pub async fn abi_json(&self, contract: Address) -> Result<Option<Value>> {
        self.rpc().contract_get_abi(contract).await.map_err(|e| self.map_err(e))
    }

    /// `state_hasCode`: whether code with `code_hash` is uploaded.
    pub async fn has_code(&self, code_hash: Hash) -> Result<bool> {
        self.rpc().state_has_code(code_hash).await.map_err(|e| self.map_err(e))
    }

    /// `contract_getCode`: a contract's wasm.
    pub async fn code(&self, contract: Address) -> Result<Vec<u8>> {
        self.rpc().contract_get_code(contract).await.map(|b| b.0).map_err(|e| self.map_err(e))
    }

    /// `contract_getEvents`: one page of past events.
    pub async fn events_page(&self, filter: EventFilter) -> Result<EventPage> {
        self.rpc().contract_get_events(filter).await.map_err(|e| self.map_err(e))
    }

    /// Every past event matching `filter`, following the pages; refuses to collect more than
    /// `max` events (the range is then too wide: narrow it, or page with
    /// [`Client::events_page`]).
    pub async fn events(&self, mut filter: EventFilter, max: usize) -> Result<Vec<EventInfo>> {
        let mut out = Vec::new();
        loop {
            let page = self.events_page(filter.clone()).await?;
            out.extend(page.events);
            if out.len() > max {
                return Err(ClientError::InvalidInput(format!(
                    "more than {max} events match; narrow the block range or the filter"
                )));
            }
            match page.next_cursor {
                Some(cursor) if filter.cursor.as_ref() != Some(&cursor) => filter.cursor = Some(cursor),
                Some(_) => {
                    return Err(ClientError::Protocol(
                        "the node returned the same event cursor twice".into(),
                    ));
                }
                None => return Ok(out),
            }
        }
    }

    /// `contract_subscribeEvents`: matching events as their blocks are committed (the block
    /// range of the filter is ignored).
    pub async fn subscribe_events(&self, filter: EventFilter) -> Result<ClientStream<EventInfo>> {
        let sub = self.rpc().contract_subscribe_events(filter).await.map_err(|e| self.map_err(e))?;
        Ok(stream(sub))
    }

    // ----- dev -----

    /// `dev_mine`: produces `count` blocks now (dev nodes only); returns the new head.
    pub async fn dev_mine(&self, count: u32) -> Result<HeaderInfo> {
        self.rpc().dev_mine(Some(count)).await.map_err(|e| self.map_err(e))
    }

    /// `dev_setBalance` (dev nodes only).
    pub async fn dev_set_balance(&self, address: Address, balance: Amount) -> Result<AccountInfo> {
        self.rpc().dev_set_balance(address, AmountArg(balance)).await.map_err(|e| self.map_err(e))
    }

    /// `dev_increaseTime` (dev nodes only): returns the total offset in ms.
    pub async fn dev_increase_time(&self, ms: u64) -> Result<u64> {
        self.rpc().dev_increase_time(ms).await.map_err(|e| self.map_err(e))
    }

    /// `dev_snapshot` (dev nodes only).
    pub async fn dev_snapshot(&self) -> Result<SnapshotId> {
        self.rpc().dev_snapshot().await.map_err(|e| self.map_err(e))
    }

    /// `dev_revert` (dev nodes only): back to a snapshot. Forgets this client's nonces.
    pub async fn dev_revert(&self, id: SnapshotId) -> Result<HeaderInfo> {
        let head = self.rpc().dev_revert(id).await.map_err(|e| self.map_err(e))?;
        self.inner.nonces.lock().await.clear();
        Ok(head)
    }

    /// `rpc.discover`: the OpenRPC document.
    pub async fn discover(&self) -> Result<Value> {
        self.rpc().rpc_discover().await.map_err(|e| self.map_err(e))
    }
}

fn stream<T: DeserializeOwned + Send + Unpin + 'static>(sub: Subscription<T>) -> ClientStream<T> {
    Box::pin(
        sub.map(|item| {
            item.map_err(|e| ClientError::Protocol(format!("undecodable subscription item: {e}")))
        }),
    )
}

/// The words of a handshake error, without jsonrpsee's wrapping.
fn connect_reason(e: &jsonrpsee::client_transport::ws::WsHandshakeError) -> String {
    use jsonrpsee::client_transport::ws::WsHandshakeError as E;
    match e {
        E::Io(io) => io.to_string(),
        E::Timeout(after) => format!("no answer within {}s", after.as_secs_f64()),
        E::Rejected { status_code } => {
            format!("the server refused the WebSocket upgrade (HTTP {status_code})")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_map_to_websocket() {
        assert_eq!(ws_url("ws://127.0.0.1:9944").expect("ws").as_str(), "ws://127.0.0.1:9944/");
        assert_eq!(ws_url("http://127.0.0.1:9944").expect("http").as_str(), "ws://127.0.0.1:9944/");
        assert_eq!(ws_url("localhost:1").expect("bare").as_str(), "ws://localhost:1/");
        assert!(ws_url("ftp://x").is_err());
        assert!(ws_url("ws://").is_err());
        if !cfg!(feature = "tls") {
            let err = ws_url("https://example.org").expect_err("no tls");
            assert!(err.to_string().contains("tls"), "{err}");
        }
    }

    #[tokio::test]
    async fn unreachable_node_is_a_connect_error() {
        // Bind then drop a listener: nothing listens on that port afterwards.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let url = format!("ws://127.0.0.1:{port}");
        let err = Client::connect(&url).await.expect_err("nothing listens");
        assert!(matches!(err, ClientError::Connect { .. }), "{err:?}");
        assert!(err.to_string().starts_with(&format!("cannot connect to {url}")), "{err}");
        assert!(err.is_connection());
    }
}
