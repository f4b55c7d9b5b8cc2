//! Weft's deterministic state transition.
//!
//! Given committed state (a [`state::StateBackend`]) and a block, this crate computes the
//! receipts, the state changes and the new state root — the same on every machine and every run.
//! It validates and meters contract wasm ([`vm`]), runs host functions, keeps a journaled overlay
//! with checkpoints ([`state::overlay`]) and maintains the Merkle state tree ([`state::tree`]).
//!
//! It performs no I/O (compiled code goes to the [`vm::ArtifactStore`] its embedder provides)
//! and reads no clock or randomness; it never depends on tokio, libp2p, jsonrpsee or redb (a
//! test in `weft-tests` checks this).

pub mod block;
pub mod error;
pub mod exec;
pub mod gas;
mod lifecycle;
pub mod query;
pub mod sigs;
pub mod state;
pub mod vm;

pub use block::{AdmitError, BlockBuilder, BlockOutput, Genesis, GenesisError, PushError, VerifiedTx};
pub use error::{BlockError, RuntimeError, TxError};
pub use exec::BlockEnv;
pub use state::{StateBackend, StateChanges, StateError, overlay::SharedBackend};

use std::sync::{Arc, Mutex};

use weft_types::{Amount, ChainId};

/// The state transition function of one chain. Cheap to clone (the VMs are shared).
#[derive(Clone)]
pub struct Runtime {
    /// Executes blocks.
    vm: vm::Vm<exec::TxCtx>,
    /// Executes queries and dry runs (made at the first one: see [`vm::Role::Queries`]).
    queries: Arc<Mutex<Option<vm::Vm<exec::TxCtx>>>>,
    chain_id: ChainId,
    min_gas_price: Amount,
    /// Senders' keys remembered parsed (speed only; see [`sigs`]).
    keys: Arc<sigs::SenderKeys>,
}

impl Runtime {
    /// A runtime for `chain_id`, accepting gas prices of at least `min_gas_price`, keeping
    /// compiled code in memory only.
    pub fn new(chain_id: ChainId, min_gas_price: Amount) -> Result<Self, RuntimeError> {
        Self::with_artifacts(chain_id, min_gas_price, Arc::new(vm::MemoryArtifacts::default()))
    }

    /// A runtime keeping compiled code in `artifacts`.
    pub fn with_artifacts(
        chain_id: ChainId,
        min_gas_price: Amount,
        artifacts: Arc<dyn vm::ArtifactStore>,
    ) -> Result<Self, RuntimeError> {
        let vm = vm::Vm::new(vm::Role::Blocks, artifacts)?;
        Ok(Self { vm, queries: Arc::default(), chain_id, min_gas_price, keys: Default::default() })
    }

    /// The VM executing blocks.
    pub fn vm(&self) -> &vm::Vm<exec::TxCtx> {
        &self.vm
    }

    /// The VM executing queries and dry runs: its own engine and instance pool over the same
    /// artifacts, never compiling, so no query takes instances or compile time from blocks.
    pub fn query_vm(&self) -> Result<vm::Vm<exec::TxCtx>, RuntimeError> {
        let mut queries = self.queries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(vm) = queries.as_ref() {
            return Ok(vm.clone());
        }
        let vm = self.vm.for_queries()?;
        *queries = Some(vm.clone());
        Ok(vm)
    }

    /// Limits each query and dry run to `ticks` calls of [`Self::tick_queries`] from its start
    /// (0: no limit); past it, it ends with `RuntimeError::Interrupted`. Block execution is
    /// never limited by time.
    pub fn limit_query_time(&self, ticks: u64) -> Result<(), RuntimeError> {
        self.query_vm()?.limit_time(ticks);
        Ok(())
    }

    /// Advances the clock of queries' time limit by one tick (the node calls it at a fixed
    /// interval).
    pub fn tick_queries(&self) {
        if let Ok(vm) = self.query_vm() {
            vm.tick();
        }
    }

    /// The lowest gas price a transaction may offer.
    pub fn min_gas_price(&self) -> Amount {
        self.min_gas_price
    }
}
