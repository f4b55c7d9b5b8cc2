//! Block sync: fetches finalized blocks from peers up to a finality certificate the core holds,
//! checks each response on its own ([`verify_response`], pure), re-executes and commits the
//! blocks. Blame is typed: a peer that serves anything else is penalized ([`PeerFault`]); this
//! node's own faults (its store, its runtime) stop the sync without blaming anyone and stop the
//! node ([`NodeFault`]).

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use weft_runtime::{BlockError, SharedBackend};
use weft_types::{
    Block, DecodeError, Hash, Header,
    consensus::{
        CertificateError, CertifiedBlock, ConsensusMessage, FinalityCertificate, FinalityProof, ValidatorSet,
        View,
    },
};

use super::{Network, NodeFault};
use crate::{
    chain::{Chain, CommittedBlock},
    net::{BlocksRequest, BlocksResponse, StatusResponse, protocol::MAX_BLOCKS_PER_RESPONSE},
    producer::on_committed,
    store::StoreError,
};

/// Attempts per connected peer before a sync gives up (the core asks again).
const SYNC_ROUNDS: u32 = 10;
/// Wait before trying again when no peer is connected.
const NO_PEER_WAIT: Duration = Duration::from_millis(500);

/// What a peer served that no honest peer serves: it is penalized.
#[derive(Debug, thiserror::Error)]
pub enum PeerFault {
    /// An entry does not decode.
    #[error("entry {index}: {source}")]
    Undecodable {
        /// Its position in the response.
        index: usize,
        /// Why.
        source: DecodeError,
    },
    /// An entry is not the child of the one before (or of the head).
    #[error("entry {index} does not extend the chain")]
    NotChained {
        /// Its position in the response.
        index: usize,
    },
    /// An entry's certificate does not verify.
    #[error("entry {index} (block {height}): certificate: {source}")]
    BadCertificate {
        /// Its position in the response.
        index: usize,
        /// Its block's height.
        height: u64,
        /// Why.
        source: CertificateError,
    },
    /// An entry's certificate names a lower block.
    #[error("entry {index} (block {height}): certificate of a lower block")]
    LowerBlock {
        /// Its position in the response.
        index: usize,
        /// Its block's height.
        height: u64,
    },
    /// An entry's certificate names a block of the response's height range that is not on it.
    #[error("entry {index}: certificate of a block off this chain")]
    OffChain {
        /// Its position in the response.
        index: usize,
    },
    /// An entry's view is not the certified one (or, for an ancestor, not below it).
    #[error("entry {index}: view {view} does not match its certificate (view {certified})")]
    WrongView {
        /// Its position in the response.
        index: usize,
        /// The view served.
        view: View,
        /// The certificate's view.
        certified: View,
    },
    /// A certified header came with a body that does not execute to it.
    #[error("block {height}: {source}")]
    InvalidBlock {
        /// Its height.
        height: u64,
        /// Why.
        source: BlockError,
    },
}

/// Why one sync attempt ended without every block.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The peer's fault.
    #[error(transparent)]
    Peer(#[from] PeerFault),
    /// This node's own fault: never the peer's.
    #[error(transparent)]
    Node(#[from] NodeFault),
    /// The target certificate does not verify (the core checks certificates before it asks, so
    /// this is not a peer's fault).
    #[error("target certificate: {0}")]
    Target(CertificateError),
    /// No peer served the blocks in time.
    #[error("no peer served blocks above {0}")]
    Exhausted(u64),
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        SyncError::Node(NodeFault::Store(e))
    }
}

/// Fetches, checks and commits finalized blocks from peers.
pub(super) struct SyncTask<N> {
    pub(super) chain: Chain,
    pub(super) net: N,
    pub(super) chain_id: u64,
    pub(super) validators: ValidatorSet,
}

impl<N: Network> SyncTask<N> {
    /// Syncs up to `target`. Peers are tried in turn; one that serves a bad response is
    /// penalized and the next is tried.
    pub(super) async fn run(&self, target: &FinalityCertificate) -> Result<(), SyncError> {
        target.verify(self.chain_id, &self.validators).map_err(SyncError::Target)?;
        let goal = target.block().height;
        match self.commit_local(target) {
            Ok(0) => {}
            Ok(n) => tracing::info!(blocks = n, "committed finalized blocks from this node's own copies"),
            Err(SyncError::Node(e)) => return Err(e.into()),
            Err(e) => tracing::warn!("finalized blocks from this node's own copies: {e}"),
        }
        let mut failures = 0;
        let mut turn = 0usize;
        loop {
            let head = self.head()?;
            if head.height >= goal {
                return Ok(());
            }
            let peers = self.net.peers().await;
            let budget = SYNC_ROUNDS.saturating_mul(u32::try_from(peers.len().max(1)).unwrap_or(u32::MAX));
            if failures >= budget {
                return Err(SyncError::Exhausted(head.height));
            }
            if peers.is_empty() {
                failures += 1;
                tokio::time::sleep(NO_PEER_WAIT).await;
                continue;
            }
            turn = turn.wrapping_add(1);
            let peer = peers[turn % peers.len()];
            let count = (goal - head.height).min(MAX_BLOCKS_PER_RESPONSE as u64) as u32;
            let request = BlocksRequest { from_height: head.height + 1, max_count: count };
            let response = match self.net.request_blocks(peer, request).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(%peer, "blocks request failed: {e}");
                    failures += 1;
                    continue;
                }
            };
            match self.apply(&head, response, target) {
                Ok(0) => failures += 1,
                Ok(_) => failures = 0,
                Err(SyncError::Peer(fault)) => {
                    tracing::warn!(%peer, "bad blocks response: {fault}");
                    self.net.penalize(peer).await;
                    failures += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Commits the blocks up to `target` (already verified) from the bodies this node persisted
    /// when it validated or built them (after a crash, possibly of every validator, they are
    /// nowhere else). Their views are unknown except the certified block's: 0 is stored.
    fn commit_local(&self, target: &FinalityCertificate) -> Result<usize, SyncError> {
        let head = self.head()?;
        let mut bodies = BTreeMap::new();
        for value in self.chain.ledger.store().block_bodies()? {
            if let Some((_, block)) = proposal_block(&value) {
                bodies.insert(block.hash(), block);
            }
        }
        let mut chain = Vec::new();
        let mut cursor = target.block().hash;
        while cursor != head.hash() {
            let Some(block) = bodies.remove(&cursor) else { return Ok(0) };
            if block.header.height <= head.height {
                return Ok(0);
            }
            cursor = block.header.parent_hash;
            chain.push(block);
        }
        let mut committed = 0;
        for block in chain.into_iter().rev() {
            let view = if block.hash() == target.block().hash { target.block().view } else { 0 };
            let proof = FinalityProof { view, certificate: target.clone() };
            if self.commit_one(&block, &proof)? {
                committed += 1;
            }
        }
        Ok(committed)
    }

    /// Re-executes `block` on the head and commits it with `proof`; false when the head moved
    /// past it meanwhile.
    fn commit_one(&self, block: &Block, proof: &FinalityProof) -> Result<bool, SyncError> {
        let store = self.chain.ledger.store();
        let current = self.head()?;
        if block.header.height <= current.height {
            return Ok(false);
        }
        let state: SharedBackend = Arc::new(store.state()?);
        let out = match self.chain.ledger.runtime().apply_block(state, &current, block) {
            Ok(out) => out,
            Err(BlockError::Runtime(e)) => return Err(NodeFault::Runtime(e).into()),
            Err(source) => return Err(PeerFault::InvalidBlock { height: block.header.height, source }.into()),
        };
        match store.commit_certified(
            &out.block,
            &out.receipts,
            &out.changes,
            &parity_scale_codec::Encode::encode(proof),
        ) {
            Ok(()) => {}
            Err(e) if e.is_node_fault() => return Err(e.into()),
            // The driver committed this height meanwhile.
            Err(_) => return Ok(false),
        }
        let c = &self.chain;
        announce(&self.net, &on_committed(&c.ledger, &c.admission, &c.events, Arc::new(out), Vec::new()));
        Ok(true)
    }

    fn head(&self) -> Result<Header, SyncError> {
        Ok(self.chain.ledger.store().head()?.ok_or(NodeFault::EmptyStore)?)
    }

    /// Checks a response ([`verify_response`]) and commits its certified prefix. Returns how
    /// many blocks were committed.
    fn apply(
        &self,
        head: &Header,
        response: BlocksResponse,
        target: &FinalityCertificate,
    ) -> Result<usize, SyncError> {
        if self.head()?.hash() != head.hash() {
            // The driver committed blocks meanwhile: ask again from the new head.
            return Ok(0);
        }
        let mut committed = 0;
        for entry in verify_response(head, &response, target, self.chain_id, &self.validators)? {
            if self.commit_one(&entry.block, &entry.proof)? {
                committed += 1;
            }
        }
        Ok(committed)
    }
}

/// Logs a committed block and makes it this node's status for peers.
pub(super) fn announce<N: Network>(net: &N, committed: &CommittedBlock) {
    let header = &committed.block.header;
    let hash = header.hash();
    tracing::info!(
        height = header.height,
        finalized_height = header.height,
        txs = committed.tx_hashes.len(),
        "finalized block {hash}"
    );
    net.set_status(StatusResponse {
        height: header.height,
        finalized_height: header.height,
        head_hash: hash,
    });
}

/// The proposal message and its block, from an encoded `ConsensusMessage::Proposal` kept by
/// [`crate::store::Store::put_block_body`].
pub(super) fn proposal_block(bytes: &[u8]) -> Option<(ConsensusMessage, Block)> {
    match ConsensusMessage::decode_bounded(bytes) {
        Ok(message @ ConsensusMessage::Proposal { .. }) => {
            let ConsensusMessage::Proposal { block, .. } = &message else { return None };
            let block = (**block).clone();
            Some((message, block))
        }
        _ => None,
    }
}

/// Checks a blocks response against the head: the entries must form a hash chain from the head,
/// and the prefix returned (with each block's proof, to commit as is) ends at the highest entry
/// certified by a valid finality certificate (its own, a later entry's, or `target`). Every entry
/// of that prefix must carry a valid certificate of itself (with its view) or of a descendant (in
/// the response, by hash, or above it) proposed in a later view: a peer cannot make this node
/// store, serve or restart from a certificate or view it made up. Any failure is the peer's.
/// Entries beyond the prefix are dropped (asked for again).
pub(super) fn verify_response(
    head: &Header,
    response: &BlocksResponse,
    target: &FinalityCertificate,
    chain_id: u64,
    validators: &ValidatorSet,
) -> Result<Vec<CertifiedBlock>, PeerFault> {
    let mut entries = Vec::new();
    let mut parent = head.hash();
    for (index, bytes) in response.blocks.iter().enumerate() {
        let entry = CertifiedBlock::decode_bounded(bytes)
            .map_err(|source| PeerFault::Undecodable { index, source })?;
        let header = &entry.block.header;
        if header.height != head.height + 1 + index as u64 || header.parent_hash != parent {
            return Err(PeerFault::NotChained { index });
        }
        parent = entry.block.hash();
        entries.push(entry);
    }
    let hashes: Vec<Hash> = entries.iter().map(|e| e.block.hash()).collect();
    // Certificates already verified in this response (a batch of blocks finalized together
    // shares its descendant's).
    let mut valid: Vec<FinalityCertificate> = Vec::new();
    let mut check = |cert: &FinalityCertificate| -> Result<(), CertificateError> {
        if !valid.contains(cert) {
            cert.verify(chain_id, validators)?;
            valid.push(cert.clone());
        }
        Ok(())
    };
    // The highest entry certified by a valid certificate.
    let mut last = None;
    for cert in entries.iter().map(|e| &e.proof.certificate).chain([target]) {
        let b = cert.block();
        if let Some(index) = hashes.iter().position(|h| *h == b.hash)
            && last.is_none_or(|l| index > l)
            && check(cert).is_ok()
        {
            last = Some(index);
        }
    }
    let Some(last) = last else { return Ok(Vec::new()) };
    entries.truncate(last + 1);
    for (index, entry) in entries.iter().enumerate() {
        let height = entry.block.header.height;
        let named = entry.proof.certificate.block();
        check(&entry.proof.certificate).map_err(|source| PeerFault::BadCertificate {
            index,
            height,
            source,
        })?;
        let offset = named.height.checked_sub(height).ok_or(PeerFault::LowerBlock { index, height })?;
        let in_response = usize::try_from(offset).ok().and_then(|o| hashes.get(index + o));
        if in_response.is_some_and(|h| *h != named.hash) {
            return Err(PeerFault::OffChain { index });
        }
        let view = entry.proof.view;
        let view_ok = if offset == 0 { view == named.view } else { view < named.view };
        if !view_ok {
            return Err(PeerFault::WrongView { index, view, certified: named.view });
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use ed25519_dalek::SigningKey;
    use parity_scale_codec::Encode;
    use weft_runtime::{BlockBuilder, Runtime, state::memory::MemoryState};
    use weft_types::{
        Address, BoundedVec,
        consensus::{BlockRef, Certificate, Validator, ValidatorSignature, Vote},
        tx::address_of,
    };

    use super::*;
    use crate::{
        chain::NodeMeta,
        mempool::MempoolConfig,
        net::{MessageId, NetError, PeerId, Topic, Verdict},
        store::Store,
    };

    const CHAIN: u64 = 77;

    fn keys() -> Vec<SigningKey> {
        (0..4u8).map(|i| SigningKey::from_bytes(&[i + 1; 32])).collect()
    }

    fn set(keys: &[SigningKey]) -> ValidatorSet {
        ValidatorSet::from_unsorted(
            keys.iter().map(|k| Validator { address: address_of(k), power: 1 }).collect(),
        )
        .unwrap()
    }

    fn block(height: u64, parent: Hash) -> Block {
        let header = Header {
            height,
            parent_hash: parent,
            timestamp_ms: height,
            proposer: Address([1; 32]),
            tx_root: Hash::ZERO,
            receipts_root: Hash::ZERO,
            state_root: Hash([height as u8; 32]),
            gas_used: 0,
        };
        Block { header, txs: BoundedVec::new(vec![]).unwrap() }
    }

    fn cert(keys: &[SigningKey], b: &Block, view: View) -> FinalityCertificate {
        let vote = Vote::Finalize(BlockRef { view, height: b.header.height, hash: b.hash() });
        let sigs = keys[..3].iter().map(|k| {
            let signed = vote.sign(CHAIN, k);
            ValidatorSignature { validator: signed.signer, signature: signed.signature }
        });
        FinalityCertificate::new(Certificate::new(vote, sigs).unwrap()).unwrap()
    }

    fn entry(b: &Block, view: View, c: &FinalityCertificate) -> Vec<u8> {
        CertifiedBlock { block: b.clone(), proof: FinalityProof { view, certificate: c.clone() } }.encode()
    }

    #[test]
    fn sync_responses_are_checked_entry_by_entry() {
        let keys = keys();
        let set = set(&keys);
        let head = block(0, Hash::ZERO).header;
        let b1 = block(1, head.hash());
        let b2 = block(2, b1.hash());
        let b3 = block(3, b2.hash());
        // b1 and b2 became final with b3 (views 2, ?, 5): they carry b3's certificate.
        let c3 = cert(&keys, &b3, 5);
        let good = vec![entry(&b1, 2, &c3), entry(&b2, 0, &c3), entry(&b3, 5, &c3)];
        let verify = |blocks: Vec<Vec<u8>>| {
            verify_response(&head, &BlocksResponse { blocks }, &c3, CHAIN, &set).map_err(|e| e.to_string())
        };
        let ok = verify(good.clone()).unwrap();
        assert_eq!(ok.iter().map(|e| e.block.header.height).collect::<Vec<_>>(), vec![1, 2, 3]);

        // A forged signature on an intermediate entry's certificate.
        let mut forged = c3.certificate();
        let mut sigs: Vec<_> = forged.signatures.to_vec();
        sigs[1].signature.0[0] ^= 1;
        forged.signatures = BoundedVec::new(sigs).unwrap();
        let forged = FinalityCertificate::new(forged).unwrap();
        let mut bad = good.clone();
        bad[1] = entry(&b2, 0, &forged);
        assert!(verify(bad).unwrap_err().contains("entry 1"), "a forged certificate");
        // A view that is not the certified one.
        let mut bad = good.clone();
        bad[2] = entry(&b3, 7, &c3);
        assert!(verify(bad).unwrap_err().contains("view 7"));
        // An intermediate view above its certified descendant's.
        let mut bad = good.clone();
        bad[0] = entry(&b1, 9, &c3);
        assert!(verify(bad).unwrap_err().contains("view 9"));
        // A certificate of a block off this chain (another block at height 3).
        let other = block(3, b1.hash());
        let mut bad = good.clone();
        bad[0] = entry(&b1, 2, &cert(&keys, &other, 5));
        assert!(verify(bad).unwrap_err().contains("off this chain"));
        // A certificate of a lower block.
        let mut bad = good.clone();
        bad[1] = entry(&b2, 3, &cert(&keys, &b1, 2));
        assert!(verify(bad).unwrap_err().contains("lower block"));
        // A broken hash chain.
        let mut bad = good.clone();
        bad[1] = entry(&block(2, Hash([9; 32])), 0, &c3);
        assert!(verify(bad).unwrap_err().contains("does not extend"));
        // Garbage.
        assert!(verify(vec![vec![1, 2, 3]]).unwrap_err().contains("entry 0"));
        // Nothing certified yet (the certified block is beyond the response): nothing to commit.
        let c4 = cert(&keys, &block(4, b3.hash()), 6);
        let uncertified = vec![entry(&b1, 2, &c4)];
        let none = verify_response(&head, &BlocksResponse { blocks: uncertified }, &c4, CHAIN, &set).unwrap();
        assert!(none.is_empty());
    }

    /// One peer serving fixed entries (from height 1), recording who was penalized.
    #[derive(Clone)]
    struct ServingPeer {
        peer: PeerId,
        entries: Arc<Vec<Vec<u8>>>,
        penalized: Arc<Mutex<Vec<PeerId>>>,
    }

    impl Network for ServingPeer {
        fn local_peer_id(&self) -> PeerId {
            PeerId::random()
        }
        async fn publish(&self, _: Topic, _: Vec<u8>) -> Result<MessageId, NetError> {
            Ok(MessageId([0; 32]))
        }
        async fn report(&self, _: MessageId, _: PeerId, _: Verdict) {}
        async fn send_to(&self, _: PeerId, _: Vec<u8>) -> Result<(), NetError> {
            Ok(())
        }
        async fn penalize(&self, peer: PeerId) {
            self.penalized.lock().unwrap().push(peer);
        }
        async fn peers(&self) -> Vec<PeerId> {
            vec![self.peer]
        }
        async fn request_blocks(
            &self,
            _: PeerId,
            request: BlocksRequest,
        ) -> Result<BlocksResponse, NetError> {
            let from = usize::try_from(request.from_height - 1).unwrap();
            let blocks = self.entries.iter().skip(from).take(request.max_count as usize).cloned().collect();
            Ok(BlocksResponse { blocks })
        }
        fn set_status(&self, _: StatusResponse) {}
    }

    /// A chain at genesis, and `count` real blocks on it with entries certified by `keys`.
    fn chain_and_blocks(
        keys: &[SigningKey],
        count: u64,
    ) -> (tempfile::TempDir, Chain, Vec<Vec<u8>>, FinalityCertificate) {
        let runtime = Runtime::new(CHAIN, 1).unwrap();
        let genesis = weft_runtime::Genesis {
            timestamp_ms: 1_000,
            balances: vec![(Address([5; 32]), 1_000)],
            validators: None,
        };
        let out = runtime.genesis(Arc::new(MemoryState::new()), &genesis).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let open = |name: &str| {
            let store = Store::open(&dir.path().join(name)).unwrap();
            store.commit_block(&out.block, &out.receipts, &out.changes).unwrap();
            store
        };
        // Blocks are made on a copy of the chain (the serving peer's).
        let source = open("source.redb");
        let mut entries = Vec::new();
        let mut last = None;
        for view in 1..=count {
            let parent = source.head().unwrap().unwrap();
            let state: SharedBackend = Arc::new(source.state().unwrap());
            let out = BlockBuilder::new(&runtime, state, &parent, parent.timestamp_ms + 1, Address([1; 32]))
                .finish()
                .unwrap();
            source.commit_block(&out.block, &out.receipts, &out.changes).unwrap();
            let c = cert(keys, &out.block, view);
            entries.push(entry(&out.block, view, &c));
            last = Some(c);
        }
        let meta = NodeMeta { dev: false, validator: false, peer_id: None, alone: false };
        let chain = Chain::new(open("chain.redb"), runtime, MempoolConfig::default(), meta, None);
        (dir, chain, entries, last.unwrap())
    }

    #[tokio::test]
    async fn only_the_peer_is_blamed_for_its_faults_never_for_this_nodes_own() {
        let keys = keys();
        let run = |entries: Vec<Vec<u8>>, chain: Chain, target: FinalityCertificate| {
            let net = ServingPeer {
                peer: PeerId::random(),
                entries: Arc::new(entries),
                penalized: Default::default(),
            };
            let task = SyncTask { chain, net: net.clone(), chain_id: CHAIN, validators: set(&keys) };
            async move { (task.run(&target).await, net) }
        };

        // This node's store fails to commit: the sync stops with the node's fault and the peer,
        // which served good blocks, is not penalized.
        let (_dir, chain, entries, target) = chain_and_blocks(&keys, 3);
        chain.ledger.store().fail_commits(true);
        let (result, net) = run(entries.clone(), chain.clone(), target.clone()).await;
        assert!(matches!(result, Err(SyncError::Node(NodeFault::Store(_)))), "{result:?}");
        assert!(net.penalized.lock().unwrap().is_empty(), "the peer was blamed for this node's fault");
        assert_eq!(chain.ledger.store().head().unwrap().unwrap().height, 0);

        // Once the store works, the same peer's blocks are committed.
        chain.ledger.store().fail_commits(false);
        let (result, net) = run(entries.clone(), chain.clone(), target.clone()).await;
        assert!(result.is_ok(), "{result:?}");
        assert!(net.penalized.lock().unwrap().is_empty());
        assert_eq!(chain.ledger.store().head().unwrap().unwrap().height, 3);

        // A peer serving a made-up view is blamed, every time it is asked.
        let (_dir, chain, mut entries, target) = chain_and_blocks(&keys, 3);
        let CertifiedBlock { block, proof } = CertifiedBlock::decode_bounded(&entries[0]).unwrap();
        entries[0] = entry(&block, proof.view + 100, &proof.certificate);
        let (result, net) = run(entries, chain, target).await;
        assert!(matches!(result, Err(SyncError::Exhausted(0))), "{result:?}");
        assert_eq!(net.penalized.lock().unwrap().len(), SYNC_ROUNDS as usize);
    }
}
