//! `state_*`: accounts and contract storage at the head, and Merkle proofs of them against the
//! finalized state root.

use jsonrpsee::core::async_trait;
use parity_scale_codec::Encode;
use weft_rpc_api::{
    AccountInfo, BlockId, Bytes, ProofItem, RpcResult, StateApiServer, StateProofInfo,
    codes::{self, err},
};
use weft_runtime::state::tree;
use weft_types::{
    Address, Hash,
    limits::MAX_STORAGE_KEY_BYTES,
    state::{account_key, code_key, storage_key},
};

use super::{
    WeftRpc,
    convert::{chain_error, header_info},
};
use crate::chain::ChainError;

#[async_trait]
impl StateApiServer for WeftRpc {
    async fn state_get_account(&self, address: Address) -> RpcResult<AccountInfo> {
        self.account_info(address)
    }

    async fn state_get_storage(&self, contract: Address, key: Bytes) -> RpcResult<Option<Bytes>> {
        let max = MAX_STORAGE_KEY_BYTES;
        if key.0.len() > max {
            return Err(err(
                codes::LIMIT_EXCEEDED,
                format!("storage key is {} bytes; keys are at most {max}", key.0.len()),
            ));
        }
        let state = self.chain.ledger.state().map_err(chain_error)?;
        let value = state.get(&storage_key(&contract, &key.0)).map_err(|e| chain_error(e.into()))?;
        Ok(value.map(Bytes))
    }

    async fn state_has_code(&self, code_hash: Hash) -> RpcResult<bool> {
        let state = self.chain.ledger.state().map_err(chain_error)?;
        Ok(state.get(&code_key(&code_hash)).map_err(|e| chain_error(e.into()))?.is_some())
    }

    async fn state_get_proof(&self, address: Address, keys: Option<Vec<Bytes>>) -> RpcResult<StateProofInfo> {
        let keys = keys.unwrap_or_default();
        let max = self.config.max_proof_keys;
        if keys.len() > max {
            return Err(err(
                codes::LIMIT_EXCEEDED,
                format!("{} keys asked for; at most {max} per call", keys.len()),
            ));
        }
        let store = self.chain.ledger.store();
        let state = store.state().map_err(|e| chain_error(e.into()))?;
        let Some(header) = state.head().cloned() else {
            return Err(chain_error(ChainError::NoGenesis));
        };
        let prove = |key: Vec<u8>| -> RpcResult<ProofItem> {
            let (value, proof) =
                tree::prove(&state, header.height, &key).map_err(|e| chain_error(e.into()))?;
            Ok(ProofItem { key: Bytes(key), value: value.map(Bytes), proof: Bytes(proof.encode()) })
        };
        let account = prove(account_key(&address))?;
        let storage =
            keys.into_iter().map(|k| prove(storage_key(&address, &k.0))).collect::<RpcResult<_>>()?;
        let block = self.block(BlockId::Height(header.height))?;
        Ok(StateProofInfo {
            header: header_info(&header, block.map_or(0, |b| b.txs.len())),
            account,
            storage,
        })
    }
}
