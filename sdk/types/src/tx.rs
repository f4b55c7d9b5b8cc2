//! Transactions, their signing payload and signature rule. See `docs/protocol.md` for the byte
//! layout and a test vector.
//!
//! Signature rule, used everywhere: ed25519 `verify_strict` (RFC 8032 with canonical `S`, and
//! small-order public keys and `R` points refused), over the domain-separated payload of
//! [`Transaction::signing_payload`]. A signature made for another chain or another kind of
//! message (a consensus vote, say) never verifies as a transaction.

use alloc::{string::String, vec::Vec};
use core::fmt;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use parity_scale_codec::{Decode, Encode, Input};

use crate::{
    Amount, Gas,
    address::Address,
    codec::{ArgsLimit, BoundedBytes, CodeLimit, DecodeError, SaltLimit, decode_exact},
    hash::{Hash, sha3_256},
    limits::{MAX_METHOD_NAME_BYTES, MAX_TX_BYTES},
};

/// Identifies one chain; part of every signed payload.
pub type ChainId = u64;

/// Domain tags of signed payloads, one per kind of message. Each is encoded with a length
/// prefix, so no tag is a prefix of another's encoding.
pub mod domain {
    /// Transactions.
    pub const TX: &[u8] = b"weft:tx:v1";
    /// Consensus votes (used by the consensus layer; listed here so tags stay unique).
    pub const VOTE: &[u8] = b"weft:vote:v1";
    /// Block proposals.
    pub const PROPOSAL: &[u8] = b"weft:proposal:v1";
}

/// Builds `compact(len(tag)) ‖ tag ‖ chain_id (u64 LE) ‖ body`: the bytes signed for any message.
pub fn domain_payload(tag: &[u8], chain_id: ChainId, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(tag.len() + 9 + body.len());
    tag.encode_to(&mut out);
    chain_id.encode_to(&mut out);
    out.extend_from_slice(body);
    out
}

/// A contract method name: 1 to 64 bytes of `[A-Za-z_][A-Za-z0-9_]*`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct MethodName(String);

/// Why a string is not a method name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MethodNameError {
    /// Empty or over the limit.
    #[error("method name must be 1 to {max} bytes, found {len}", max = MAX_METHOD_NAME_BYTES)]
    Length {
        /// Length found.
        len: usize,
    },
    /// A character outside `[A-Za-z0-9_]`, or a leading digit.
    #[error("method name {0:?} must match [A-Za-z_][A-Za-z0-9_]*")]
    Charset(String),
}

impl MethodName {
    /// Checks and wraps a method name.
    pub fn new(name: &str) -> Result<Self, MethodNameError> {
        if name.is_empty() || name.len() > MAX_METHOD_NAME_BYTES {
            return Err(MethodNameError::Length { len: name.len() });
        }
        let mut chars = name.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(MethodNameError::Charset(name.into()));
        }
        Ok(Self(name.into()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MethodName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Encode for MethodName {
    fn size_hint(&self) -> usize {
        self.0.size_hint()
    }
    fn encode_to<T: parity_scale_codec::Output + ?Sized>(&self, dest: &mut T) {
        self.0.encode_to(dest)
    }
}

impl Decode for MethodName {
    fn decode<I: Input>(input: &mut I) -> Result<Self, parity_scale_codec::Error> {
        let bytes = BoundedBytes::<crate::codec::MethodLimit>::decode(input)?.into_inner();
        let name = core::str::from_utf8(&bytes).map_err(|_| "method name is not UTF-8")?;
        Self::new(name).map_err(|_| "method name must match [A-Za-z_][A-Za-z0-9_]* (1 to 64 bytes)".into())
    }
}

/// What a transaction does.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub enum Action {
    /// Moves `amount` of the native token from the sender to `to`.
    #[codec(index = 0)]
    Transfer {
        /// Recipient (an account or a contract).
        to: Address,
        /// Amount moved.
        amount: Amount,
    },
    /// Stores wasm code on chain, addressed by its SHA3-256 hash.
    #[codec(index = 1)]
    UploadCode {
        /// The wasm module.
        code: BoundedBytes<CodeLimit>,
    },
    /// Creates a contract from uploaded code and runs its constructor (`init`), if it has one.
    #[codec(index = 2)]
    Instantiate {
        /// Hash of previously uploaded code.
        code_hash: Hash,
        /// Constructor input.
        args: BoundedBytes<ArgsLimit>,
        /// Native token sent to the new contract.
        value: Amount,
        /// Chosen by the deployer, so one deployer can create many instances of one code.
        salt: BoundedBytes<SaltLimit>,
    },
    /// Calls an exported method of a contract.
    #[codec(index = 3)]
    Call {
        /// The contract.
        contract: Address,
        /// The exported function to run.
        method: MethodName,
        /// Input of the call.
        args: BoundedBytes<ArgsLimit>,
        /// Native token sent with the call.
        value: Amount,
    },
    /// Replaces a contract's code with uploaded code, keeping its storage and balance, and runs
    /// the new code's migration entry (`migrate`) with `args` when it has one. Only the
    /// contract's admin may.
    #[codec(index = 4)]
    Upgrade {
        /// The contract.
        contract: Address,
        /// Hash of the previously uploaded new code.
        code_hash: Hash,
        /// Input of `migrate` (must be empty when the new code has none).
        args: BoundedBytes<ArgsLimit>,
    },
    /// Changes who may upgrade a contract: `None` makes it immutable, for good. Only its admin
    /// may.
    #[codec(index = 5)]
    SetAdmin {
        /// The contract.
        contract: Address,
        /// The new admin, or `None`.
        admin: Option<Address>,
    },
}

/// An unsigned transaction.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct Transaction {
    /// The chain this transaction is for.
    pub chain_id: ChainId,
    /// The signer: its ed25519 public key.
    pub sender: Address,
    /// Must equal the sender's account nonce; incremented by inclusion.
    pub nonce: u64,
    /// The most gas this transaction may use.
    pub gas_limit: Gas,
    /// Price per unit of gas, paid to the block's proposer.
    pub gas_price: Amount,
    /// What it does.
    pub action: Action,
}

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&crate::hex::Hex(&self.0), f)
    }
}

/// Why a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The sender bytes are not an ed25519 public key.
    #[error("sender {0} is not a valid ed25519 public key")]
    BadPublicKey(Address),
    /// The signature is not valid for this payload and key under `verify_strict`.
    #[error("signature does not verify for sender {0} (wrong key, chain id or payload)")]
    Invalid(Address),
}

impl Transaction {
    /// The bytes the sender signs: `domain_payload(domain::TX, chain_id, SCALE(self))`.
    pub fn signing_payload(&self) -> Vec<u8> {
        domain_payload(domain::TX, self.chain_id, &self.encode())
    }

    /// Signs with `key`; the sender must be `key`'s public key.
    pub fn sign(self, key: &SigningKey) -> SignedTransaction {
        let signature = Signature(key.sign(&self.signing_payload()).to_bytes());
        SignedTransaction { tx: self, signature }
    }
}

/// A transaction with its sender's signature.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// Signature over [`Transaction::signing_payload`].
    pub signature: Signature,
}

impl SignedTransaction {
    /// The transaction hash: SHA3-256 of the SCALE encoding of the signed transaction.
    pub fn hash(&self) -> Hash {
        sha3_256(&self.encode())
    }

    /// Decodes a signed transaction with every limit applied (see [`crate::codec`]).
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, MAX_TX_BYTES, "transaction")
    }

    /// Checks the signature with the protocol's rule (`verify_strict`).
    pub fn verify_signature(&self) -> Result<(), SignatureError> {
        verify_strict(&self.tx.sender, &self.tx.signing_payload(), &self.signature)
    }
}

/// The one signature rule: `verify_strict` of `signature` by `signer` over `payload`.
pub fn verify_strict(signer: &Address, payload: &[u8], signature: &Signature) -> Result<(), SignatureError> {
    verify_strict_by(&verifying_key(signer)?, payload, signature)
}

/// The public key `signer` names (the first half of [`verify_strict`]; a key parsed once may
/// be kept and reused with [`verify_strict_by`], which gives the same answers).
pub fn verifying_key(signer: &Address) -> Result<VerifyingKey, SignatureError> {
    VerifyingKey::from_bytes(&signer.0).map_err(|_| SignatureError::BadPublicKey(*signer))
}

/// The second half of [`verify_strict`], with `key` from [`verifying_key`].
pub fn verify_strict_by(
    key: &VerifyingKey,
    payload: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
    key.verify_strict(payload, &sig).map_err(|_| SignatureError::Invalid(Address(key.to_bytes())))
}

/// The address of the account controlled by `key`.
pub fn address_of(key: &SigningKey) -> Address {
    Address(key.verifying_key().to_bytes())
}
