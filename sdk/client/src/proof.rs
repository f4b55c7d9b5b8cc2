//! Verified state reads (feature `proofs`): the proofs of `state_getProof` checked against the
//! state root of the header they come with, with the header's hash recomputed from its fields.
//! The verifier is the runtime's own (`weft_runtime::state::tree::StateProof::verify`).
//!
//! What this proves: the account and storage values are those of the state whose root is in
//! the header whose hash is [`VerifiedState::header`]`.hash`. Whether that block is final is a
//! matter of trust in consensus: compare the hash with a header you trust
//! ([`verify_state_proof`] takes one), or, as [`Client::verified_state`] does, with the node's
//! own finalized chain.

use parity_scale_codec::Decode as _;
use weft_rpc_api::{BlockId, HeaderInfo, ProofItem, StateProofInfo};
use weft_runtime::state::tree::StateProof;
use weft_types::{Account, Address, Header, codec::decode_exact, hex::Hex, state};

use crate::{
    Client,
    error::{ClientError, Result},
};

/// Account and storage values proven against a header's state root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedState {
    /// The header whose `state_root` the proofs verify against.
    pub header: HeaderInfo,
    /// The account; `None` when it does not exist (proven absent).
    pub account: Option<Account>,
    /// Each requested storage key (the contract's own key) and its value, `None` when proven
    /// absent, in the order asked.
    pub storage: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// The protocol header of a header as JSON, whose hash must be `info.hash`.
pub fn header_of(info: &HeaderInfo) -> Header {
    Header {
        height: info.height,
        parent_hash: info.parent_hash,
        timestamp_ms: info.timestamp_ms,
        proposer: info.proposer,
        tx_root: info.tx_root,
        receipts_root: info.receipts_root,
        state_root: info.state_root,
        gas_used: info.gas_used,
    }
}

/// Checks `info` (the answer to `state_getProof(address, keys)`): the header hashes to its
/// `hash` (and, with `trusted`, is that header), each item is for the expected state key, and
/// each proof shows the item's value (or absence) under the header's `state_root`.
pub fn verify_state_proof(
    info: &StateProofInfo,
    address: &Address,
    keys: &[Vec<u8>],
    trusted: Option<&HeaderInfo>,
) -> Result<VerifiedState> {
    let computed = header_of(&info.header).hash();
    if computed != info.header.hash {
        return Err(ClientError::BadProof(format!(
            "the header's fields hash to {computed}, not to its claimed hash {}",
            info.header.hash
        )));
    }
    if let Some(trusted) = trusted
        && trusted.hash != info.header.hash
    {
        return Err(ClientError::BadProof(format!(
            "the proofs are against block {} ({}), not the trusted block {} ({})",
            info.header.height, info.header.hash, trusted.height, trusted.hash
        )));
    }
    let root = info.header.state_root;
    let account_value = verify_item(&info.account, &state::account_key(address), &root)?;
    let account = account_value
        .map(|bytes| {
            decode_exact::<Account>(&bytes, 1024, "account")
                .map_err(|e| ClientError::BadProof(format!("the proven account does not decode: {e}")))
        })
        .transpose()?;
    if info.storage.len() != keys.len() {
        return Err(ClientError::BadProof(format!(
            "asked for {} storage keys, got {} proofs",
            keys.len(),
            info.storage.len()
        )));
    }
    let storage = keys
        .iter()
        .zip(&info.storage)
        .map(|(key, item)| Ok((key.clone(), verify_item(item, &state::storage_key(address, key), &root)?)))
        .collect::<Result<_>>()?;
    Ok(VerifiedState { header: info.header.clone(), account, storage })
}

fn verify_item(item: &ProofItem, expected_key: &[u8], root: &weft_types::Hash) -> Result<Option<Vec<u8>>> {
    if item.key.0 != expected_key {
        return Err(ClientError::BadProof(format!(
            "a proof is for state key {}, expected {}",
            Hex(&item.key.0),
            Hex(expected_key)
        )));
    }
    let mut bytes = &item.proof.0[..];
    let proof = StateProof::decode(&mut bytes)
        .map_err(|e| ClientError::BadProof(format!("undecodable proof of key {}: {e}", Hex(expected_key))))?;
    if !bytes.is_empty() {
        return Err(ClientError::BadProof("a proof has trailing bytes".into()));
    }
    let value = item.value.as_ref().map(|v| v.0.clone());
    proof
        .verify(root, expected_key, value.as_deref())
        .map_err(|e| ClientError::BadProof(format!("key {}: {e}", Hex(expected_key))))?;
    Ok(value)
}

impl Client {
    /// An account and some of its storage keys, proven against the finalized state root. The
    /// proofs' header must be the node's finalized block at its height.
    pub async fn verified_state(&self, address: Address, keys: &[Vec<u8>]) -> Result<VerifiedState> {
        let info = self.proof(address, keys).await?;
        let verified = verify_state_proof(&info, &address, keys, None)?;
        let finalized = self.finalized_head().await?;
        if verified.header.height > finalized.height {
            return Err(ClientError::BadProof(format!(
                "the proofs are against block {}, above the finalized height {}",
                verified.header.height, finalized.height
            )));
        }
        let block = self.block(BlockId::Height(verified.header.height), false).await?.ok_or_else(|| {
            ClientError::BadProof(format!("the node does not know block {}", verified.header.height))
        })?;
        if block.header.hash != verified.header.hash {
            return Err(ClientError::BadProof(format!(
                "the proofs' header {} is not the chain's block {} at height {}",
                verified.header.hash, block.header.hash, verified.header.height
            )));
        }
        Ok(verified)
    }
}
