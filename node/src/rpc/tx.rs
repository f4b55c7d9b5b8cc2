//! `tx_*`: submitting transactions (one or a bounded batch), reading them and their receipts,
//! and following one's status until it is final.

use jsonrpsee::{
    PendingSubscriptionSink,
    core::{SubscriptionResult, async_trait},
};
use weft_rpc_api::{
    BlockId, Bytes, ReceiptInfo, RpcResult, SubmitResult, TxApiServer, TxInfo, TxLocation, TxStatus,
    codes::{self, err},
};
use weft_types::{Hash, receipt::ExecStatus};

use super::{
    WeftRpc,
    convert::{join_error, receipt_info, submit_error, submit_error_info, tx_info},
    handle::next_event,
};
use crate::chain::ChainEvent;

#[async_trait]
impl TxApiServer for WeftRpc {
    async fn tx_submit(&self, tx: Bytes) -> RpcResult<Hash> {
        // Decoding, the signature check and the state read run off the async workers, as for a
        // batch.
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.submit_one(&tx.0))
            .await
            .map_err(join_error)?
            .map_err(|e| submit_error(&e))
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
        .map_err(join_error)
    }

    async fn tx_get_receipt(&self, hash: Hash) -> RpcResult<Option<ReceiptInfo>> {
        let Some((location, receipt)) = self.locate(&hash)? else { return Ok(None) };
        let block = self.block(BlockId::Height(location.block_height))?;
        let signed = block.as_ref().and_then(|b| b.txs.get(location.index as usize));
        Ok(Some(receipt_info(&receipt, signed, location, &self.abi_of())))
    }

    async fn tx_get(&self, hash: Hash) -> RpcResult<Option<TxInfo>> {
        if let Some(p) = self.chain.admission.get(&hash) {
            return Ok(Some(tx_info(p.signed(), hash, None)));
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
        self.push(&sink, &status).await?;
        // A final answer ends the subscription. `Unknown` does not: subscribing before
        // submitting is the race-free order, and the transaction may still come. What such a
        // subscription holds is bounded by the connection's subscription limit.
        if matches!(status, TxStatus::Finalized { .. }) {
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
                    let success = matches!(b.receipts[index].status, ExecStatus::Success);
                    self.push(&sink, &TxStatus::Included { location: location.clone(), success }).await?;
                    self.push(&sink, &TxStatus::Finalized { location, success }).await?;
                    return Ok(());
                }
                ChainEvent::Dropped { hash: h, reason } if h == hash => {
                    self.push(&sink, &TxStatus::Dropped { reason }).await?;
                    return Ok(());
                }
                _ => {}
            }
        }
        Ok(())
    }
}
