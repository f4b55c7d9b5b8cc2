//! The implementation of every `WeftApi` method over the shared [`Chain`].

use std::sync::{Arc, atomic::Ordering};

use jsonrpsee::{
    PendingSubscriptionSink, SubscriptionMessage,
    core::{SubscriptionResult, async_trait},
};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;
use weft_abi::Abi;
use weft_rpc_api::{
    AccountInfo, AmountArg, BlockId, BlockInfo, Bytes, Estimate, EstimateAction, EstimateRequest,
    EventFilter, EventInfo, EventPage, EvidenceInfo, ExecErrorInfo, HeaderInfo, Health, NodeInfo,
    NodeMetrics, PeerInfo, ProofItem, QueryRequest, QueryResult, ReceiptInfo, RpcResult, SnapshotId,
    StateProofInfo, SubmitResult, TxInfo, TxLocation, TxStatus, WeftApiServer,
    codes::{self, err},
    openrpc,
};
use weft_runtime::{BlockEnv, query::DryRunError, state::tree};
use weft_types::{
    Address, Block, Hash, Header, MethodName, Transaction,
    codec::BoundedBytes,
    limits::MAX_TX_GAS,
    state::{account_key, code_key, storage_key},
    tx::Action,
};

use super::{
    RpcConfig,
    convert::{
        chain_error, dev_error, event_info, evidence_info, exec_error_info, header_info, receipt_info,
        submit_error, submit_error_info, tx_info,
    },
    events::{Cursor, Matcher},
};
use crate::{
    chain::{Chain, ChainError, ChainEvent, CommittedBlock},
    dev::{DevCommand, DevControl, dev_proposer},
};

/// The API over a chain.
#[derive(Clone, Debug)]
pub struct WeftRpc {
    chain: Arc<Chain>,
    dev: Option<DevControl>,
    config: RpcConfig,
    started: std::time::Instant,
}

impl WeftRpc {
    /// Serves `chain`; `dev` enables the `dev_*` methods.
    pub fn new(chain: Arc<Chain>, dev: Option<DevControl>, config: RpcConfig) -> Self {
        Self { chain, dev, config, started: std::time::Instant::now() }
    }

    fn dev(&self) -> RpcResult<&DevControl> {
        self.dev.as_ref().ok_or_else(|| {
            err(
                codes::DEV_ONLY,
                "dev_* methods exist only on a development chain (start one with `weft-node dev`)",
            )
        })
    }

    fn head(&self) -> RpcResult<Header> {
        self.chain.ledger.head().map_err(chain_error)
    }

    fn block(&self, id: BlockId) -> RpcResult<Option<Block>> {
        let store = self.chain.ledger.store();
        let found = match id {
            BlockId::Height(h) => store.block_by_height(h),
            BlockId::Hash(h) => store.block_by_hash(&h),
            BlockId::Head | BlockId::Finalized => store.block_by_height(self.head()?.height),
        };
        found.map_err(|e| chain_error(e.into()))
    }

    fn header_info(&self, height: u64) -> RpcResult<HeaderInfo> {
        let block = self
            .block(BlockId::Height(height))?
            .ok_or_else(|| err(codes::NODE_ERROR, format!("block {height} is missing")))?;
        Ok(header_info(&block.header, block.txs.len()))
    }

    fn abi_of(&self) -> impl Fn(&Address) -> Option<Arc<Abi>> + '_ {
        |a| self.chain.ledger.abi(a).ok().flatten()
    }

    fn account_info(&self, address: Address) -> RpcResult<AccountInfo> {
        let head = self.head()?;
        let a = self.chain.ledger.account(&address).map_err(chain_error)?;
        let pending_nonce = self.chain.admission.next_nonce(&address, a.nonce);
        Ok(AccountInfo {
            address,
            balance: a.balance,
            nonce: a.nonce,
            pending_nonce,
            code_hash: a.code_hash,
            storage_bytes: a.storage_bytes,
            deposit: a.deposit,
            height: head.height,
        })
    }

    /// The environment of a read-only run on top of the head: the next block's.
    fn next_env(&self) -> RpcResult<BlockEnv> {
        let head = self.head()?;
        Ok(BlockEnv {
            height: head.height + 1,
            timestamp_ms: head.timestamp_ms + 1,
            proposer: dev_proposer(),
        })
    }

    /// Encodes a call's input: JSON through the ABI, or raw bytes.
    fn encode_input(
        abi: Option<&Abi>,
        method: Option<&str>,
        input: &weft_rpc_api::CallInput,
        contract: impl std::fmt::Display,
    ) -> RpcResult<Vec<u8>> {
        match (&input.args, &input.input) {
            (Some(_), Some(_)) => {
                Err(err(codes::ABI_MISMATCH, "give either args (JSON) or input (hex), not both"))
            }
            (None, Some(raw)) => Ok(raw.0.clone()),
            (None, None) => Ok(Vec::new()),
            (Some(args), None) => {
                let abi = abi.ok_or_else(|| {
                    err(
                        codes::ABI_MISMATCH,
                        format!(
                            "{contract} carries no ABI: pass the input as hex (`input`) instead of JSON args"
                        ),
                    )
                })?;
                let encoded = match method {
                    Some(m) => abi.encode_call(m, args),
                    None => abi.encode_constructor(args),
                };
                encoded.map_err(|e| err(codes::ABI_MISMATCH, e.to_string()))
            }
        }
    }

    fn submit_one(&self, bytes: &[u8]) -> Result<Hash, crate::chain::SubmitError> {
        let hash = self.chain.admission.submit(bytes)?;
        if let Some(dev) = &self.dev {
            dev.wake();
        }
        Ok(hash)
    }

    /// Where an included transaction is.
    fn locate(&self, hash: &Hash) -> RpcResult<Option<(TxLocation, weft_types::Receipt)>> {
        let store = self.chain.ledger.store();
        let Some((height, index, receipt)) = store.receipt(hash).map_err(|e| chain_error(e.into()))? else {
            return Ok(None);
        };
        let block = self
            .block(BlockId::Height(height))?
            .ok_or_else(|| err(codes::NODE_ERROR, format!("block {height} is missing")))?;
        Ok(Some((TxLocation { block_height: height, block_hash: block.hash(), index }, receipt)))
    }

    fn status_of(&self, hash: &Hash) -> RpcResult<TxStatus> {
        if let Some((location, receipt)) = self.locate(hash)? {
            let success = matches!(receipt.status, weft_types::receipt::ExecStatus::Success);
            return Ok(TxStatus::Finalized { location, success });
        }
        if self.chain.admission.get(hash).is_some() {
            return Ok(TxStatus::Pending);
        }
        Ok(TxStatus::Unknown)
    }
}

/// Sends `item`, waiting at most `patience` for room in the connection's bounded buffer: a
/// subscriber that reads keeps up with bursts, one that does not read is dropped with an error
/// rather than buffered without bound.
async fn push(
    sink: &jsonrpsee::SubscriptionSink,
    item: &impl Serialize,
    patience: std::time::Duration,
) -> Result<(), String> {
    let raw = serde_json::value::to_raw_value(item).map_err(|e| e.to_string())?;
    sink.send_timeout(SubscriptionMessage::from(raw), patience).await.map_err(|e| match e {
        jsonrpsee::core::server::SendTimeoutError::Timeout(_) => {
            format!("subscription dropped: the client read no notification for {patience:?}")
        }
        jsonrpsee::core::server::SendTimeoutError::Closed(_) => "connection closed".to_owned(),
    })
}

/// The next chain event, or `None` when the subscriber left or the chain stopped; a subscriber
/// that fell behind the broadcast ends with an error.
async fn next_event(
    sink: &jsonrpsee::SubscriptionSink,
    rx: &mut tokio::sync::broadcast::Receiver<ChainEvent>,
) -> Result<Option<ChainEvent>, String> {
    tokio::select! {
        _ = sink.closed() => Ok(None),
        ev = rx.recv() => match ev {
            Ok(ev) => Ok(Some(ev)),
            Err(RecvError::Closed) => Ok(None),
            Err(RecvError::Lagged(n)) => Err(format!("subscription dropped: {n} notifications behind")),
        },
    }
}

fn header_of(b: &CommittedBlock) -> HeaderInfo {
    header_info(&b.block.header, b.block.txs.len())
}

#[async_trait]
impl WeftApiServer for WeftRpc {
    async fn node_info(&self) -> RpcResult<NodeInfo> {
        let head = self.head()?;
        let meta = self.chain.status.meta();
        Ok(NodeInfo {
            chain_id: self.chain.ledger.runtime().chain_id(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            peer_id: meta.peer_id.clone(),
            height: head.height,
            finalized_height: head.height,
            validator: meta.validator,
            dev: meta.dev,
            min_gas_price: self.chain.ledger.runtime().min_gas_price(),
        })
    }

    async fn node_health(&self) -> RpcResult<Health> {
        let head = self.head()?;
        let pending = self.chain.admission.size().0;
        let peers = self.chain.status.peers().len();
        let syncing = self.chain.status.syncing();
        Ok(Health {
            // Up to date, and connected unless it needs nobody.
            healthy: !syncing && (peers > 0 || self.chain.status.meta().alone),
            height: head.height,
            finalized_height: head.height,
            peers: u32::try_from(peers).unwrap_or(u32::MAX),
            syncing,
            pending_txs: u32::try_from(pending).unwrap_or(u32::MAX),
        })
    }

    async fn node_metrics(&self) -> RpcResult<NodeMetrics> {
        let head = self.head()?;
        let (pending, bytes) = self.chain.admission.size();
        let p = super::metrics::process_stats();
        let drops = self.chain.status.gossip_drops();
        Ok(NodeMetrics {
            cpu_user_ms: p.cpu_user_ms,
            cpu_system_ms: p.cpu_system_ms,
            rss_bytes: p.rss_bytes,
            rss_peak_bytes: p.rss_peak_bytes,
            threads: p.threads,
            uptime_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            pending_txs: u32::try_from(pending).unwrap_or(u32::MAX),
            pending_bytes: u64::try_from(bytes).unwrap_or(u64::MAX),
            height: head.height,
            gossip_txs_over_peer_limit: drops.over_peer_limit.load(Ordering::Relaxed),
            gossip_txs_queue_full: drops.queue_full.load(Ordering::Relaxed),
        })
    }

    async fn node_peers(&self) -> RpcResult<Vec<PeerInfo>> {
        Ok(self
            .chain
            .status
            .peers()
            .into_iter()
            .map(|(peer_id, address)| PeerInfo { peer_id, address })
            .collect())
    }

    async fn node_evidence(&self) -> RpcResult<Vec<EvidenceInfo>> {
        let evidence = self.chain.ledger.store().evidence().map_err(|e| chain_error(e.into()))?;
        Ok(evidence.iter().map(evidence_info).collect())
    }

    async fn chain_get_head(&self) -> RpcResult<HeaderInfo> {
        self.header_info(self.head()?.height)
    }

    async fn chain_get_finalized(&self) -> RpcResult<HeaderInfo> {
        // A single-validator dev chain finalizes every block it commits.
        self.header_info(self.head()?.height)
    }

    async fn chain_get_block(&self, id: BlockId, full: Option<bool>) -> RpcResult<Option<BlockInfo>> {
        let Some(block) = self.block(id)? else { return Ok(None) };
        let hashes: Vec<Hash> = block.txs.iter().map(|t| t.hash()).collect();
        let transactions = full.unwrap_or(false).then(|| {
            let block_hash = block.hash();
            block
                .txs
                .iter()
                .zip(&hashes)
                .zip(0u32..)
                .map(|((t, h), index)| {
                    let location = TxLocation { block_height: block.header.height, block_hash, index };
                    tx_info(t, *h, Some(location))
                })
                .collect()
        });
        Ok(Some(BlockInfo {
            header: header_info(&block.header, block.txs.len()),
            tx_hashes: hashes,
            transactions,
        }))
    }

    async fn chain_subscribe_heads(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        let mut rx = self.chain.events.subscribe();
        let sink = pending.accept().await?;
        while let Some(ev) = next_event(&sink, &mut rx).await? {
            match ev {
                ChainEvent::Block(b) => push(&sink, &header_of(&b), self.config.subscriber_patience).await?,
                ChainEvent::Reset(h) => {
                    push(&sink, &header_info(&h, 0), self.config.subscriber_patience).await?
                }
                ChainEvent::Dropped { .. } => {}
            }
        }
        Ok(())
    }

    async fn chain_subscribe_finalized(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        // Dev chain: every committed block is final.
        self.chain_subscribe_heads(pending).await
    }

    async fn state_get_account(&self, address: Address) -> RpcResult<AccountInfo> {
        self.account_info(address)
    }

    async fn state_get_storage(&self, contract: Address, key: Bytes) -> RpcResult<Option<Bytes>> {
        let max = weft_types::limits::MAX_STORAGE_KEY_BYTES;
        if key.0.len() > max {
            return Err(err(
                codes::LIMIT_EXCEEDED,
                format!("storage key is {} bytes; keys are at most {max}", key.0.len()),
            ));
        }
        let state = self.chain.ledger.state().map_err(chain_error)?;
        let value = state.get(&storage_key(&contract, &key.0)).map_err(|e| chain_error(e.into()))?;
        Ok(value.map(Bytes))
    }

    async fn state_get_proof(&self, address: Address, keys: Option<Vec<Bytes>>) -> RpcResult<StateProofInfo> {
        let keys = keys.unwrap_or_default();
        if keys.len() > 64 {
            return Err(err(
                codes::LIMIT_EXCEEDED,
                format!("{} keys asked for; at most 64 per call", keys.len()),
            ));
        }
        let store = self.chain.ledger.store();
        let state = store.state().map_err(|e| chain_error(e.into()))?;
        let Some(header) = state.head().cloned() else {
            return Err(chain_error(ChainError::NoGenesis));
        };
        let prove = |key: Vec<u8>| -> RpcResult<ProofItem> {
            let (value, proof) =
                tree::prove(&state, header.height, &key).map_err(|e| chain_error(e.into()))?;
            use parity_scale_codec::Encode;
            Ok(ProofItem { key: Bytes(key), value: value.map(Bytes), proof: Bytes(proof.encode()) })
        };
        let account = prove(account_key(&address))?;
        let storage =
            keys.into_iter().map(|k| prove(storage_key(&address, &k.0))).collect::<RpcResult<_>>()?;
        let block = self.block(BlockId::Height(header.height))?;
        Ok(StateProofInfo {
            header: header_info(&header, block.map_or(0, |b| b.txs.len())),
            account,
            storage,
        })
    }

    async fn tx_submit(&self, tx: Bytes) -> RpcResult<Hash> {
        self.submit_one(&tx.0).map_err(|e| submit_error(&e))
    }

    async fn tx_submit_batch(&self, txs: Vec<Bytes>) -> RpcResult<Vec<SubmitResult>> {
        let max = self.config.max_submit_batch;
        if txs.len() > max {
            return Err(err(
                codes::LIMIT_EXCEEDED,
                format!("{} transactions in one tx_submitBatch; at most {max}", txs.len()),
            ));
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let bytes: Vec<&[u8]> = txs.iter().map(|tx| &tx.0[..]).collect();
            let results = this.chain.admission.submit_many(&bytes);
            if results.iter().any(Result::is_ok)
                && let Some(dev) = &this.dev
            {
                dev.wake();
            }
            results
                .into_iter()
                .map(|r| match r {
                    Ok(hash) => SubmitResult { hash: Some(hash), error: None },
                    Err(e) => SubmitResult { hash: None, error: Some(submit_error_info(&e)) },
                })
                .collect()
        })
        .await
        .map_err(|e| err(codes::NODE_ERROR, format!("node error: {e}")))
    }

    async fn tx_get_receipt(&self, hash: Hash) -> RpcResult<Option<ReceiptInfo>> {
        let Some((location, receipt)) = self.locate(&hash)? else { return Ok(None) };
        let block = self.block(BlockId::Height(location.block_height))?;
        let signed = block.as_ref().and_then(|b| b.txs.get(location.index as usize));
        Ok(Some(receipt_info(&receipt, signed, location, &self.abi_of())))
    }

    async fn tx_get(&self, hash: Hash) -> RpcResult<Option<TxInfo>> {
        if let Some(p) = self.chain.admission.get(&hash) {
            return Ok(Some(tx_info(&p.signed, hash, None)));
        }
        let Some((location, _)) = self.locate(&hash)? else { return Ok(None) };
        let block = self.block(BlockId::Height(location.block_height))?;
        Ok(block
            .as_ref()
            .and_then(|b| b.txs.get(location.index as usize))
            .map(|signed| tx_info(signed, hash, Some(location))))
    }

    async fn tx_subscribe_status(&self, pending: PendingSubscriptionSink, hash: Hash) -> SubscriptionResult {
        // Subscribe before looking, so that nothing happening in between is missed.
        let mut rx = self.chain.events.subscribe();
        let sink = pending.accept().await?;
        let status = self.status_of(&hash).map_err(|e| e.message().to_owned())?;
        push(&sink, &status, self.config.subscriber_patience).await?;
        // Final answers end the subscription; so does `Unknown` (subscribe after submitting).
        if matches!(status, TxStatus::Finalized { .. } | TxStatus::Unknown) {
            return Ok(());
        }
        while let Some(ev) = next_event(&sink, &mut rx).await? {
            match ev {
                ChainEvent::Block(b) => {
                    let Some(index) = b.tx_hashes.iter().position(|h| *h == hash) else { continue };
                    let location = TxLocation {
                        block_height: b.block.header.height,
                        block_hash: b.block.hash(),
                        index: u32::try_from(index).unwrap_or(u32::MAX),
                    };
                    let success =
                        matches!(b.receipts[index].status, weft_types::receipt::ExecStatus::Success);
                    push(
                        &sink,
                        &TxStatus::Included { location: location.clone(), success },
                        self.config.subscriber_patience,
                    )
                    .await?;
                    push(&sink, &TxStatus::Finalized { location, success }, self.config.subscriber_patience)
                        .await?;
                    return Ok(());
                }
                ChainEvent::Dropped { hash: h, reason } if h == hash => {
                    push(&sink, &TxStatus::Dropped { reason }, self.config.subscriber_patience).await?;
                    return Ok(());
                }
                _ => {}
            }
        }
        Ok(())
    }

    async fn contract_query(&self, request: QueryRequest) -> RpcResult<QueryResult> {
        let contract = request.contract;
        let Some(_) = self.chain.ledger.code(&contract).map_err(chain_error)? else {
            return Err(err(codes::NOT_A_CONTRACT, format!("{contract} is not a contract")));
        };
        let abi = self.chain.ledger.abi(&contract).map_err(chain_error)?;
        let input = Self::encode_input(abi.as_deref(), Some(&request.method), &request.input, contract)?;
        let gas = request.gas_limit.unwrap_or(MAX_TX_GAS).min(MAX_TX_GAS);
        let env = self.next_env()?;
        let height = env.height - 1;
        let state = self.chain.ledger.state().map_err(chain_error)?;
        let chain = self.chain.clone();
        let caller = request.caller.unwrap_or(Address([0; 32]));
        let method = request.method.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            chain.ledger.runtime().query(state, env, caller, contract, &method, input, gas)
        })
        .await
        .map_err(|e| err(codes::NODE_ERROR, format!("node error: {e}")))?
        .map_err(|e| err(codes::NODE_ERROR, format!("node error: {e}")))?;
        let m = abi.as_ref().and_then(|a| a.method(&request.method));
        let events = outcome
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| event_info(e, self.abi_of()(&e.contract).as_deref(), None, i))
            .collect();
        Ok(match outcome.result {
            Ok(data) => QueryResult {
                success: true,
                value: match (&abi, m) {
                    (Some(abi), Some(m)) => abi.decode_value(&m.returns, &data).ok(),
                    _ => None,
                },
                return_data: Bytes(data),
                gas_used: outcome.gas_used,
                events,
                error: None,
                height,
            },
            Err(e) => QueryResult {
                success: false,
                value: None,
                return_data: Bytes::default(),
                gas_used: outcome.gas_used,
                events: Vec::new(),
                error: Some(ExecErrorInfo {
                    backtrace: outcome.backtrace,
                    ..exec_error_info(&e, abi.as_deref(), Some(&contract), m.and_then(|m| m.error.as_ref()))
                }),
                height,
            },
        })
    }

    async fn contract_estimate_gas(&self, request: EstimateRequest) -> RpcResult<Estimate> {
        let bad = |e: String| err(codes::ABI_MISMATCH, e);
        let mut target: Option<(Address, Option<Arc<Abi>>, Option<String>)> = None;
        let action = match &request.action {
            EstimateAction::Transfer { to, amount } => Action::Transfer { to: *to, amount: *amount },
            EstimateAction::UploadCode { code } => Action::UploadCode {
                code: BoundedBytes::new(code.0.clone())
                    .map_err(|e| err(codes::LIMIT_EXCEEDED, format!("code: {e}")))?,
            },
            EstimateAction::Instantiate { code_hash, input, value, salt } => {
                let state = self.chain.ledger.state().map_err(chain_error)?;
                let code = state.get(&code_key(code_hash)).map_err(|e| chain_error(e.into()))?;
                let abi = code.and_then(|c| Abi::from_wasm(&c).ok().flatten());
                let args = Self::encode_input(abi.as_ref(), None, input, code_hash)?;
                Action::Instantiate {
                    code_hash: *code_hash,
                    args: BoundedBytes::new(args).map_err(|e| bad(format!("args: {e}")))?,
                    value: value.unwrap_or(0),
                    salt: BoundedBytes::new(salt.clone().unwrap_or_default().0)
                        .map_err(|e| bad(format!("salt: {e}")))?,
                }
            }
            EstimateAction::Call { contract, method, input, value } => {
                let abi = self.chain.ledger.abi(contract).map_err(chain_error)?;
                let args = Self::encode_input(abi.as_deref(), Some(method), input, contract)?;
                target = Some((*contract, abi, Some(method.clone())));
                Action::Call {
                    contract: *contract,
                    method: MethodName::new(method).map_err(|e| bad(format!("method: {e}")))?,
                    args: BoundedBytes::new(args).map_err(|e| bad(format!("args: {e}")))?,
                    value: value.unwrap_or(0),
                }
            }
        };
        let tx = Transaction {
            chain_id: self.chain.ledger.runtime().chain_id(),
            sender: request.from,
            nonce: 0,
            gas_limit: MAX_TX_GAS,
            gas_price: 0,
            action,
        };
        let env = self.next_env()?;
        let state = self.chain.ledger.state().map_err(chain_error)?;
        let chain = self.chain.clone();
        let receipt = tokio::task::spawn_blocking(move || chain.ledger.runtime().dry_run(state, env, tx))
            .await
            .map_err(|e| err(codes::NODE_ERROR, format!("node error: {e}")))?
            .map_err(|e| match e {
                DryRunError::Tx(e) => err(codes::TX_INVALID, e.to_string()),
                DryRunError::Runtime(e) => err(codes::NODE_ERROR, format!("node error: {e}")),
            })?;
        let (abi, method) = match &target {
            Some((_, abi, m)) => {
                (abi.clone(), abi.as_ref().and_then(|a| m.as_deref().and_then(|m| a.method(m))))
            }
            None => (None, None),
        };
        let min_price = self.chain.ledger.runtime().min_gas_price();
        let (success, error, value) = match &receipt.status {
            weft_types::receipt::ExecStatus::Success => {
                let value = match (&abi, method) {
                    (Some(a), Some(m)) => a.decode_value(&m.returns, &receipt.return_data).ok(),
                    _ => None,
                };
                (true, None, value)
            }
            weft_types::receipt::ExecStatus::Failed(e) => (
                false,
                Some(exec_error_info(
                    e,
                    abi.as_deref(),
                    target.as_ref().map(|(c, ..)| c),
                    method.and_then(|m| m.error.as_ref()),
                )),
                None,
            ),
        };
        Ok(Estimate {
            success,
            gas_used: receipt.gas_used,
            storage_deposit: receipt.deposit_charged,
            storage_refund: receipt.deposit_refunded,
            fee: u128::from(receipt.gas_used).saturating_mul(min_price),
            value,
            contract_address: receipt.contract_address,
            error,
        })
    }

    async fn contract_get_abi(&self, contract: Address) -> RpcResult<Option<Value>> {
        let Some((_, code)) = self.chain.ledger.code(&contract).map_err(chain_error)? else {
            return Err(err(codes::NOT_A_CONTRACT, format!("{contract} is not a contract")));
        };
        match Abi::from_wasm(&code) {
            Ok(Some(abi)) => {
                serde_json::to_value(&abi).map(Some).map_err(|e| err(codes::NODE_ERROR, e.to_string()))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(err(codes::ABI_MISMATCH, format!("{contract}'s embedded ABI is invalid: {e}"))),
        }
    }

    async fn contract_get_code(&self, contract: Address) -> RpcResult<Bytes> {
        match self.chain.ledger.code(&contract).map_err(chain_error)? {
            Some((_, code)) => Ok(Bytes(code)),
            None => Err(err(codes::NOT_A_CONTRACT, format!("{contract} is not a contract"))),
        }
    }

    async fn contract_get_events(&self, filter: EventFilter) -> RpcResult<EventPage> {
        let matcher = Matcher::new(&filter).map_err(|e| err(codes::LIMIT_EXCEEDED, e))?;
        let head = self.head()?.height;
        let max_page = self.config.max_event_page;
        let limit = filter.limit.unwrap_or(100);
        if limit == 0 || limit > max_page {
            return Err(err(
                codes::LIMIT_EXCEEDED,
                format!("limit {limit}: pages hold 1 to {max_page} events"),
            ));
        }
        let start = match &filter.cursor {
            Some(c) => Cursor::parse(c).map_err(|e| err(jsonrpsee::types::error::INVALID_PARAMS_CODE, e))?,
            None => Cursor { height: filter.from_block.unwrap_or(0), tx: 0, event: 0 },
        };
        let to = filter.to_block.unwrap_or(head).min(head);
        let last = to.min(start.height.saturating_add(self.config.max_event_range - 1));
        let store = self.chain.ledger.store();
        let mut events = Vec::new();
        let abi_of = self.abi_of();
        for height in start.height..=last {
            let receipts = store.block_receipts(height).map_err(|e| chain_error(e.into()))?;
            for (tx, receipt) in (0u32..).zip(&receipts) {
                for (i, event) in (0u32..).zip(&receipt.events) {
                    if (Cursor { height, tx, event: i }) < start || !matcher.matches(event) {
                        continue;
                    }
                    if events.len() == limit as usize {
                        return Ok(EventPage {
                            events,
                            next_cursor: Some(Cursor { height, tx, event: i }.to_string()),
                        });
                    }
                    let at = Some((height, receipt.tx_hash));
                    events.push(event_info(event, abi_of(&event.contract).as_deref(), at, i as usize));
                }
            }
        }
        let next_cursor = (last < to).then(|| Cursor { height: last + 1, tx: 0, event: 0 }.to_string());
        Ok(EventPage { events, next_cursor })
    }

    async fn contract_subscribe_events(
        &self,
        pending: PendingSubscriptionSink,
        filter: EventFilter,
    ) -> SubscriptionResult {
        let matcher = match Matcher::new(&filter) {
            Ok(m) => m,
            Err(e) => {
                pending.reject(err(jsonrpsee::types::error::INVALID_PARAMS_CODE, e)).await;
                return Ok(());
            }
        };
        let mut rx = self.chain.events.subscribe();
        let sink = pending.accept().await?;
        while let Some(ev) = next_event(&sink, &mut rx).await? {
            let ChainEvent::Block(b) = ev else { continue };
            for receipt in &b.receipts {
                for (i, event) in receipt.events.iter().enumerate() {
                    if matcher.matches(event) {
                        let at = Some((b.block.header.height, receipt.tx_hash));
                        let info: EventInfo =
                            event_info(event, self.abi_of()(&event.contract).as_deref(), at, i);
                        push(&sink, &info, self.config.subscriber_patience).await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn dev_mine(&self, count: Option<u32>) -> RpcResult<HeaderInfo> {
        let count = count.unwrap_or(1);
        if count == 0 || count > 1000 {
            return Err(err(
                codes::LIMIT_EXCEEDED,
                format!("dev_mine count {count}: mine 1 to 1000 blocks per call"),
            ));
        }
        let head =
            self.dev()?.ask(|r| DevCommand::Mine(count, r)).await.map_err(dev_error)?.map_err(dev_error)?;
        self.header_info(head.height)
    }

    async fn dev_set_balance(&self, address: Address, balance: AmountArg) -> RpcResult<AccountInfo> {
        self.dev()?
            .ask(|r| DevCommand::SetBalance(address, balance.0, r))
            .await
            .map_err(dev_error)?
            .map_err(dev_error)?;
        self.account_info(address)
    }

    async fn dev_increase_time(&self, ms: u64) -> RpcResult<u64> {
        self.dev()?.ask(|r| DevCommand::IncreaseTime(ms, r)).await.map_err(dev_error)
    }

    async fn dev_snapshot(&self) -> RpcResult<SnapshotId> {
        self.dev()?.ask(DevCommand::Snapshot).await.map_err(dev_error)?.map_err(dev_error)
    }

    async fn dev_revert(&self, id: SnapshotId) -> RpcResult<HeaderInfo> {
        let head =
            self.dev()?.ask(|r| DevCommand::Revert(id, r)).await.map_err(dev_error)?.map_err(dev_error)?;
        self.header_info(head.height)
    }

    async fn rpc_discover(&self) -> RpcResult<Value> {
        Ok(openrpc::document())
    }
}
