//! `weft-node dev --with-examples`: deploys contracts at start, from alice, through the same
//! mempool and blocks as any transaction, before JSON-RPC serves (so no client transaction can
//! take alice's nonces in between), and reports their addresses. Contracts already deployed (a
//! restart on the same data directory) are left as they are.

use parity_scale_codec::Encode;
use weft_types::{
    Address, Transaction,
    codec::BoundedBytes,
    dev::dev_key,
    limits::MAX_TX_GAS,
    receipt::ExecStatus,
    tx::{Action, address_of},
};

use crate::{
    chain::{Chain, SubmitError},
    dev::{DevCommand, DevError, control::DevControl},
};

/// A contract to deploy.
#[derive(Debug, Clone)]
pub struct Example {
    /// Its name, for the report.
    pub name: String,
    /// Its wasm.
    pub wasm: Vec<u8>,
    /// Its constructor input (already encoded).
    pub args: Vec<u8>,
}

/// Why a deployment failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The chain refused a transaction.
    #[error("{name}: {source}")]
    Submit {
        /// The example.
        name: String,
        /// Why.
        source: SubmitError,
    },
    /// A transaction failed in its block.
    #[error("{name}: {reason}")]
    Failed {
        /// The example.
        name: String,
        /// Why.
        reason: String,
    },
    /// The node failed.
    #[error(transparent)]
    Dev(#[from] DevError),
}

/// Uploads and instantiates each example from alice with its name as the salt, one block per
/// step, skipping what is already there; returns their addresses in order.
pub(crate) async fn deploy(
    chain: &Chain,
    control: &DevControl,
    examples: &[Example],
) -> Result<Vec<(String, Address)>, DeployError> {
    let key = dev_key("alice");
    let sender = address_of(&key);
    let mut out = Vec::new();
    for ex in examples {
        let code_hash = weft_types::sha3_256(&ex.wasm);
        let bytes = |e: weft_types::codec::LengthError| DeployError::Failed {
            name: ex.name.clone(),
            reason: e.to_string(),
        };
        let upload = Action::UploadCode { code: BoundedBytes::new(ex.wasm.clone()).map_err(bytes)? };
        let salt = BoundedBytes::new(ex.name.as_bytes().to_vec()).map_err(bytes)?;
        let instantiate = Action::Instantiate {
            code_hash,
            args: BoundedBytes::new(ex.args.clone()).map_err(bytes)?,
            value: 0,
            salt: salt.clone(),
        };
        let code_known = chain.ledger.store().state().is_ok_and(|s| {
            weft_runtime::StateBackend::get(&s, &weft_types::state::code_key(&code_hash))
                .ok()
                .flatten()
                .is_some()
        });
        let address = Address::contract(&sender, &code_hash, &salt);
        let deployed = chain.ledger.account(&address).map_err(DevError::from)?.code_hash;
        let steps = match deployed {
            Some(h) if h == code_hash => vec![],
            Some(other) => {
                let reason =
                    format!("{address} holds other code ({other}) than this example's ({code_hash})");
                return Err(DeployError::Failed { name: ex.name.clone(), reason });
            }
            None if code_known => vec![instantiate],
            None => vec![upload, instantiate],
        };
        for action in steps {
            let nonce = chain.ledger.account(&sender).map_err(DevError::from)?.nonce;
            let tx = Transaction {
                chain_id: chain.ledger.runtime().chain_id(),
                sender,
                nonce,
                gas_limit: MAX_TX_GAS,
                gas_price: chain.ledger.runtime().min_gas_price(),
                action,
            };
            let encoded = tx.sign(&key).encode();
            let hash = chain
                .admission
                .submit(&encoded)
                .map_err(|source| DeployError::Submit { name: ex.name.clone(), source })?;
            control.ask(|r| DevCommand::Mine(1, r)).await??;
            let receipt = chain
                .ledger
                .store()
                .receipt(&hash)
                .map_err(|e| DevError::from(crate::chain::ChainError::from(e)))?;
            match receipt {
                Some((_, _, r)) if r.status == ExecStatus::Success => {}
                Some((_, _, r)) => {
                    let reason = match r.status {
                        ExecStatus::Failed(e) => e.to_string(),
                        ExecStatus::Success => String::new(),
                    };
                    return Err(DeployError::Failed { name: ex.name.clone(), reason });
                }
                None => {
                    return Err(DeployError::Failed { name: ex.name.clone(), reason: "not included".into() });
                }
            }
        }
        out.push((ex.name.clone(), address));
    }
    Ok(out)
}
