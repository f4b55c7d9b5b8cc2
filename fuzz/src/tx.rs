//! The transaction and message decoding target.
//!
//! Raw path: the bytes go to every bounded decoder of the protocol; each either refuses them
//! with a `DecodeError` or returns a value whose encoding is exactly the input (one encoding per
//! value). A decoded transaction's signature is checked and the runtime's stateless checks run;
//! a decoded block is re-executed on the base chain (and refused, or reproduced exactly).
//!
//! Structured path: the leading bytes read as an unsigned [`Transaction`]; it is signed by the
//! dev key whose address it names (else by a key the sender's first byte picks, which becomes
//! the sender), so that mutations reach the stateful checks and execution instead of stopping
//! at the signature. It is then offered to a block on the base chain ([`crate::chain`]).

use parity_scale_codec::{Decode, Encode};
use weft_types::{
    Block, Receipt, SignedTransaction, Transaction,
    consensus::{Certificate, ConsensusMessage, Evidence, FinalityCertificate, ValidatorSet},
    dev::{DEV_ACCOUNTS, dev_address, dev_key},
    limits::MAX_TX_BYTES,
    tx::address_of,
};

use crate::chain::base;

/// Runs one input through both paths; panics only on a bug.
pub fn target(data: &[u8]) {
    raw(data);
    structured(data);
}

/// Checks one decoder: refusal, or a value that encodes back to the input.
fn canonical<T: Encode + std::fmt::Debug>(
    what: &str,
    data: &[u8],
    decoded: Result<T, weft_types::codec::DecodeError>,
) -> Option<T> {
    match decoded {
        Ok(value) => {
            assert!(value.encode() == data, "{what}: decoded {value:?} does not re-encode to the input");
            Some(value)
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            None
        }
    }
}

fn raw(data: &[u8]) {
    if let Some(signed) = canonical("transaction", data, SignedTransaction::decode_bounded(data)) {
        let verified = signed.verify_signature();
        let checked = base().runtime.check_stateless(&signed, data.len());
        if verified.is_err() {
            assert!(checked.is_err(), "a transaction with a bad signature passed the stateless checks");
        }
        if checked.is_ok() {
            base().run(vec![signed]);
        }
    }
    if let Some(block) = canonical("block", data, Block::decode_bounded(data)) {
        let b = base();
        if let Ok(out) = b.runtime.apply_block(b.state.clone(), &b.head, &block) {
            assert!(out.block == block, "apply_block accepted a block it does not reproduce");
        }
    }
    if let Some(message) = canonical("consensus message", data, ConsensusMessage::decode_bounded(data)) {
        let _ = message.view();
        match &message {
            ConsensusMessage::Proposal { proposal, block } => {
                let _ = proposal.verify(crate::chain::CHAIN_ID);
                let _ = block.hash();
            }
            ConsensusMessage::Vote(vote) => {
                let _ = vote.verify(crate::chain::CHAIN_ID);
            }
            ConsensusMessage::Certificate(c) => {
                let _ = c.verify(crate::chain::CHAIN_ID, validators());
            }
            ConsensusMessage::BlockRequest(_) | ConsensusMessage::CertificateRequest(_) => {}
        }
    }
    if let Some(c) = canonical("certificate", data, Certificate::decode_bounded(data)) {
        let _ = c.verify(crate::chain::CHAIN_ID, validators());
    }
    if let Some(c) = canonical("finality certificate", data, FinalityCertificate::decode_bounded(data)) {
        let _ = c.verify(crate::chain::CHAIN_ID, validators());
    }
    canonical("receipt", data, Receipt::decode_bounded(data));
    canonical("validator set", data, ValidatorSet::decode_bounded(data));
    if let Some(e) = canonical("evidence", data, Evidence::decode_bounded(data)) {
        let _ = e.verify(crate::chain::CHAIN_ID, validators());
    }
}

/// The dev accounts as a validator set of power 1 each.
fn validators() -> &'static ValidatorSet {
    static SET: std::sync::OnceLock<ValidatorSet> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let vs = DEV_ACCOUNTS
            .iter()
            .map(|n| weft_types::consensus::Validator { address: dev_address(n), power: 1 })
            .collect();
        ValidatorSet::from_unsorted(vs).unwrap_or_else(|e| panic!("dev validator set: {e}"))
    })
}

fn structured(data: &[u8]) {
    if data.len() > MAX_TX_BYTES {
        return;
    }
    let Ok(mut tx) = Transaction::decode(&mut &data[..]) else { return };
    let name = DEV_ACCOUNTS
        .iter()
        .find(|n| dev_address(n) == tx.sender)
        .unwrap_or(&DEV_ACCOUNTS[usize::from(tx.sender.0[0]) % DEV_ACCOUNTS.len()]);
    let key = dev_key(name);
    tx.sender = address_of(&key);
    let b = base();
    // Mutated nonces are almost never the account's: keep the input's only when its low bit
    // is set, so that both the refusal and the execution paths are reached.
    if tx.nonce & 1 == 0 {
        tx.nonce = b.account(&tx.sender).nonce;
    }
    let signed = tx.sign(&key);
    let run = b.run(vec![signed.clone(), signed]);
    if let Ok(receipt) = &run.pushed[0].1 {
        assert!(run.pushed[1].1.is_err(), "the same transaction was included twice: {receipt:?}");
    }
}
