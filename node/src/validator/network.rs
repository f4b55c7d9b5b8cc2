//! The validator's seam in front of the peer-to-peer network: what the driver, gossip and sync
//! need of it, implemented by the libp2p handle ([`NetHandle`]) and, in tests, by simulated
//! networks.

use std::future::Future;

use crate::net::{
    BlocksRequest, BlocksResponse, MessageId, NetError, NetHandle, PeerId, StatusResponse, Topic, Verdict,
};

/// The network as the validator uses it.
pub trait Network: Clone + Send + Sync + 'static {
    /// This node's peer id.
    fn local_peer_id(&self) -> PeerId;

    /// Publishes `data` on `topic`.
    fn publish(
        &self,
        topic: Topic,
        data: Vec<u8>,
    ) -> impl Future<Output = Result<MessageId, NetError>> + Send;

    /// Judges a gossip message delivered by `source` (forward, reject and blame, or drop).
    fn report(&self, id: MessageId, source: PeerId, verdict: Verdict) -> impl Future<Output = ()> + Send;

    /// Sends `data` to the connected `peer` alone (no gossip: not forwarded, not deduplicated).
    /// Resolves when the peer took it or the send failed; bounded by the network's limits.
    fn send_to(&self, peer: PeerId, data: Vec<u8>) -> impl Future<Output = Result<(), NetError>> + Send;

    /// Disconnects and bans `peer` for misbehaviour it is provably to blame for.
    fn penalize(&self, peer: PeerId) -> impl Future<Output = ()> + Send;

    /// The connected peers.
    fn peers(&self) -> impl Future<Output = Vec<PeerId>> + Send;

    /// Asks `peer` for finalized blocks.
    fn request_blocks(
        &self,
        peer: PeerId,
        request: BlocksRequest,
    ) -> impl Future<Output = Result<BlocksResponse, NetError>> + Send;

    /// Sets the status this node answers peers with.
    fn set_status(&self, status: StatusResponse);
}

impl Network for NetHandle {
    fn local_peer_id(&self) -> PeerId {
        NetHandle::local_peer_id(self)
    }

    async fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<MessageId, NetError> {
        NetHandle::publish(self, topic, data).await
    }

    async fn report(&self, id: MessageId, source: PeerId, verdict: Verdict) {
        // Fails only once the network stopped, which the driver notices on its event channel.
        let _ = NetHandle::report(self, id, source, verdict).await;
    }

    async fn send_to(&self, peer: PeerId, data: Vec<u8>) -> Result<(), NetError> {
        NetHandle::send_direct(self, peer, data).await
    }

    async fn penalize(&self, peer: PeerId) {
        let _ = NetHandle::penalize(self, peer).await;
    }

    async fn peers(&self) -> Vec<PeerId> {
        NetHandle::peers(self).await.into_iter().map(|p| p.peer_id).collect()
    }

    async fn request_blocks(&self, peer: PeerId, request: BlocksRequest) -> Result<BlocksResponse, NetError> {
        NetHandle::request_blocks(self, peer, request).await
    }

    fn set_status(&self, status: StatusResponse) {
        NetHandle::set_status(self, status)
    }
}
