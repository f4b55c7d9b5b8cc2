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
            healthy: self.chain.status.healthy(head.height),
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
            gossip_consensus_over_peer_limit: drops.consensus_over_peer_limit.load(Ordering::Relaxed),
            code_compiled: self.chain.ledger.runtime().vm().compiled(),
            rpc_executions_busy: self.executions.busy(),
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
}
