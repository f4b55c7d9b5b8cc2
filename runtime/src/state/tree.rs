//! The authenticated state root: a Jellyfish Merkle Tree (the maintained `jmt` crate) over the
//! flat state, hashed with SHA3-256, of which only the latest version is kept; and the proofs
//! of a key's value or absence against a root.
//!
//! # Hashing
//!
//! jmt's sparse Merkle tree of 256 levels, with [`Sha3Hasher`] (SHA3-256) for every hash:
//!
//! - key hash: `SHA3(key)`, the key's path from the root; value hash: `SHA3(value)`;
//! - leaf: `SHA3("JMT::LeafNode" ‖ key hash ‖ value hash)`;
//! - binary inner node: `SHA3("JMT::IntrnalNode" ‖ left ‖ right)`;
//! - an empty subtree, and so the empty tree ([`empty_root`]): the constant
//!   `b"SPARSE_MERKLE_PLACEHOLDER_HASH__"`.
//!
//! The root depends only on the set of (key, value) pairs, not on the history of writes
//! that led to it.
//!
//! # Storage
//!
//! Tree nodes live in the backend's node map ([`StateBackend::get_tree_node`],
//! [`StateChanges::nodes`]) as `borsh(NodeKey) → borsh(Node)`, jmt's own encoding of its
//! types (jmt derives borsh for both, and depends on it). `borsh(NodeKey)` is
//! `version (u64 LE) ‖ nibble count (u64 LE) ‖ path length (u32 LE) ‖ packed nibbles`. The node
//! map holds tree nodes and nothing else.
//!
//! Only the latest version is kept. [`commit`] returns, in one [`StateChanges`], the nodes the
//! new version creates and the deletion of every node jmt reports stale plus the previous
//! version's root (which jmt copies forward, without retiring it, when a version changes
//! nothing). Once applied, the node map holds exactly the nodes reachable from the latest root,
//! so storage is bounded by the size of the state. Consequently `commit(backend, n, ..)` needs
//! a backend holding version `n - 1` (or no tree at all for `n == 0`), and [`prove`] works at
//! the latest version only.
//!
//! A write set of insertions and updates only goes through jmt's batched update, which rewrites
//! each touched node once; one with deletions (or none at all) goes one key at a time. Both
//! give identical changes.
//!
//! # Values
//!
//! jmt's leaves hold value hashes only; jmt asks its reader for a value, by key hash, only
//! when building a proof. The tree therefore keeps no key-hash → key index: [`prove`] knows
//! the key it is asked about, and its reader answers jmt's lookup for that key hash from the
//! flat state ([`StateBackend::get`]) and refuses any other. `prove` also checks that the flat
//! state agrees with the tree (the value hashes to the leaf's value hash; an absent key has no
//! flat value) and reports a disagreement as [`StateError::Corrupt`].

use std::{cell::RefCell, collections::BTreeMap, fmt::Write as _};

use jmt::{
    JellyfishMerkleTree, KeyHash, OwnedValue, RootHash, SimpleHasher, Version,
    proof::SparseMerkleProof,
    storage::{LeafNode, Node, NodeKey, TreeReader},
};
use parity_scale_codec::{Decode, Encode};
use sha3::Digest as _;
use weft_types::{
    Hash,
    codec::{BoundedVec, Limit},
};

use super::{StateBackend, StateChanges, StateError};

/// The root of the empty state: jmt's placeholder for an empty subtree.
pub const EMPTY_ROOT: Hash = Hash(*b"SPARSE_MERKLE_PLACEHOLDER_HASH__");

/// Levels of the binary tree, and so the most siblings a proof can have.
pub const TREE_DEPTH: usize = 256;

/// Root of the empty state.
pub fn empty_root() -> Hash {
    EMPTY_ROOT
}

/// jmt's [`SimpleHasher`] over SHA3-256. jmt's blanket impl covers `digest` 0.10 hashers only;
/// the protocol's `sha3` is on `digest` 0.11.
#[derive(Clone, Default)]
pub struct Sha3Hasher(sha3::Sha3_256);

impl SimpleHasher for Sha3Hasher {
    fn new() -> Self {
        Self(sha3::Sha3_256::new())
    }

    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn finalize(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

/// The tree as this module instantiates it.
type Tree<'a, R> = JellyfishMerkleTree<'a, R, Sha3Hasher>;

/// The tree's hash of a state key: `SHA3(key)`, the key's path in the tree.
pub fn key_hash(key: &[u8]) -> Hash {
    Hash(jmt_key_hash(key).0)
}

fn jmt_key_hash(key: &[u8]) -> KeyHash {
    KeyHash(Sha3Hasher::hash(key))
}

/// Applies flat writes (`None` deletes) on top of the tree of `version - 1` as stored in
/// `backend` (the empty tree when `version == 0`), and returns the [`StateChanges`] that make
/// version `version`: the same flat writes, the root, and the tree node writes (new nodes, and
/// deletions of the nodes the new version no longer uses). An empty write set is fine: it
/// yields version `version` with the previous root.
pub fn commit(
    backend: &impl StateBackend,
    version: u64,
    kv: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> Result<StateChanges, StateError> {
    commit_with(backend, version, kv, true)
}

/// [`commit`] with a choice of jmt's update algorithm. With `allow_batch`, a non-empty write set
/// without deletions goes through jmt's `batch_put_value_sets`, which rewrites each touched node
/// once and is about twice as fast; anything else goes one key at a time (`put_value_set`),
/// which takes deletions and empty write sets. Both give the same changes (a test checks it).
fn commit_with<B: StateBackend>(
    backend: &B,
    version: u64,
    kv: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    allow_batch: bool,
) -> Result<StateChanges, StateError> {
    let batched = allow_batch && !kv.is_empty() && kv.values().all(Option::is_some);
    if version == Version::MAX {
        return Err(StateError::Tree(format!("version {version} is reserved by the tree")));
    }
    let reader = NodeReader::new(backend, None);
    let previous = version.checked_sub(1);
    if let Some(previous) = previous {
        require_root(&reader, previous, "commit")?;
    }
    let tree = Tree::new(&reader);
    let result = if batched {
        let writes = kv.iter().filter_map(|(key, value)| Some((jmt_key_hash(key), value.clone()?))).collect();
        tree.batch_put_value_sets(vec![writes], None, version).and_then(|(roots, batch)| match roots[..] {
            [root] => Ok((root, batch)),
            _ => Err(anyhow::Error::msg(format!("jmt returned {} roots for one version", roots.len()))),
        })
    } else {
        let writes = kv.iter().map(|(key, value)| (jmt_key_hash(key), value.clone()));
        tree.put_value_set(writes, version)
    };
    let (root, batch) = result.map_err(|e| reader.error(&format!("commit of version {version}"), e))?;

    let mut nodes = BTreeMap::new();
    if let Some(previous) = previous {
        nodes.insert(root_node_key(previous), None);
    }
    for stale in &batch.stale_node_index_batch {
        nodes.insert(encode_node_key(&stale.node_key)?, None);
    }
    for (key, node) in batch.node_batch.nodes() {
        let bytes = borsh::to_vec(node).map_err(|e| StateError::Tree(format!("encoding a node: {e}")))?;
        nodes.insert(encode_node_key(key)?, Some(bytes));
    }
    Ok(StateChanges { version, root: Hash(root.0), kv, nodes })
}

/// A proof of `key`'s value (or absence) in the tree at `version`, which must be the latest
/// version in `backend`. Returns the value as the flat state holds it, after checking that it
/// is the value the tree authenticates.
pub fn prove(
    backend: &impl StateBackend,
    version: u64,
    key: &[u8],
) -> Result<(Option<Vec<u8>>, StateProof), StateError> {
    let hash = jmt_key_hash(key);
    let reader = NodeReader::new(backend, Some((hash, key)));
    require_root(&reader, version, "proof")?;
    let (value, proof) = Tree::new(&reader)
        .get_with_proof(hash, version)
        .map_err(|e| reader.error(&format!("proof of key {} at version {version}", hex(key)), e))?;
    let proof = StateProof::from_jmt(&proof).map_err(|e| StateError::Tree(e.to_string()))?;
    match &value {
        Some(value) => {
            let value_hash = Sha3Hasher::hash(value);
            if proof.leaf.as_ref().map(|leaf| leaf.value_hash.0) != Some(value_hash) {
                return Err(StateError::Corrupt(format!(
                    "the flat value of key {} does not match the tree's value hash",
                    hex(key)
                )));
            }
        }
        None => {
            if backend.get(key)?.is_some() {
                return Err(StateError::Corrupt(format!(
                    "the flat state holds key {} which the tree does not",
                    hex(key)
                )));
            }
        }
    }
    Ok((value, proof))
}

/// Checks that the tree has a root at `version`, for a clear error when it has not.
fn require_root<B: StateBackend>(
    reader: &NodeReader<'_, B>,
    version: u64,
    what: &str,
) -> Result<(), StateError> {
    match reader.backend.get_tree_node(&root_node_key(version))? {
        Some(_) => Ok(()),
        None => Err(StateError::Tree(format!(
            "{what} needs the tree of version {version}, which the backend does not hold \
             (only the latest version is kept)"
        ))),
    }
}

/// `borsh(NodeKey)` of the root at `version`: the key with the empty nibble path.
fn root_node_key(version: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(20);
    key.extend_from_slice(&version.to_le_bytes());
    key.extend_from_slice(&0u64.to_le_bytes()); // no nibbles
    key.extend_from_slice(&0u32.to_le_bytes()); // no path bytes
    key
}

fn encode_node_key(key: &NodeKey) -> Result<Vec<u8>, StateError> {
    borsh::to_vec(key).map_err(|e| StateError::Tree(format!("encoding a node key: {e}")))
}

/// `0x` and the bytes in hex, shortened past 40 bytes, for messages.
fn hex(bytes: &[u8]) -> String {
    let mut out = String::from("0x");
    for b in bytes.iter().take(40) {
        let _ = write!(out, "{b:02x}");
    }
    if bytes.len() > 40 {
        let _ = write!(out, "…({} bytes)", bytes.len());
    }
    out
}

/// jmt's view of a [`StateBackend`].
struct NodeReader<'a, B> {
    backend: &'a B,
    /// The key being proved, whose value lookup (by key hash) is answered from the flat state.
    proved: Option<(KeyHash, &'a [u8])>,
    /// The first backend failure, kept whole: jmt only passes on an `anyhow` message.
    failure: RefCell<Option<StateError>>,
}

impl<'a, B: StateBackend> NodeReader<'a, B> {
    fn new(backend: &'a B, proved: Option<(KeyHash, &'a [u8])>) -> Self {
        Self { backend, proved, failure: RefCell::new(None) }
    }

    fn fail<T>(&self, error: StateError) -> anyhow::Result<T> {
        let message = error.to_string();
        self.failure.borrow_mut().get_or_insert(error);
        Err(anyhow::Error::msg(message))
    }

    /// The error to report for a failed jmt call: the backend's own when it caused it.
    fn error(&self, what: &str, error: anyhow::Error) -> StateError {
        self.failure.borrow_mut().take().unwrap_or_else(|| StateError::Tree(format!("{what}: {error:#}")))
    }
}

impl<B: StateBackend> TreeReader for NodeReader<'_, B> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let key = match encode_node_key(node_key) {
            Ok(key) => key,
            Err(e) => return self.fail(e),
        };
        match self.backend.get_tree_node(&key) {
            Ok(None) => Ok(None),
            Ok(Some(bytes)) => match borsh::from_slice::<Node>(&bytes) {
                Ok(node) => Ok(Some(node)),
                Err(e) => {
                    self.fail(StateError::Corrupt(format!("tree node {} does not decode: {e}", hex(&key))))
                }
            },
            Err(e) => self.fail(e),
        }
    }

    fn get_value_option(
        &self,
        _max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        match self.proved {
            Some((hash, key)) if hash == key_hash => match self.backend.get(key) {
                Ok(Some(value)) => Ok(Some(value)),
                Ok(None) => self.fail(StateError::Corrupt(format!(
                    "the tree holds key {} which the flat state does not",
                    hex(key)
                ))),
                Err(e) => self.fail(e),
            },
            _ => self.fail(StateError::Tree(format!(
                "value lookup by key hash {} is not supported: the tree keeps no key index",
                hex(&key_hash.0)
            ))),
        }
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        self.fail(StateError::Tree("tree restore (get_rightmost_leaf) is not supported".into()))
    }
}

/// The decode limit of [`StateProof::siblings`]: one per level of the tree.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct ProofSiblingsLimit;

impl Limit for ProofSiblingsLimit {
    const MAX: usize = TREE_DEPTH;
    const WHAT: &'static str = "proof siblings";
    const ERR: &'static str = "proof has more than TREE_DEPTH (256) siblings";
}

/// A leaf of the tree as a proof carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ProofLeaf {
    /// `SHA3(key)`.
    pub key_hash: Hash,
    /// `SHA3(value)`.
    pub value_hash: Hash,
}

/// The sibling of a node on a proof's path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum ProofSibling {
    /// An empty subtree.
    #[codec(index = 0)]
    Empty,
    /// An inner node, by its children's hashes.
    #[codec(index = 1)]
    Internal {
        /// Hash of the left child.
        left: Hash,
        /// Hash of the right child.
        right: Hash,
    },
    /// A leaf.
    #[codec(index = 2)]
    Leaf(ProofLeaf),
}

/// A proof of a key's value or absence against a state root; SCALE-encoded for transport.
/// It converts to and from jmt's `SparseMerkleProof`, which verifies it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct StateProof {
    /// Where the key's path ends: the key's own leaf (the key is present), the leaf of the only
    /// other key in the subtree the key would be in (absent), or `None`: that subtree is empty
    /// (absent).
    pub leaf: Option<ProofLeaf>,
    /// The sibling of each node on the path, from the leaf's level up to the root's children.
    pub siblings: BoundedVec<ProofSibling, ProofSiblingsLimit>,
}

/// Why a [`StateProof`] does not prove what it was asked to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A value was expected, but the proof shows the key absent.
    #[error("the proof shows the key absent, but a value was expected")]
    ShowsAbsent,
    /// Absence was expected, but the proof shows the key present.
    #[error("the proof shows the key present, but its absence was expected")]
    ShowsPresent,
    /// The proof's leaf is another key's.
    #[error("the proof is for key hash {found}, not {expected}")]
    KeyMismatch {
        /// Hash of the key asked about.
        expected: Hash,
        /// Key hash in the proof's leaf.
        found: Hash,
    },
    /// The proof's leaf holds another value.
    #[error("the proof's value hash is {found}, not the value's hash {expected}")]
    ValueMismatch {
        /// Hash of the value asked about.
        expected: Hash,
        /// Value hash in the proof's leaf.
        found: Hash,
    },
    /// An absence proof whose leaf is not on the key's path, so it proves nothing about it.
    #[error("the proof's leaf is not on the key's path, so it cannot show the key absent")]
    NotOnPath,
    /// The path does not hash to the root.
    #[error("the proof does not lead to root {expected}: {reason}")]
    RootMismatch {
        /// The root the proof was checked against.
        expected: Hash,
        /// jmt's explanation.
        reason: String,
    },
    /// The proof has more siblings than the tree has levels.
    #[error("the proof has {0} siblings, more than the tree's 256 levels")]
    TooManySiblings(usize),
    /// The proof does not convert to or from jmt's form.
    #[error("the proof does not convert to jmt's form: {0}")]
    Malformed(String),
}

// Mirrors of jmt's `SparseMerkleProof` borsh layout, whose fields jmt keeps private: borsh is
// the only way in and out of it.
#[derive(borsh::BorshSerialize, borsh::BorshDeserialize)]
struct WireProof {
    leaf: Option<WireLeaf>,
    siblings: Vec<WireNode>,
}

#[derive(borsh::BorshSerialize, borsh::BorshDeserialize)]
struct WireLeaf {
    key_hash: [u8; 32],
    value_hash: [u8; 32],
}

#[derive(borsh::BorshSerialize, borsh::BorshDeserialize)]
enum WireNode {
    Null,
    Internal { left: [u8; 32], right: [u8; 32] },
    Leaf(WireLeaf),
}

impl From<&WireLeaf> for ProofLeaf {
    fn from(leaf: &WireLeaf) -> Self {
        Self { key_hash: Hash(leaf.key_hash), value_hash: Hash(leaf.value_hash) }
    }
}

impl From<&ProofLeaf> for WireLeaf {
    fn from(leaf: &ProofLeaf) -> Self {
        Self { key_hash: leaf.key_hash.0, value_hash: leaf.value_hash.0 }
    }
}

impl StateProof {
    /// Converts jmt's proof.
    pub fn from_jmt(proof: &SparseMerkleProof<Sha3Hasher>) -> Result<Self, ProofError> {
        let bytes = borsh::to_vec(proof).map_err(|e| ProofError::Malformed(e.to_string()))?;
        let wire: WireProof = borsh::from_slice(&bytes).map_err(|e| ProofError::Malformed(e.to_string()))?;
        let count = wire.siblings.len();
        let siblings = wire
            .siblings
            .iter()
            .map(|node| match node {
                WireNode::Null => ProofSibling::Empty,
                WireNode::Internal { left, right } => {
                    ProofSibling::Internal { left: Hash(*left), right: Hash(*right) }
                }
                WireNode::Leaf(leaf) => ProofSibling::Leaf(leaf.into()),
            })
            .collect();
        Ok(Self {
            leaf: wire.leaf.as_ref().map(ProofLeaf::from),
            siblings: BoundedVec::new(siblings).map_err(|_| ProofError::TooManySiblings(count))?,
        })
    }

    /// Converts to jmt's proof.
    pub fn to_jmt(&self) -> Result<SparseMerkleProof<Sha3Hasher>, ProofError> {
        let wire = WireProof {
            leaf: self.leaf.as_ref().map(WireLeaf::from),
            siblings: self
                .siblings
                .iter()
                .map(|sibling| match sibling {
                    ProofSibling::Empty => WireNode::Null,
                    ProofSibling::Internal { left, right } => {
                        WireNode::Internal { left: left.0, right: right.0 }
                    }
                    ProofSibling::Leaf(leaf) => WireNode::Leaf(leaf.into()),
                })
                .collect(),
        };
        let bytes = borsh::to_vec(&wire).map_err(|e| ProofError::Malformed(e.to_string()))?;
        borsh::from_slice(&bytes).map_err(|e| ProofError::Malformed(e.to_string()))
    }

    /// Checks that the proof shows `key` holding `value` (`None`: absent) in the state whose
    /// root is `root`.
    pub fn verify(&self, root: &Hash, key: &[u8], value: Option<&[u8]>) -> Result<(), ProofError> {
        if self.siblings.len() > TREE_DEPTH {
            return Err(ProofError::TooManySiblings(self.siblings.len()));
        }
        let hash = jmt_key_hash(key);
        // The same checks jmt makes, first, to say which one failed.
        match (value, &self.leaf) {
            (Some(_), None) => return Err(ProofError::ShowsAbsent),
            (Some(value), Some(leaf)) => {
                if leaf.key_hash.0 != hash.0 {
                    // Another key's leaf on this key's path shows this key absent.
                    if common_prefix_bits(&leaf.key_hash.0, &hash.0) >= self.siblings.len() {
                        return Err(ProofError::ShowsAbsent);
                    }
                    return Err(ProofError::KeyMismatch { expected: Hash(hash.0), found: leaf.key_hash });
                }
                let value_hash = Sha3Hasher::hash(value);
                if leaf.value_hash.0 != value_hash {
                    return Err(ProofError::ValueMismatch {
                        expected: Hash(value_hash),
                        found: leaf.value_hash,
                    });
                }
            }
            (None, Some(leaf)) => {
                if leaf.key_hash.0 == hash.0 {
                    return Err(ProofError::ShowsPresent);
                }
                if common_prefix_bits(&leaf.key_hash.0, &hash.0) < self.siblings.len() {
                    return Err(ProofError::NotOnPath);
                }
            }
            (None, None) => {}
        }
        self.to_jmt()?
            .verify(RootHash(root.0), hash, value)
            .map_err(|e| ProofError::RootMismatch { expected: *root, reason: format!("{e:#}") })
    }
}

/// Number of leading bits (most significant first) `a` and `b` share.
fn common_prefix_bits(a: &[u8; 32], b: &[u8; 32]) -> usize {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let diff = x ^ y;
        if diff != 0 {
            return i * 8 + diff.leading_zeros() as usize;
        }
    }
    TREE_DEPTH
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::state::memory::MemoryState;

    type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

    fn writes<'a>(items: impl IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>) -> Writes {
        items.into_iter().map(|(k, v)| (k.to_vec(), v.map(<[u8]>::to_vec))).collect()
    }

    /// Commits `kv` as the next version of `state`.
    fn step(state: &mut MemoryState, kv: Writes) -> StateChanges {
        state.commit(kv).unwrap()
    }

    /// The root of a fresh tree holding `contents`, committed in one version.
    fn fresh(contents: &BTreeMap<Vec<u8>, Vec<u8>>) -> MemoryState {
        let mut state = MemoryState::new();
        step(&mut state, contents.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect());
        state
    }

    /// Deterministic pseudo-random numbers (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Every node reachable from the latest root, counted by walking the tree.
    fn reachable_nodes(state: &MemoryState) -> usize {
        fn walk(state: &MemoryState, key: Vec<u8>) -> usize {
            let bytes = state.nodes.get(&key).expect("reachable node is stored");
            match borsh::from_slice::<Node>(bytes).unwrap() {
                Node::Null | Node::Leaf(_) => 1,
                Node::Internal(internal) => {
                    let parent: NodeKey = borsh::from_slice(&key).unwrap();
                    1 + internal
                        .children_sorted()
                        .map(|(nibble, child)| {
                            // The child's key: its version and the parent's path plus `nibble`.
                            let path: jmt::storage::NibblePath =
                                parent.nibble_path().nibbles().chain([nibble]).collect();
                            walk(state, encode_node_key(&NodeKey::new(child.version, path)).unwrap())
                        })
                        .sum::<usize>()
                }
            }
        }
        walk(state, root_node_key(state.version().unwrap()))
    }

    #[test]
    fn empty_tree_root() {
        struct NoNodes;
        impl StateBackend for NoNodes {
            fn get(&self, _: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
                Ok(None)
            }
            fn get_tree_node(&self, _: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
                Ok(None)
            }
        }
        assert_eq!(empty_root().0, Tree::<NodeReader<'_, NoNodes>>::EMPTY_ROOT.0);
        let changes = commit(&NoNodes, 0, Writes::new()).unwrap();
        assert_eq!(changes.root, empty_root());
        // The genesis tree is one null root, stored under the root key this module computes.
        assert_eq!(changes.nodes.keys().collect::<Vec<_>>(), [&root_node_key(0)]);
        let mut state = MemoryState::new();
        assert_eq!(state.root(), empty_root());
        assert_eq!(state.version(), None);
        state.apply(&changes);
        assert_eq!(state.version(), Some(0));
        let (value, proof) = prove(&state, 0, b"anything").unwrap();
        assert_eq!(value, None);
        proof.verify(&empty_root(), b"anything", None).unwrap();
    }

    #[test]
    fn root_node_key_matches_jmt_encoding() {
        let mut state = MemoryState::new();
        step(&mut state, writes([(&b"a"[..], Some(&b"1"[..]))]));
        let changes = step(&mut state, writes([(&b"b"[..], Some(&b"2"[..]))]));
        let root_key: NodeKey = borsh::from_slice(&root_node_key(1)).unwrap();
        assert_eq!(root_key.version(), 1);
        assert!(root_key.nibble_path().is_empty());
        assert!(matches!(changes.nodes.get(&root_node_key(1)), Some(Some(_))));
        assert_eq!(changes.nodes.get(&root_node_key(0)), Some(&None));
    }

    #[test]
    fn insert_update_delete_change_the_root() {
        let mut state = MemoryState::new();
        let r0 = step(&mut state, Writes::new()).root;
        assert_eq!(r0, empty_root());
        let r1 = step(&mut state, writes([(&b"k1"[..], Some(&b"v1"[..]))])).root;
        assert_ne!(r1, r0);
        let r2 = step(&mut state, writes([(&b"k2"[..], Some(&b"v2"[..]))])).root;
        assert_ne!(r2, r1);
        let r3 = step(&mut state, writes([(&b"k1"[..], Some(&b"v1'"[..]))])).root;
        assert_ne!(r3, r2);
        let r4 = step(&mut state, writes([(&b"k1"[..], Some(&b"v1"[..]))])).root;
        assert_eq!(r4, r2, "restoring a value restores the root");
        let r5 = step(&mut state, writes([(&b"k2"[..], None)])).root;
        assert_eq!(r5, r1, "deleting a key restores the root without it");
        let r6 = step(&mut state, writes([(&b"absent"[..], None)])).root;
        assert_eq!(r6, r5, "deleting an absent key changes nothing");
        let r7 = step(&mut state, writes([(&b"k1"[..], None)])).root;
        assert_eq!(r7, empty_root(), "deleting everything returns to the empty root");
        assert!(state.kv.is_empty());
        assert_eq!(reachable_nodes(&state), state.nodes.len());
        assert_eq!(state.nodes.len(), 1, "only the null root is left");
    }

    #[test]
    fn root_depends_only_on_contents() {
        let mut rng = Rng(0x5eed);
        let keys: Vec<Vec<u8>> = (0..300u32).map(|i| format!("key-{i}").into_bytes()).collect();
        let contents: BTreeMap<Vec<u8>, Vec<u8>> =
            keys.iter().map(|k| (k.clone(), [k.as_slice(), b"=value"].concat())).collect();
        let expected = fresh(&contents).root();

        // One key per version, in a shuffled order, after noise that is overwritten or deleted.
        let mut order = keys.clone();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let mut state = MemoryState::new();
        for key in &order[..100] {
            step(&mut state, [(key.clone(), Some(b"noise".to_vec()))].into());
        }
        step(&mut state, [(b"doomed".to_vec(), Some(b"x".to_vec()))].into());
        for key in &order {
            step(&mut state, [(key.clone(), Some(contents[key].clone()))].into());
        }
        step(&mut state, [(b"doomed".to_vec(), None)].into());
        assert_eq!(state.root(), expected);

        // Random batches of various sizes.
        let mut state = MemoryState::new();
        let mut rest = order.clone();
        rest.reverse();
        while !rest.is_empty() {
            let n = (rng.below(40) as usize + 1).min(rest.len());
            let batch: Writes = rest.drain(..n).map(|k| (k.clone(), Some(contents[&k].clone()))).collect();
            step(&mut state, batch);
            if rng.below(3) == 0 {
                step(&mut state, Writes::new());
            }
        }
        assert_eq!(state.root(), expected);
        assert_eq!(state.kv, contents);
    }

    #[test]
    fn empty_commit_keeps_root_and_proofs() {
        let mut state = MemoryState::new();
        step(&mut state, writes([(&b"a"[..], Some(&b"1"[..])), (&b"b"[..], Some(&b"2"[..]))]));
        let root = state.root();
        let nodes = state.nodes.len();
        for version in 1..5 {
            let changes = step(&mut state, Writes::new());
            assert_eq!(changes.version, version);
            assert_eq!(changes.root, root);
            assert_eq!(state.nodes.len(), nodes, "the previous root is deleted");
            let (value, proof) = prove(&state, version, b"a").unwrap();
            assert_eq!(value.as_deref(), Some(&b"1"[..]));
            proof.verify(&root, b"a", Some(b"1")).unwrap();
        }
        // Older versions are gone.
        assert!(matches!(prove(&state, 3, b"a"), Err(StateError::Tree(_))));
    }

    #[test]
    fn proofs_verify_and_refuse_tampering() {
        let mut state = MemoryState::new();
        let contents: BTreeMap<Vec<u8>, Vec<u8>> =
            (0..200u32).map(|i| (i.to_be_bytes().to_vec(), format!("value {i}").into_bytes())).collect();
        step(&mut state, contents.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect());
        let root = state.root();
        let version = 0;

        // Inclusion.
        let key = 7u32.to_be_bytes();
        let (value, proof) = prove(&state, version, &key).unwrap();
        let value = value.unwrap();
        assert_eq!(value, b"value 7");
        proof.verify(&root, &key, Some(&value)).unwrap();
        let decoded = StateProof::decode(&mut &proof.encode()[..]).unwrap();
        assert_eq!(decoded, proof);
        assert_eq!(StateProof::from_jmt(&proof.to_jmt().unwrap()).unwrap(), proof);

        assert!(matches!(proof.verify(&root, &key, Some(b"value 8")), Err(ProofError::ValueMismatch { .. })));
        assert!(matches!(proof.verify(&root, &key, None), Err(ProofError::ShowsPresent)));
        let other = 8u32.to_be_bytes();
        assert!(matches!(proof.verify(&root, &other, Some(b"value 7")), Err(ProofError::KeyMismatch { .. })));
        let mut wrong_root = root;
        wrong_root.0[0] ^= 1;
        assert!(matches!(
            proof.verify(&wrong_root, &key, Some(&value)),
            Err(ProofError::RootMismatch { .. })
        ));
        // A tampered sibling.
        let mut siblings = proof.siblings.clone().into_inner();
        let i = siblings.iter().position(|s| *s != ProofSibling::Empty).unwrap();
        siblings[i] = match siblings[i] {
            ProofSibling::Internal { left, mut right } => {
                right.0[31] ^= 1;
                ProofSibling::Internal { left, right }
            }
            ProofSibling::Leaf(mut leaf) => {
                leaf.value_hash.0[0] ^= 1;
                ProofSibling::Leaf(leaf)
            }
            ProofSibling::Empty => {
                ProofSibling::Leaf(ProofLeaf { key_hash: Hash::ZERO, value_hash: Hash::ZERO })
            }
        };
        let tampered = StateProof { leaf: proof.leaf, siblings: BoundedVec::new(siblings).unwrap() };
        assert!(matches!(tampered.verify(&root, &key, Some(&value)), Err(ProofError::RootMismatch { .. })));
        // A dropped sibling.
        let mut siblings = proof.siblings.clone().into_inner();
        siblings.pop();
        let short = StateProof { leaf: proof.leaf, siblings: BoundedVec::new(siblings).unwrap() };
        assert!(short.verify(&root, &key, Some(&value)).is_err());
        // A tampered leaf.
        let mut leaf = proof.leaf.unwrap();
        leaf.value_hash = Hash(Sha3Hasher::hash(b"forged"));
        let forged = StateProof { leaf: Some(leaf), siblings: proof.siblings.clone() };
        assert!(matches!(forged.verify(&root, &key, Some(b"forged")), Err(ProofError::RootMismatch { .. })));

        // Exclusion: both shapes (another key's leaf, and an empty subtree) turn up.
        let (mut with_leaf, mut empty) = (0, 0);
        for i in 1000..1400u32 {
            let absent = i.to_be_bytes();
            let (value, proof) = prove(&state, version, &absent).unwrap();
            assert_eq!(value, None);
            proof.verify(&root, &absent, None).unwrap();
            assert!(matches!(proof.verify(&root, &absent, Some(b"x")), Err(ProofError::ShowsAbsent)));
            assert!(proof.verify(&wrong_root, &absent, None).is_err());
            match proof.leaf {
                Some(leaf) => {
                    with_leaf += 1;
                    // That leaf's own key is present, so the proof cannot show it absent.
                    let owner = contents.keys().find(|k| key_hash(k) == leaf.key_hash).unwrap();
                    assert!(proof.verify(&root, owner, None).is_err());
                }
                None => empty += 1,
            }
        }
        assert!(with_leaf > 0 && empty > 0, "{with_leaf} leaf and {empty} empty exclusion proofs");
        // An exclusion proof for one key says nothing about a key elsewhere in the tree.
        let (_, absent_proof) = prove(&state, version, &5000u32.to_be_bytes()).unwrap();
        let far = (0..u32::MAX)
            .map(u32::to_be_bytes)
            .find(|k| {
                !contents.contains_key(&k[..])
                    && key_hash(k).0[0] >> 4 != key_hash(&5000u32.to_be_bytes()).0[0] >> 4
            })
            .unwrap();
        assert!(absent_proof.verify(&root, &far, None).is_err());
    }

    #[test]
    fn proof_decoding_is_bounded() {
        let too_many = StateProof {
            leaf: None,
            siblings: BoundedVec::new(vec![ProofSibling::Empty; TREE_DEPTH]).unwrap(),
        };
        let mut bytes = too_many.encode();
        assert!(StateProof::decode(&mut &bytes[..]).is_ok());
        // Rewrite the length prefix to 257 (compact: 4-byte form).
        bytes[1..3].copy_from_slice(&[0x05, 0x04]);
        bytes.push(0);
        assert!(StateProof::decode(&mut &bytes[..]).is_err());
        assert!(BoundedVec::<ProofSibling, ProofSiblingsLimit>::new(vec![ProofSibling::Empty; 257]).is_err());
    }

    #[test]
    fn stale_nodes_are_deleted() {
        let mut rng = Rng(42);
        let mut state = MemoryState::new();
        let keys: Vec<Vec<u8>> = (0..64u32).map(|i| i.to_le_bytes().to_vec()).collect();
        for version in 0..300u64 {
            let mut kv = Writes::new();
            for _ in 0..rng.below(12) {
                let key = keys[rng.below(keys.len() as u64) as usize].clone();
                let value = (rng.below(5) != 0).then(|| version.to_le_bytes().to_vec());
                kv.insert(key, value);
            }
            step(&mut state, kv);
            assert_eq!(state.nodes.len(), reachable_nodes(&state), "garbage at version {version}");
        }
        assert_eq!(state.nodes.len(), fresh(&state.kv).nodes.len());
    }

    #[test]
    fn matches_a_btreemap_model() {
        let mut rng = Rng(0xdead_beef);
        let mut model = BTreeMap::<Vec<u8>, Vec<u8>>::new();
        let mut state = MemoryState::new();
        for version in 0..120u64 {
            let mut kv = Writes::new();
            for _ in 0..rng.below(20) {
                let key = vec![rng.below(4) as u8, rng.below(50) as u8];
                let value = (rng.below(4) != 0).then(|| vec![rng.below(256) as u8; rng.below(40) as usize]);
                kv.insert(key, value);
            }
            for (key, value) in &kv {
                match value {
                    Some(value) => model.insert(key.clone(), value.clone()),
                    None => model.remove(key),
                };
            }
            let changes = step(&mut state, kv);
            assert_eq!(changes.version, version);
            assert_eq!(state.kv, model);
            if version.is_multiple_of(10) {
                assert_eq!(state.root(), fresh(&model).root());
            }
            for _ in 0..5 {
                let key = vec![rng.below(4) as u8, rng.below(50) as u8];
                let (value, proof) = prove(&state, version, &key).unwrap();
                assert_eq!(value.as_ref(), model.get(&key));
                proof.verify(&state.root(), &key, value.as_deref()).unwrap();
            }
        }
    }

    #[test]
    fn batched_and_sequential_updates_agree() {
        let mut rng = Rng(0xba7c);
        let mut state = MemoryState::new();
        for _ in 0..150 {
            let version = state.next_version();
            // Insertions and updates only: the batched path's domain.
            let mut kv = Writes::new();
            let width = [1, 2, 3, 30, 200][rng.below(5) as usize];
            for _ in 0..=rng.below(width) {
                let key = vec![rng.below(3) as u8, rng.below(100) as u8];
                kv.insert(key, Some(rng.next().to_le_bytes().to_vec()));
            }
            let batched = commit_with(&state, version, kv.clone(), true).unwrap();
            let sequential = commit_with(&state, version, kv, false).unwrap();
            assert_eq!(batched, sequential, "version {version}");
            state.apply(&batched);
            // Deletions now and then, so inserts also land in shrunk trees, a single leaf and
            // the null root.
            if rng.below(3) == 0 {
                let doomed: Vec<Vec<u8>> = state.kv.keys().filter(|_| rng.below(4) != 0).cloned().collect();
                let kv = doomed.into_iter().map(|k| (k, None)).collect();
                step(&mut state, kv);
            }
        }
    }

    #[test]
    fn backend_faults_are_reported() {
        let mut state = MemoryState::new();
        step(&mut state, writes([(&b"a"[..], Some(&b"1"[..])), (&b"b"[..], Some(&b"2"[..]))]));
        // Committing a version that does not follow the stored one.
        assert!(matches!(commit(&state, 5, Writes::new()), Err(StateError::Tree(_))));

        // A node that does not decode.
        let mut corrupt = state.clone();
        *corrupt.nodes.get_mut(&root_node_key(0)).unwrap() = vec![9, 9, 9];
        let writes_c = writes([(&b"c"[..], Some(&b"3"[..]))]);
        assert!(matches!(commit(&corrupt, 1, writes_c), Err(StateError::Corrupt(_))));
        assert!(matches!(prove(&corrupt, 0, b"a"), Err(StateError::Corrupt(_))));

        // The flat state disagreeing with the tree.
        let mut corrupt = state.clone();
        corrupt.kv.insert(b"a".to_vec(), b"forged".to_vec());
        assert!(matches!(prove(&corrupt, 0, b"a"), Err(StateError::Corrupt(_))));
        corrupt.kv.remove(&b"a"[..]);
        assert!(matches!(prove(&corrupt, 0, b"a"), Err(StateError::Corrupt(_))));
        corrupt.kv.insert(b"extra".to_vec(), b"x".to_vec());
        assert!(matches!(prove(&corrupt, 0, b"extra"), Err(StateError::Corrupt(_))));

        // A failing backend's own error comes through whole.
        struct Failing;
        impl StateBackend for Failing {
            fn get(&self, _: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
                Err(StateError::Backend("disk on fire".into()))
            }
            fn get_tree_node(&self, _: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
                Err(StateError::Backend("disk on fire".into()))
            }
        }
        assert!(matches!(commit(&Failing, 1, Writes::new()), Err(StateError::Backend(_))));
        assert!(matches!(prove(&Failing, 0, b"a"), Err(StateError::Backend(_))));
    }
}
