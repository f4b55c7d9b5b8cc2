//! `node_*`: the node's identity, health, resource use, peers and the evidence it kept.

use std::sync::atomic::Ordering;

use jsonrpsee::core::async_trait;
use weft_rpc_api::{EvidenceInfo, Health, NodeApiServer, NodeInfo, NodeMetrics, PeerInfo, RpcResult};

use super::{
    WeftRpc,
    convert::{chain_error, evidence_info},
};

#[async_trait]
impl NodeApiServer for WeftRpc {
    async fn node_info(&self) -> RpcResult<NodeInfo> {
        let head = self.head()?;
        let meta = self.chain.meta();
        Ok(NodeInfo {
            chain_id: self.chain.runtime().chain_id(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            peer_id: meta.peer_id.clone(),
            height: head.height,
            finalized_height: head.height,
            validator: meta.validator,
            dev: meta.dev,
            min_gas_price: self.chain.runtime().min_gas_price(),
        })
    }

    async fn node_health(&self) -> RpcResult<Health> {
        let head = self.head()?;
        let pending = self.chain.mempool().len();
        let peers = self.chain.peers().len();
        let syncing = self.chain.syncing();
        Ok(Health {
            // Up to date, and connected unless it needs nobody.
            healthy: !syncing && (peers > 0 || self.chain.meta().alone),
            height: head.height,
            finalized_height: head.height,
            peers: u32::try_from(peers).unwrap_or(u32::MAX),
            syncing,
            pending_txs: u32::try_from(pending).unwrap_or(u32::MAX),
        })
    }

    async fn node_metrics(&self) -> RpcResult<NodeMetrics> {
        let head = self.head()?;
        let (pending, bytes) = {
            let pool = self.chain.mempool();
            (pool.len(), pool.bytes())
        };
        let p = super::metrics::process_stats();
        let drops = self.chain.gossip_drops();
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
        Ok(self.chain.peers().into_iter().map(|(peer_id, address)| PeerInfo { peer_id, address }).collect())
    }

    async fn node_evidence(&self) -> RpcResult<Vec<EvidenceInfo>> {
        let evidence =
            crate::service::stored_evidence(&self.chain.store()).map_err(|e| chain_error(e.into()))?;
        Ok(evidence.iter().map(evidence_info).collect())
    }
}
