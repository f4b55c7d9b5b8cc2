//! Blocks: building one from candidate transactions ([`BlockBuilder`]), re-executing one from a
//! proposer ([`Runtime::apply_block`]), and the genesis block.
//!
//! Invariant: executing a block never fails because of a transaction. A transaction that cannot
//! be included is refused by [`BlockBuilder::push`] with a [`TxError`] and changes nothing; an
//! included transaction that fails gets an `ExecError` in its receipt, its changes reverted and
//! its gas charged. Only node faults ([`RuntimeError`]) abort a block.

use std::{collections::BTreeMap, sync::Arc};

use parity_scale_codec::Encode;
use weft_types::{
    Account, Address, Amount, Block, ChainId, Gas, Hash, Header, Receipt, SignatureError, SignedTransaction,
    block::{receipts_root, tx_root, tx_root_of_hashes},
    codec::BoundedVec,
    consensus::ValidatorSet,
    limits::{
        MAX_BLOCK_BYTES, MAX_BLOCK_GAS, MAX_BLOCK_RECEIPT_BYTES, MAX_BLOCK_TXS, MAX_TX_BYTES, MAX_TX_GAS,
        MAX_TX_RECEIPT_BYTES,
    },
    sha3_256,
    state::{VALIDATORS_KEY, account_key},
};

use crate::{
    Runtime,
    error::{BlockError, RuntimeError, TxError},
    exec::{BlockEnv, TxCtx, execute_tx},
    gas::SCHEDULE,
    state::{
        StateChanges,
        overlay::{Overlay, SharedBackend},
        tree,
    },
};

/// A block with its receipts and the state changes to commit with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutput {
    /// The block (header filled in).
    pub block: Block,
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
    /// The state changes, whose root is `block.header.state_root`.
    pub changes: StateChanges,
}

/// Why [`BlockBuilder::push`] did not include a transaction.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The transaction is not includable; nothing changed.
    #[error(transparent)]
    Tx(#[from] TxError),
    /// The block is full (by count or bytes); the transaction may fit the next one.
    #[error("block is full: {0}")]
    BlockFull(&'static str),
    /// The node failed; the block must be abandoned.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// Executes transactions one by one on top of a parent block's state.
pub struct BlockBuilder {
    runtime: Runtime,
    ctx: Option<Box<TxCtx>>,
    parent: Header,
    txs: Vec<SignedTransaction>,
    receipts: Vec<Receipt>,
    gas_used: Gas,
    bytes: usize,
    /// Encoded bytes of the receipts so far.
    receipt_bytes: usize,
}

impl BlockBuilder {
    /// Starts block `parent.height + 1` over `backend`, the state after `parent`.
    pub fn new(
        runtime: &Runtime,
        backend: SharedBackend,
        parent: &Header,
        timestamp_ms: u64,
        proposer: Address,
    ) -> Self {
        let env = BlockEnv { height: parent.height + 1, timestamp_ms, proposer };
        let ctx = TxCtx::new(runtime.vm.clone(), Overlay::new(backend), env);
        Self {
            runtime: runtime.clone(),
            ctx: Some(ctx),
            parent: parent.clone(),
            txs: Vec::new(),
            receipts: Vec::new(),
            gas_used: 0,
            bytes: 0,
            receipt_bytes: 0,
        }
    }

    /// Gas used so far.
    pub fn gas_used(&self) -> Gas {
        self.gas_used
    }

    /// Transactions included so far.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether no transaction was included yet.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Checks `tx` against the current state and, if it is includable, executes it.
    pub fn push(&mut self, signed: SignedTransaction) -> Result<&Receipt, PushError> {
        let encoded = signed.encode();
        let hash = sha3_256(&encoded);
        self.push_checked(signed, encoded.len(), hash, SigCheck::Now)
    }

    /// [`Self::push`] of a transaction verified at admission: its hash, length and signature
    /// check travel with it, so it is neither re-encoded, re-hashed nor checked again.
    pub fn push_verified(&mut self, tx: &VerifiedTx) -> Result<&Receipt, PushError> {
        self.push_checked((*tx.signed).clone(), tx.len, tx.hash, SigCheck::Known(Ok(())))
    }

    /// [`Self::push`] with the encoded length and hash already known and the signature's answer
    /// from `sig`.
    fn push_checked(
        &mut self,
        signed: SignedTransaction,
        encoded_len: usize,
        hash: Hash,
        sig: SigCheck,
    ) -> Result<&Receipt, PushError> {
        if self.txs.len() >= MAX_BLOCK_TXS {
            return Err(PushError::BlockFull("MAX_BLOCK_TXS reached"));
        }
        if self.bytes + encoded_len > MAX_BLOCK_BYTES - 1024 {
            return Err(PushError::BlockFull("MAX_BLOCK_BYTES reached"));
        }
        // Checked before execution, like the gas limit: whatever the transaction does, its
        // receipt fits.
        if self.receipt_bytes + MAX_TX_RECEIPT_BYTES > MAX_BLOCK_RECEIPT_BYTES {
            return Err(PushError::BlockFull("MAX_BLOCK_RECEIPT_BYTES reached"));
        }
        let Some(ctx) = self.ctx.take() else {
            return Err(RuntimeError::Engine("block builder used after a node fault".into()).into());
        };
        let block_gas_left = MAX_BLOCK_GAS - self.gas_used;
        let intrinsic =
            match self.runtime.check_tx_with(&ctx.overlay, &signed, encoded_len, block_gas_left, sig) {
                Ok(intrinsic) => intrinsic,
                Err(e) => {
                    self.ctx = Some(ctx);
                    return Err(e);
                }
            };
        let (ctx, receipt) = execute_tx(ctx, &signed, hash, intrinsic)?;
        self.ctx = Some(ctx);
        self.gas_used += receipt.gas_used;
        self.bytes += encoded_len;
        self.receipt_bytes += receipt.encoded_size();
        self.txs.push(signed);
        self.receipts.push(receipt);
        Ok(self.receipts.last().unwrap_or_else(|| unreachable!("a receipt was just pushed")))
    }

    /// Sets the balance of `address` outside any transaction. For development chains only
    /// (`dev_setBalance`): it changes the total supply, and a validator re-executing the block
    /// would refuse it, since the change is not in any transaction.
    pub fn set_balance_unchecked(&mut self, address: &Address, balance: Amount) -> Result<(), RuntimeError> {
        let ctx = self
            .ctx
            .as_mut()
            .ok_or_else(|| RuntimeError::Engine("block builder used after a node fault".into()))?;
        let mut account = ctx.overlay.account(address)?;
        account.balance = balance;
        ctx.overlay.put_account(address, &account);
        Ok(())
    }

    /// Computes the state root and seals the header.
    pub fn finish(self) -> Result<BlockOutput, RuntimeError> {
        let ctx =
            self.ctx.ok_or_else(|| RuntimeError::Engine("block builder used after a node fault".into()))?;
        let height = ctx.env.height;
        let backend = ctx.overlay.backend().clone();
        let changes = tree::commit(&backend, height, ctx.overlay.into_changes())?;
        let header = Header {
            height,
            parent_hash: self.parent.hash(),
            timestamp_ms: ctx.env.timestamp_ms,
            proposer: ctx.env.proposer,
            // Each receipt carries its transaction's hash.
            tx_root: tx_root_of_hashes(&self.receipts.iter().map(|r| r.tx_hash).collect::<Vec<_>>()),
            receipts_root: receipts_root(&self.receipts),
            state_root: changes.root,
            gas_used: self.gas_used,
        };
        let txs = BoundedVec::new(self.txs).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        Ok(BlockOutput { block: Block { header, txs }, receipts: self.receipts, changes })
    }
}

/// The initial state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// Timestamp of the genesis block.
    pub timestamp_ms: u64,
    /// Initial balances; addresses must be distinct.
    pub balances: Vec<(Address, Amount)>,
    /// The validator set, kept in the state (`weft_types::state::VALIDATORS_KEY`) so that the
    /// genesis block's hash binds it; `None` on a chain without one (the dev chain).
    pub validators: Option<ValidatorSet>,
}

/// Why a genesis is invalid.
#[derive(Debug, thiserror::Error)]
pub enum GenesisError {
    /// An address is listed twice.
    #[error("genesis lists {0} twice")]
    DuplicateAccount(Address),
    /// The balances sum to more than u128::MAX.
    #[error("genesis total supply overflows u128")]
    SupplyOverflow,
    /// The node failed.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// How [`Runtime::check_tx_with`] learns whether the signature is valid.
#[derive(Debug, Clone)]
enum SigCheck {
    /// Not known yet: checked now.
    Now,
    /// Already checked with `verify_strict` (at admission, or up front for a whole block).
    Known(Result<(), SignatureError>),
}

/// A transaction whose stateless checks, its signature among them, passed on exactly its
/// encoding: the hash and encoded length travel with it, so a block built from it
/// ([`BlockBuilder::push_verified`]) neither re-encodes, re-hashes nor checks it again. Only
/// [`Runtime::admit`] makes one, so holding one is the proof of the check.
#[derive(Debug, Clone)]
pub struct VerifiedTx {
    signed: Arc<SignedTransaction>,
    hash: Hash,
    len: usize,
}

impl VerifiedTx {
    /// The transaction.
    pub fn signed(&self) -> &Arc<SignedTransaction> {
        &self.signed
    }

    /// SHA3-256 of its encoding.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    /// Its encoded length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether its encoding is empty (never: a transaction has fields).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Why [`Runtime::admit`] refused transaction bytes: always the submitter's fault.
#[derive(Debug, thiserror::Error)]
pub enum AdmitError {
    /// The bytes do not decode.
    #[error("transaction does not decode: {0}")]
    Decode(#[from] weft_types::DecodeError),
    /// A stateless check failed.
    #[error(transparent)]
    Invalid(#[from] TxError),
}

impl Runtime {
    /// Checks whether `signed` can be included now and returns its intrinsic gas. Changes
    /// nothing.
    pub fn check_tx(
        &self,
        overlay: &Overlay,
        signed: &SignedTransaction,
        encoded_len: usize,
        block_gas_left: Gas,
    ) -> Result<Gas, PushError> {
        self.check_tx_with(overlay, signed, encoded_len, block_gas_left, SigCheck::Now)
    }

    fn check_tx_with(
        &self,
        overlay: &Overlay,
        signed: &SignedTransaction,
        encoded_len: usize,
        block_gas_left: Gas,
        sig: SigCheck,
    ) -> Result<Gas, PushError> {
        let intrinsic = self.check_stateless_with(signed, encoded_len, sig)?;
        let t = &signed.tx;
        if t.gas_limit > block_gas_left {
            return Err(PushError::BlockFull("MAX_BLOCK_GAS reached"));
        }
        let account = overlay.account(&t.sender).map_err(RuntimeError::from)?;
        if t.nonce < account.nonce {
            return Err(TxError::NonceTooLow { expected: account.nonce, found: t.nonce }.into());
        }
        if t.nonce > account.nonce {
            return Err(TxError::NonceTooHigh { expected: account.nonce, found: t.nonce }.into());
        }
        let max_fee = max_fee(t.gas_limit, t.gas_price)?;
        if account.balance < max_fee {
            return Err(TxError::InsufficientFee { needed: max_fee, available: account.balance }.into());
        }
        Ok(intrinsic)
    }

    /// The checks that need no state: size, chain id, gas bounds, fee overflow, signature.
    /// Returns the intrinsic gas.
    pub fn check_stateless(&self, signed: &SignedTransaction, encoded_len: usize) -> Result<Gas, TxError> {
        self.check_stateless_with(signed, encoded_len, SigCheck::Now)
    }

    /// Decodes transaction bytes entering the mempool and runs the stateless checks on them:
    /// what passes comes back as a [`VerifiedTx`], which carries the check into the block.
    pub fn admit(&self, bytes: &[u8]) -> Result<VerifiedTx, AdmitError> {
        let signed = SignedTransaction::decode_bounded(bytes)?;
        self.check_stateless(&signed, bytes.len())?;
        Ok(VerifiedTx { signed: Arc::new(signed), hash: sha3_256(bytes), len: bytes.len() })
    }

    /// The checks of [`Self::check_stateless`], in the same order, with the signature's
    /// answer taken from `sig`.
    fn check_stateless_with(
        &self,
        signed: &SignedTransaction,
        encoded_len: usize,
        sig: SigCheck,
    ) -> Result<Gas, TxError> {
        let intrinsic = self.check_unsigned(signed, encoded_len)?;
        let t = &signed.tx;
        if t.gas_price < self.min_gas_price {
            return Err(TxError::GasPriceTooLow { min: self.min_gas_price, found: t.gas_price });
        }
        max_fee(t.gas_limit, t.gas_price)?;
        match sig {
            SigCheck::Known(result) => result?,
            SigCheck::Now => self.keys.verify(signed)?,
        }
        Ok(intrinsic)
    }

    /// The checks of [`Self::check_stateless`] that neither the signature nor the gas price
    /// decide: size, chain id, gas limit bounds. Returns the intrinsic gas.
    pub(crate) fn check_unsigned(
        &self,
        signed: &SignedTransaction,
        encoded_len: usize,
    ) -> Result<Gas, TxError> {
        let t = &signed.tx;
        if encoded_len > MAX_TX_BYTES {
            return Err(TxError::TooLarge { len: encoded_len, max: MAX_TX_BYTES });
        }
        if t.chain_id != self.chain_id {
            return Err(TxError::WrongChain { expected: self.chain_id, found: t.chain_id });
        }
        let intrinsic = SCHEDULE.intrinsic(encoded_len);
        if t.gas_limit < intrinsic {
            return Err(TxError::IntrinsicGas { limit: t.gas_limit, intrinsic });
        }
        if t.gas_limit > MAX_TX_GAS {
            return Err(TxError::GasLimitTooHigh { limit: t.gas_limit, max: MAX_TX_GAS });
        }
        Ok(intrinsic)
    }

    /// Re-executes `block` on top of `backend` (the state after `parent`) and checks every
    /// header field against the result. Every signature is checked.
    pub fn apply_block(
        &self,
        backend: SharedBackend,
        parent: &Header,
        block: &Block,
    ) -> Result<BlockOutput, BlockError> {
        self.apply_block_verified(backend, parent, block, |hashes| vec![false; hashes.len()])
    }

    /// [`Self::apply_block`] skipping the signature checks of the transactions `verified`
    /// names: given the block's transaction hashes (SHA3-256 of each encoding), it answers for
    /// each whether the caller holds it as a [`VerifiedTx`] (a node: whether it is in its
    /// mempool). It is asked once, before execution.
    pub fn apply_block_verified(
        &self,
        backend: SharedBackend,
        parent: &Header,
        block: &Block,
        verified: impl FnOnce(&[Hash]) -> Vec<bool>,
    ) -> Result<BlockOutput, BlockError> {
        let h = &block.header;
        if h.height != parent.height + 1 || h.parent_hash != parent.hash() {
            return Err(BlockError::NotChild {
                height: h.height,
                expected_height: parent.height + 1,
                parent: parent.hash(),
            });
        }
        let mut builder = BlockBuilder::new(self, backend, parent, h.timestamp_ms, h.proposer);
        // Every signature not verified at admission is checked up front, in parallel; the
        // answers are used in block order, exactly where the serial check would have run.
        let (lens, hashes): (Vec<usize>, Vec<Hash>) = block
            .txs
            .iter()
            .map(|tx| {
                let encoded = tx.encode();
                (encoded.len(), sha3_256(&encoded))
            })
            .unzip();
        let known = verified(&hashes);
        let sigs = crate::sigs::check_all(&self.keys, &block.txs, &known);
        for (index, (tx, sig)) in block.txs.iter().zip(sigs).enumerate() {
            let sig = SigCheck::Known(sig.unwrap_or(Ok(())));
            match builder.push_checked(tx.clone(), lens[index], hashes[index], sig) {
                Ok(_) => {}
                Err(PushError::Runtime(e)) => return Err(e.into()),
                Err(PushError::Tx(error)) => {
                    return Err(BlockError::InvalidTx { index, hash: tx.hash(), error });
                }
                Err(PushError::BlockFull(what)) => {
                    return Err(BlockError::HeaderMismatch {
                        field: "size",
                        claimed: format!("{} transactions", block.txs.len()),
                        computed: what.to_owned(),
                    });
                }
            }
        }
        let output = builder.finish()?;
        let c = &output.block.header;
        let checks: [(&'static str, String, String); 4] = [
            ("tx_root", h.tx_root.to_string(), c.tx_root.to_string()),
            ("receipts_root", h.receipts_root.to_string(), c.receipts_root.to_string()),
            ("state_root", h.state_root.to_string(), c.state_root.to_string()),
            ("gas_used", h.gas_used.to_string(), c.gas_used.to_string()),
        ];
        for (field, claimed, computed) in checks {
            if claimed != computed {
                return Err(BlockError::HeaderMismatch { field, claimed, computed });
            }
        }
        // Block time only moves forward (docs/protocol.md §4); how far ahead of the clock a
        // block may be is each validator's call when it votes, not a rule of validity.
        if h.timestamp_ms <= parent.timestamp_ms {
            return Err(BlockError::Timestamp {
                timestamp_ms: h.timestamp_ms,
                parent_ms: parent.timestamp_ms,
            });
        }
        Ok(output)
    }

    /// Builds the genesis block (height 0) and its state over an empty backend.
    pub fn genesis(&self, backend: SharedBackend, genesis: &Genesis) -> Result<BlockOutput, GenesisError> {
        let mut kv = BTreeMap::new();
        let mut supply: Amount = 0;
        for (address, balance) in &genesis.balances {
            supply = supply.checked_add(*balance).ok_or(GenesisError::SupplyOverflow)?;
            let account = Account { balance: *balance, ..Account::default() };
            if kv.insert(account_key(address), Some(account.encode())).is_some() {
                return Err(GenesisError::DuplicateAccount(*address));
            }
        }
        if let Some(set) = &genesis.validators {
            kv.insert(VALIDATORS_KEY.to_vec(), Some(set.encode()));
        }
        let changes = tree::commit(&backend, 0, kv).map_err(RuntimeError::from)?;
        let header = Header {
            height: 0,
            parent_hash: Hash::ZERO,
            timestamp_ms: genesis.timestamp_ms,
            proposer: Address::default(),
            tx_root: tx_root(&[]),
            receipts_root: receipts_root(&[]),
            state_root: changes.root,
            gas_used: 0,
        };
        let txs = BoundedVec::new(Vec::new()).map_err(|e| RuntimeError::Engine(e.to_string()))?;
        Ok(BlockOutput { block: Block { header, txs }, receipts: Vec::new(), changes })
    }

    /// The chain this runtime executes for.
    pub fn chain_id(&self) -> ChainId {
        self.chain_id
    }
}

fn max_fee(gas_limit: Gas, gas_price: Amount) -> Result<Amount, TxError> {
    Amount::from(gas_limit).checked_mul(gas_price).ok_or(TxError::FeeOverflow { gas_limit, gas_price })
}
