//! `state_*`: accounts, contract storage and Merkle proofs of them.

use jsonrpsee::proc_macros::rpc;
use weft_types::{Address, Hash};

use crate::{AccountInfo, Bytes, RpcResult, StateProofInfo};

/// The `state_*` methods.
#[cfg_attr(not(feature = "client"), rpc(server))]
#[cfg_attr(feature = "client", rpc(server, client))]
pub trait StateApi {
    /// An account at the head (a never-seen account has balance 0 and nonce 0).
    #[method(name = "state_getAccount")]
    async fn state_get_account(&self, address: Address) -> RpcResult<AccountInfo>;

    /// A contract's storage value at the head; null when absent.
    #[method(name = "state_getStorage")]
    async fn state_get_storage(&self, contract: Address, key: Bytes) -> RpcResult<Option<Bytes>>;

    /// Whether code with this hash is uploaded (at the head).
    #[method(name = "state_hasCode")]
    async fn state_has_code(&self, code_hash: Hash) -> RpcResult<bool>;

    /// Merkle proofs of an account and some of its storage keys against the finalized state root.
    #[method(name = "state_getProof")]
    async fn state_get_proof(&self, address: Address, keys: Option<Vec<Bytes>>) -> RpcResult<StateProofInfo>;
}
