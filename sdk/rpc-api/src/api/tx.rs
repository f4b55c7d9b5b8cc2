//! `tx_*`: submitting transactions, reading them and their receipts, following their status.

use jsonrpsee::{core::SubscriptionResult, proc_macros::rpc};
use weft_types::Hash;

use crate::{Bytes, ReceiptInfo, RpcResult, SubmitResult, TxInfo};

/// The `tx_*` methods.
#[cfg_attr(not(feature = "client"), rpc(server))]
#[cfg_attr(feature = "client", rpc(server, client))]
pub trait TxApi {
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
    /// subscription ends after a final status (`finalized` or `dropped`). A transaction not
    /// known yet is answered `unknown` and followed on, so a client may subscribe before it
    /// submits (the race-free order).
    #[subscription(name = "tx_subscribeStatus" => "tx_status", unsubscribe = "tx_unsubscribeStatus", item = crate::TxStatus)]
    async fn tx_subscribe_status(&self, hash: Hash) -> SubscriptionResult;
}
