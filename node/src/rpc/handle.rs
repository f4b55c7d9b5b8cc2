//! [`WeftRpc`], the handle every namespace's methods are implemented on, the reads they share
//! (head, blocks, accounts, transaction locations, call inputs), and notification delivery for
//! subscriptions.

use std::sync::Arc;

use jsonrpsee::{RpcModule, SubscriptionMessage};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use weft_abi::Abi;
use weft_rpc_api::{
    AccountInfo, BlockId, CallInput, ChainApiServer, ContractApiServer, DevApiServer, DiscoverApiServer,
    HeaderInfo, NodeApiServer, RpcResult, StateApiServer, TxApiServer, TxLocation, TxStatus,
    codes::{self, err},
};
use weft_types::{Address, Block, Hash, Header, Receipt, receipt::ExecStatus};

use super::{
    RpcConfig,
    convert::{chain_error, header_info},
    executions::Executions,
};
use crate::{
    chain::{Chain, ChainEvent, SubmitError},
    dev::control::DevControl,
};

/// Whose input [`WeftRpc::encode_input`] encodes.
#[derive(Debug, Clone, Copy)]
pub(super) enum InputOf<'a> {
    /// A method's, by name.
    Method(&'a str),
    /// The constructor's (an instantiation).
    Constructor,
    /// The migration's (an upgrade to the code).
    Migrate,
}

/// The API over a chain: cheap to clone, one per server.
#[derive(Clone, Debug)]
pub struct WeftRpc {
    pub(super) chain: Arc<Chain>,
    pub(super) dev: Option<DevControl>,
    pub(super) config: RpcConfig,
    pub(super) started: std::time::Instant,
    pub(super) executions: Executions,
}

impl WeftRpc {
    /// Serves `chain`; `dev` enables the `dev_*` methods.
    pub fn new(chain: Arc<Chain>, dev: Option<DevControl>, config: RpcConfig) -> Self {
        let executions = Executions::new(config.max_executions, config.execution_wait);
        Self { chain, dev, config, started: std::time::Instant::now(), executions }
    }

    /// Every namespace's methods in one module. The `dev_*` methods are registered on every
    /// node: off a dev chain they answer `codes::DEV_ONLY`, a stable code clients rely on,
    /// rather than "method not found".
    pub fn into_rpc(self) -> RpcModule<WeftRpc> {
        let mut module = NodeApiServer::into_rpc(self.clone());
        let namespaces: [jsonrpsee::Methods; 6] = [
            ChainApiServer::into_rpc(self.clone()).into(),
            StateApiServer::into_rpc(self.clone()).into(),
            TxApiServer::into_rpc(self.clone()).into(),
            ContractApiServer::into_rpc(self.clone()).into(),
            DevApiServer::into_rpc(self.clone()).into(),
            DiscoverApiServer::into_rpc(self).into(),
        ];
        for methods in namespaces {
            // Each namespace's names carry its own prefix, so no two modules share a name.
            module.merge(methods).expect("namespaces register disjoint method names");
        }
        module
    }

    pub(super) fn head(&self) -> RpcResult<Header> {
        self.chain.ledger.head().map_err(chain_error)
    }

    pub(super) fn block(&self, id: BlockId) -> RpcResult<Option<Block>> {
        let store = self.chain.ledger.store();
        let found = match id {
            BlockId::Height(h) => store.block_by_height(h),
            BlockId::Hash(h) => store.block_by_hash(&h),
            BlockId::Head | BlockId::Finalized => store.block_by_height(self.head()?.height),
        };
        found.map_err(|e| chain_error(e.into()))
    }

    pub(super) fn header_info(&self, height: u64) -> RpcResult<HeaderInfo> {
        let block = self
            .block(BlockId::Height(height))?
            .ok_or_else(|| err(codes::NODE_ERROR, format!("block {height} is missing")))?;
        Ok(header_info(&block.header, block.txs.len()))
    }

    pub(super) fn abi_of(&self) -> impl Fn(&Address) -> Option<Arc<Abi>> + '_ {
        |a| self.chain.ledger.abi(a).ok().flatten()
    }

    pub(super) fn account_info(&self, address: Address) -> RpcResult<AccountInfo> {
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

    /// Encodes the input of `entry`: JSON through the ABI, or raw bytes.
    pub(super) fn encode_input(
        abi: Option<&Abi>,
        entry: InputOf<'_>,
        input: &CallInput,
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
                let encoded = match entry {
                    InputOf::Method(m) => abi.encode_call(m, args),
                    InputOf::Constructor => abi.encode_constructor(args),
                    InputOf::Migrate => abi.encode_migrate(args),
                };
                encoded.map_err(|e| err(codes::ABI_MISMATCH, e.to_string()))
            }
        }
    }

    /// Submits one transaction; on a dev chain, wakes the block producer.
    pub(super) fn submit_one(&self, bytes: &[u8]) -> Result<Hash, SubmitError> {
        let hash = self.chain.admission.submit(bytes)?;
        if let Some(dev) = &self.dev {
            dev.wake();
        }
        Ok(hash)
    }

    /// Where an included transaction is.
    pub(super) fn locate(&self, hash: &Hash) -> RpcResult<Option<(TxLocation, Receipt)>> {
        let store = self.chain.ledger.store();
        let Some((height, index, receipt)) = store.receipt(hash).map_err(|e| chain_error(e.into()))? else {
            return Ok(None);
        };
        let block = self
            .block(BlockId::Height(height))?
            .ok_or_else(|| err(codes::NODE_ERROR, format!("block {height} is missing")))?;
        Ok(Some((TxLocation { block_height: height, block_hash: block.hash(), index }, receipt)))
    }

    /// The mempool is read before the store, and the store decides: a transaction leaves the
    /// mempool only after its block is committed (and announced), so one the mempool no longer
    /// has is in the store, and one it still has may be committed already. Reading the store
    /// first let a commit in between make an admitted transaction look unknown; answering
    /// `Pending` from the mempool alone, one whose block was announced before a subscriber
    /// listened would wait for ever.
    pub(super) fn status_of(&self, hash: &Hash) -> RpcResult<TxStatus> {
        let pending = self.chain.admission.get(hash).is_some();
        if let Some((location, receipt)) = self.locate(hash)? {
            let success = matches!(receipt.status, ExecStatus::Success);
            return Ok(TxStatus::Finalized { location, success });
        }
        Ok(if pending { TxStatus::Pending } else { TxStatus::Unknown })
    }

    /// Sends `item` to a subscriber within the configured patience ([`push`]).
    pub(super) async fn push(
        &self,
        sink: &jsonrpsee::SubscriptionSink,
        item: &impl Serialize,
    ) -> Result<(), String> {
        push(sink, item, self.config.subscriber_patience).await
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
pub(super) async fn next_event(
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
