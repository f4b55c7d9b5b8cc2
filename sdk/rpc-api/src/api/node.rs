//! `node_*`: the node itself (identity, health, resource use, peers, evidence it kept).

use jsonrpsee::proc_macros::rpc;

use crate::{EvidenceInfo, Health, NodeInfo, NodeMetrics, PeerInfo, RpcResult};

/// The `node_*` methods.
#[cfg_attr(not(feature = "client"), rpc(server))]
#[cfg_attr(feature = "client", rpc(server, client))]
pub trait NodeApi {
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
}
