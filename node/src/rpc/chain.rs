//! `chain_*`: headers and blocks by height, hash or tag, and subscriptions to new heads. Every
//! block this node commits is final, so "finalized" answers as "head".

use jsonrpsee::{
    PendingSubscriptionSink,
    core::{SubscriptionResult, async_trait},
};
use weft_rpc_api::{BlockId, BlockInfo, ChainApiServer, HeaderInfo, RpcResult, TxLocation};
use weft_types::Hash;

use super::{
    WeftRpc,
    convert::{header_info, tx_info},
    handle::next_event,
};
use crate::chain::ChainEvent;

#[async_trait]
impl ChainApiServer for WeftRpc {
    async fn chain_get_head(&self) -> RpcResult<HeaderInfo> {
        self.header_info(self.head()?.height)
    }

    async fn chain_get_finalized(&self) -> RpcResult<HeaderInfo> {
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
                ChainEvent::Block(b) => {
                    self.push(&sink, &header_info(&b.block.header, b.block.txs.len())).await?
                }
                ChainEvent::Reset(h) => self.push(&sink, &header_info(&h, 0)).await?,
                ChainEvent::Dropped { .. } => {}
            }
        }
        Ok(())
    }

    async fn chain_subscribe_finalized(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
        self.chain_subscribe_heads(pending).await
    }
}
