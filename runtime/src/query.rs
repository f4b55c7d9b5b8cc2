//! Read-only execution: runs a contract method on top of committed state and throws the state
//! changes away. Used for RPC queries and gas estimation, on the query VM ([`Runtime::query_vm`]).

use parity_scale_codec::Encode;
use weft_types::{Address, Event, ExecError, Gas, Receipt, SignedTransaction, Transaction, tx::Signature};

use crate::{
    Runtime,
    error::{RuntimeError, TxError},
    exec::{BlockEnv, TxCtx, call_contract, execute_tx},
    state::overlay::{Overlay, SharedBackend},
    vm::CallRequest,
};

/// The result of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryOutcome {
    /// What the method returned, or why it failed.
    pub result: Result<Vec<u8>, ExecError>,
    /// Gas the call used (not counting a transaction's intrinsic gas).
    pub gas_used: Gas,
    /// Events the call would emit.
    pub events: Vec<Event>,
    /// When a contract trapped: the wasm backtrace of the first trap, innermost frame first,
    /// with function names when the module has a name section.
    pub backtrace: Option<Vec<String>>,
}

impl Runtime {
    /// Calls `method` of `contract` as `caller` with `input` and at most `gas`, without
    /// keeping any change.
    #[allow(clippy::too_many_arguments)]
    pub fn query(
        &self,
        backend: SharedBackend,
        env: BlockEnv,
        caller: Address,
        contract: Address,
        method: &str,
        input: Vec<u8>,
        gas: Gas,
    ) -> Result<QueryOutcome, RuntimeError> {
        let ctx = TxCtx::new(self.query_vm()?, Overlay::new(backend), env);
        let req = CallRequest {
            caller,
            contract,
            method: method.to_owned(),
            input,
            value: 0,
            gas,
            depth: 1,
            stack_base: 0,
            entry: crate::vm::Entry::Method,
        };
        let (mut ctx, outcome) = call_contract(ctx, req)?;
        let events = if outcome.result.is_ok() { std::mem::take(&mut ctx.events) } else { Vec::new() };
        let backtrace = ctx.trap_backtrace.take();
        Ok(QueryOutcome { result: outcome.result, gas_used: outcome.gas_used, events, backtrace })
    }
}

impl Runtime {
    /// Executes `tx` exactly as a block would, on top of `backend`, without a signature and
    /// without keeping any change: the receipt's `gas_used` is what the transaction uses with
    /// this gas limit (intrinsic gas included), its deposits what it would charge and refund.
    ///
    /// The fee is not charged (the gas price is taken as 0), so an account can estimate a
    /// transaction it could not yet pay for; the nonce is the account's next one. Refused only
    /// for what no state can fix: size, chain id, gas limit bounds.
    pub fn dry_run(
        &self,
        backend: SharedBackend,
        env: BlockEnv,
        mut tx: Transaction,
    ) -> Result<Receipt, DryRunError> {
        let ctx = TxCtx::new(self.query_vm()?, Overlay::new(backend), env);
        tx.gas_price = 0;
        tx.nonce = ctx.overlay.account(&tx.sender).map_err(RuntimeError::from)?.nonce;
        let signed = SignedTransaction { tx, signature: Signature([0; 64]) };
        let encoded = signed.encode();
        let intrinsic = self.check_unsigned(&signed, encoded.len())?;
        let hash = weft_types::sha3_256(&encoded);
        let (_, receipt) = execute_tx(ctx, &signed, hash, intrinsic)?;
        Ok(receipt)
    }
}

/// Why a dry run could not run.
#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    /// The transaction could never be included.
    #[error(transparent)]
    Tx(#[from] TxError),
    /// The node failed.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}
