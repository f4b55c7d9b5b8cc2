//! The wasm virtual machine, the only module that knows wasmtime: the one place it is configured
//! (for determinism), the cache of compiled modules by code hash, running a call frame
//! ([`frame`]) and the host functions contracts import ([`host`]).
//!
//! Execution (`exec`) sees none of wasmtime: it implements [`Host`] (state, events, block, nested
//! calls), hands a frame to [`LoadedCode::run`] and gets back runtime types (`ExecError`,
//! `RuntimeError`, backtraces as text). Everything here is generic over the host, so host calls
//! are statically dispatched.
//!
//! Determinism settings, all here:
//! - fuel metering on: gas is fuel, and running out of it is the only out-of-gas;
//! - floats allowed, with NaN canonicalization, so every float result is bit-identical on every
//!   machine (IEEE 754 arithmetic is otherwise deterministic; only NaN payloads vary);
//! - only WebAssembly 1.0 + mutable globals (the `wasm32v1-none` target): no threads, SIMD,
//!   reference types, bulk memory, multi-value, tail calls, GC, exceptions, memory64, WASI or
//!   component model — refused by deploy-time validation ([`prepare`]) and disabled here;
//! - the wasm stack is bounded by deterministic instrumentation (`MAX_STACK_UNITS`), far below
//!   `max_wasm_stack`, so the native stack size never decides a result;
//! - memory is capped per instance by [`host::Limiter`]; no clocks, no randomness, no epochs.

pub mod frame;
pub mod host;
pub mod prepare;

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module, PoolingAllocationConfig,
};
use weft_types::{Hash, limits::wasm::MAX_MEMORY_PAGES};

use crate::error::RuntimeError;
pub use frame::{Frame, FrameEnd};
use host::HostData;
pub use host::{CallOutcome, CallRequest, CallResult, Host};
use prepare::{CodeError, PreparedCode};

/// Native stack wasm may use. The instrumentation keeps real use far below this; it is a
/// backstop, and small enough for a default 2 MiB thread stack.
const MAX_WASM_STACK: usize = 1 << 20;
/// Instances alive at once in the pool (one per call frame: `MAX_CALL_DEPTH` per execution,
/// times the executions that may run concurrently, such as RPC queries).
const POOL_INSTANCES: u32 = 256;
/// Bytes of each pooled memory and table kept resident between instances and reset in place
/// (see `engine_config`): the example contracts use 2 pages; the rest of a bigger memory is
/// released as usual. Bounds what the pool keeps resident to `POOL_INSTANCES` × 256 KiB.
const KEEP_RESIDENT: usize = 256 << 10;
/// Compiled modules kept in memory.
const CACHE_ENTRIES: usize = 512;

/// The engine configuration with the determinism settings above. `metered: false` leaves fuel
/// off and exists only to measure what metering costs (`benches/runtime.rs`); the node always
/// runs with `true`.
pub fn engine_config(metered: bool) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(POOL_INSTANCES)
        .total_memories(POOL_INSTANCES)
        .total_tables(POOL_INSTANCES)
        .max_memories_per_module(1)
        .max_tables_per_module(1)
        .table_elements(weft_types::limits::wasm::MAX_TABLE_ELEMENTS as usize)
        .max_memory_size((MAX_MEMORY_PAGES as usize) << 16)
        .total_component_instances(0)
        // A call's memory is reset when its instance is torn down. By default that is an
        // `madvise` per instance, which costs a TLB shootdown on every core and a page fault per
        // page the next call touches. Resetting the pages the call dirtied (found with Linux's
        // PAGEMAP_SCAN where the kernel has it, else the low bytes) keeps them resident instead.
        // Either way the next instance sees exactly the module's initial memory.
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT)
        .pagemap_scan(Enabled::Auto);

    let mut config = Config::new();
    config
        .consume_fuel(metered)
        .cranelift_nan_canonicalization(true)
        .max_wasm_stack(MAX_WASM_STACK)
        .wasm_simd(false)
        .wasm_relaxed_simd(false)
        .wasm_bulk_memory(false)
        .wasm_multi_value(false)
        .wasm_multi_memory(false)
        .wasm_memory64(false)
        .wasm_tail_call(false)
        .wasm_extended_const(false)
        // Reference types, GC, function references, exceptions, threads and the
        // component model are compiled out (crate features), so they cannot be enabled.
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// A module ready to instantiate, with what validation learned about it.
pub struct LoadedCode<H> {
    /// Pre-linked against the host functions.
    pre: InstancePre<HostData<H>>,
    /// Exports and stack costs (its `code` field is emptied: the bytes live in state).
    pub info: PreparedCode,
    /// Size of the uploaded code, which calls pay for.
    pub code_len: usize,
}

/// Why code cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The code breaks a deploy rule: the uploader's fault.
    #[error(transparent)]
    Invalid(#[from] CodeError),
    /// Compilation failed on a module that passed validation.
    #[error("compilation failed: {0}")]
    Compile(String),
}

/// The engine, the linker with every host function (over host `H`), and the module cache. Cheap
/// to clone.
pub struct Vm<H> {
    inner: Arc<VmInner<H>>,
}

// Not derived: a derive would require `H: Clone`, and only the `Arc` is cloned.
impl<H> Clone for Vm<H> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

struct VmInner<H> {
    engine: Engine,
    linker: Linker<HostData<H>>,
    cache: Mutex<BTreeMap<Hash, Arc<LoadedCode<H>>>>,
}

impl<H: Host> Vm<H> {
    /// Builds the engine with the determinism settings above.
    pub fn new() -> Result<Self, RuntimeError> {
        let config = engine_config(true);
        let engine = Engine::new(&config).map_err(|e| RuntimeError::Engine(format!("engine config: {e}")))?;
        let mut linker = Linker::new(&engine);
        host::link(&mut linker).map_err(|e| RuntimeError::Engine(format!("linking host functions: {e}")))?;
        Ok(Self { inner: Arc::new(VmInner { engine, linker, cache: Mutex::new(BTreeMap::new()) }) })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The compiled module for `code_hash`, if cached.
    pub fn cached(&self, code_hash: &Hash) -> Option<Arc<LoadedCode<H>>> {
        self.lock_cache().get(code_hash).cloned()
    }

    /// Validates, instruments and compiles `wasm`, and caches the result under `code_hash`.
    pub fn load(&self, code_hash: &Hash, wasm: &[u8]) -> Result<Arc<LoadedCode<H>>, LoadError> {
        if let Some(hit) = self.cached(code_hash) {
            return Ok(hit);
        }
        let mut info = prepare::prepare(wasm)?;
        let module =
            Module::new(&self.inner.engine, &info.code).map_err(|e| LoadError::Compile(e.to_string()))?;
        let pre =
            self.inner.linker.instantiate_pre(&module).map_err(|e| LoadError::Compile(e.to_string()))?;
        info.code = Vec::new();
        let loaded = Arc::new(LoadedCode { pre, info, code_len: wasm.len() });
        let mut cache = self.lock_cache();
        if cache.len() >= CACHE_ENTRIES {
            // Which entry goes only affects speed, never results: compilation is deterministic.
            cache.pop_first();
        }
        cache.insert(*code_hash, loaded.clone());
        Ok(loaded)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, BTreeMap<Hash, Arc<LoadedCode<H>>>> {
        // A panic while holding the lock cannot leave the map inconsistent (single inserts).
        self.inner.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
