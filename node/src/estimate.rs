//! Dry runs on top of the head, in the environment of the next block: the exact gas estimate of
//! a transaction (`contract_estimateGas`) and read-only contract calls (`contract_query`).
//! Nothing is committed. Knows no JSON: call inputs arrive ABI-encoded, and the RPC layer decodes
//! results. Both run contract code, so callers on an async runtime run them on a blocking thread.

use weft_runtime::{BlockEnv, RuntimeError, TxError, query::DryRunError, query::QueryOutcome};
use weft_types::{Action, Address, Amount, Gas, Header, Height, Receipt, Transaction, limits::MAX_TX_GAS};

use crate::{
    dev::control::dev_proposer,
    ledger::{ChainError, Ledger},
};

/// Why a dry run did not run.
#[derive(Debug, thiserror::Error)]
pub enum DryRunFailure {
    /// Reading the head or its state failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The transaction could never be included (the caller's fault).
    #[error(transparent)]
    Tx(TxError),
    /// The runtime failed (the node's fault).
    #[error("node error: {0}")]
    Runtime(RuntimeError),
}

impl From<DryRunError> for DryRunFailure {
    fn from(e: DryRunError) -> Self {
        match e {
            DryRunError::Tx(e) => DryRunFailure::Tx(e),
            DryRunError::Runtime(e) => DryRunFailure::Runtime(e),
        }
    }
}

/// The environment of a run on top of `head`: the next block's, proposed by the dev proposer.
pub fn next_env(head: &Header) -> BlockEnv {
    BlockEnv { height: head.height + 1, timestamp_ms: head.timestamp_ms + 1, proposer: dev_proposer() }
}

/// A dry-run transaction's receipt and what it would cost at the minimum gas price.
#[derive(Debug, Clone)]
pub struct Estimation {
    /// The receipt it would have with `gas_limit`: gas used, storage deposit and refund, status,
    /// return data.
    pub receipt: Receipt,
    /// The smallest gas limit with which it succeeds (when it succeeds at all; else the gas it
    /// used failing).
    pub gas_limit: Gas,
    /// `gas_used × min_gas_price`.
    pub fee: Amount,
}

/// Runs `action` from `from` at the head with `gas` (at most a transaction's largest limit), so
/// that the gas used is what the action needs, not what a guessed limit allowed; then finds the
/// smallest limit with which it still succeeds. That is the gas used when no call is nested; a
/// nested call is given only 63/64 of the gas left, so a limit of exactly the gas used can starve
/// it, and the smallest limit is searched for between the two (every run on the same state).
///
/// Cost: one run, two when no call is nested, and at most `log2(gas)` (29 at `MAX_TX_GAS`) more
/// for a transaction that succeeds only above the gas it uses; each run does at most the work of
/// the first. All of it holds one RPC execution turn (`rpc::executions`), so a client asking for
/// such estimates takes no more of the node than its turns allow; no run starts once
/// `time_limit` has passed since the first, and each is bounded by the query VM's own limit.
pub fn estimate(
    ledger: &Ledger,
    from: Address,
    action: Action,
    gas: Gas,
    time_limit: Option<std::time::Duration>,
) -> Result<Estimation, DryRunFailure> {
    let deadline = time_limit.map(|t| std::time::Instant::now() + t);
    let runtime = ledger.runtime();
    let tx = Transaction {
        chain_id: runtime.chain_id(),
        sender: from,
        nonce: 0,
        gas_limit: gas.min(MAX_TX_GAS),
        gas_price: 0,
        action,
    };
    let env = next_env(&ledger.head()?);
    let state = ledger.state()?;
    let run = |gas_limit: Gas| {
        // Each run is bounded by the query VM's time limit; the search as a whole by `deadline`.
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Err(DryRunFailure::Runtime(RuntimeError::Interrupted));
        }
        runtime
            .dry_run(state.clone(), env, Transaction { gas_limit, ..tx.clone() })
            .map_err(DryRunFailure::from)
    };
    let mut receipt = run(tx.gas_limit)?;
    let mut gas_limit = receipt.gas_used;
    if receipt.is_success() && gas_limit < tx.gas_limit {
        let at_used = run(gas_limit)?;
        if at_used.is_success() {
            receipt = at_used;
        } else {
            // `low` fails, `high` succeeds.
            let (mut low, mut high) = (gas_limit, tx.gas_limit);
            while high - low > 1 {
                let mid = low + (high - low) / 2;
                let r = run(mid)?;
                if r.is_success() {
                    (high, receipt) = (mid, r);
                } else {
                    low = mid;
                }
            }
            gas_limit = high;
        }
    }
    let fee = u128::from(receipt.gas_used).saturating_mul(runtime.min_gas_price());
    Ok(Estimation { receipt, gas_limit, fee })
}

/// A read-only call's outcome and the height of the state it read.
#[derive(Debug)]
pub struct QueryRun {
    /// The head the call ran on top of.
    pub height: Height,
    /// What the call returned, its gas and events.
    pub outcome: QueryOutcome,
}

/// Calls `method` of `contract` with encoded `input` at the head, from `caller` (the zero
/// address when `None`), with `gas` (at most a transaction's largest limit).
pub fn query(
    ledger: &Ledger,
    caller: Option<Address>,
    contract: Address,
    method: &str,
    input: Vec<u8>,
    gas: Gas,
) -> Result<QueryRun, DryRunFailure> {
    let gas = gas.min(MAX_TX_GAS);
    let head = ledger.head()?;
    let env = next_env(&head);
    let caller = caller.unwrap_or(Address([0; 32]));
    let outcome = ledger
        .runtime()
        .query(ledger.state()?, env, caller, contract, method, input, gas)
        .map_err(DryRunFailure::Runtime)?;
    Ok(QueryRun { height: head.height, outcome })
}
