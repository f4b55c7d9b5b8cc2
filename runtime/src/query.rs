//! Read-only execution: runs a contract method on top of committed state and throws the state
//! changes away. Used for RPC queries and gas estimation.

use weft_types::{Address, Event, ExecError, Gas};

use crate::{
    Runtime,
    error::RuntimeError,
    exec::{BlockEnv, CallRequest, TxCtx, call_contract},
    state::overlay::{Overlay, SharedBackend},
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
        let ctx = TxCtx::new(self.vm.clone(), Overlay::new(backend), env);
        let req = CallRequest {
            caller,
            contract,
            method: method.to_owned(),
            input,
            value: 0,
            gas,
            depth: 1,
            stack_base: 0,
            constructor: false,
        };
        let (mut ctx, outcome) = call_contract(ctx, req)?;
        let events = if outcome.result.is_ok() { std::mem::take(&mut ctx.events) } else { Vec::new() };
        Ok(QueryOutcome { result: outcome.result, gas_used: outcome.gas_used, events })
    }
}
