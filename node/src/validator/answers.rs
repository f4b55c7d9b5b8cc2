//! What the validator answers to one peer, off the driver's task and bounded: finalized blocks
//! for its sync (read on the blocking pool, a few at a time) and consensus messages for it alone
//! over the network's direct protocol (each send in a task of its own, a bounded number at once).

use std::sync::Arc;

use parity_scale_codec::Encode;
use tokio::sync::Semaphore;

use super::{Network, NodeFault};
use crate::{
    ledger::Ledger,
    net::{BlocksReply, BlocksRequest, BlocksResponse, PeerId},
};

/// Most messages to single peers being sent at once; beyond, the core's answer is dropped (the
/// peer asks again). The network bounds them too (`NetConfig::max_pending_direct`), but only
/// once a send reached it: this bounds the tasks waiting to get there.
const MAX_SENDS_IN_FLIGHT: usize = 256;
/// Block requests from peers read from the store at once; more are refused (asked again).
const MAX_BLOCK_READS: usize = 2;

/// The answering side of the validator.
pub(super) struct Answers<N> {
    net: N,
    ledger: Arc<Ledger>,
    sends: Arc<Semaphore>,
    block_reads: Arc<Semaphore>,
}

impl<N: Network> Answers<N> {
    pub(super) fn new(net: N, ledger: Arc<Ledger>) -> Self {
        Self {
            net,
            ledger,
            sends: Arc::new(Semaphore::new(MAX_SENDS_IN_FLIGHT)),
            block_reads: Arc::new(Semaphore::new(MAX_BLOCK_READS)),
        }
    }

    /// Answers a blocks request from the store on the blocking pool; refused (the reply
    /// dropped) when [`MAX_BLOCK_READS`] are being read: the peer asks again, or another peer.
    pub(super) fn blocks(&self, request: BlocksRequest, reply: BlocksReply) {
        let Ok(permit) = self.block_reads.clone().try_acquire_owned() else { return };
        let ledger = self.ledger.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            match read_blocks(&ledger, request) {
                Ok(blocks) => {
                    reply.send(blocks);
                }
                Err(e) => tracing::error!("cannot read blocks for a peer: {e}"),
            }
        });
    }

    /// Sends an encoded consensus message to `peer` alone, in a task of its own (the loop does not
    /// wait for the round trip). Dropped when [`MAX_SENDS_IN_FLIGHT`] are under way, and never
    /// sent to this node itself (the proposals replayed after a restart come from this node's
    /// own peer id: whatever the core answers them with has nowhere to go).
    pub(super) fn send_to(&self, peer: PeerId, bytes: Vec<u8>) {
        if peer == self.net.local_peer_id() {
            return;
        }
        let Ok(permit) = self.sends.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "too many direct sends in flight: message dropped");
            return;
        };
        let net = self.net.clone();
        tokio::spawn(async move {
            if let Err(e) = net.send_to(peer, bytes).await {
                tracing::debug!(%peer, "direct send failed: {e}");
            }
            drop(permit);
        });
    }
}

/// The finalized blocks a peer asked for, with their proofs, up to the first missing.
pub(super) fn read_blocks(ledger: &Ledger, request: BlocksRequest) -> Result<BlocksResponse, NodeFault> {
    let store = ledger.store();
    let mut blocks = Vec::new();
    let start = request.from_height.max(1);
    for height in start..start.saturating_add(u64::from(request.max_count)) {
        let (Some(block), Some(proof)) = (store.block_by_height(height)?, store.certificate(height)?) else {
            break;
        };
        let mut entry = block.encode();
        // The stored proof is already `SCALE(FinalityProof)`: an entry is `Block ‖ proof`.
        entry.extend(proof);
        blocks.push(entry);
    }
    Ok(BlocksResponse { blocks })
}
