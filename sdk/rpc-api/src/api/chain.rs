//! `chain_*`: blocks and headers, and subscriptions to new and finalized heads.

use jsonrpsee::{core::SubscriptionResult, proc_macros::rpc};

use crate::{BlockId, BlockInfo, HeaderInfo, RpcResult};

/// The `chain_*` methods.
#[cfg_attr(not(feature = "client"), rpc(server))]
#[cfg_attr(feature = "client", rpc(server, client))]
pub trait ChainApi {
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
}
