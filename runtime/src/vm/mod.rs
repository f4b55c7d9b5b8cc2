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
//! - fuel metering on: gas is fuel, and running out of it is the only out-of-gas; each
//!   operator's fuel is [`operator_cost`];
//! - floats allowed, with NaN canonicalization, so every float result is bit-identical on every
//!   machine (IEEE 754 arithmetic is otherwise deterministic; only NaN payloads vary);
//! - only WebAssembly 1.0 + mutable globals (the `wasm32v1-none` target): no threads, SIMD,
//!   reference types, bulk memory, multi-value, tail calls, GC, exceptions, memory64, WASI or
//!   component model — refused by deploy-time validation ([`prepare`]) and disabled here;
//! - the wasm stack is bounded by deterministic instrumentation (`MAX_STACK_UNITS`), far below
//!   `max_wasm_stack`, so the native stack size never decides a result;
//! - memory is capped per instance by [`host::Limiter`]; no clocks, no randomness;
//! - epoch interruption is compiled in (so block and query VMs share compiled code), but only a
//!   query VM's epoch ever moves ([`Vm::tick`], driven by the node's clock): it bounds a query's
//!   wall-clock time. A block VM's epoch stays at 0 and its frames' deadline is never reached.

pub mod artifacts;
pub mod frame;
pub mod host;
pub mod prepare;

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module, OperatorCost,
    PoolingAllocationConfig,
};
use weft_types::{Gas, Hash, limits::wasm::MAX_MEMORY_PAGES};

use crate::{error::RuntimeError, gas::SCHEDULE};
pub use artifacts::{ArtifactStore, CodeInfo, MemoryArtifacts};
pub use frame::{Frame, FrameEnd};
use host::HostData;
pub use host::{CallOutcome, CallRequest, CallResult, Entry, Host};
use prepare::CodeError;

/// Native stack wasm may use. The instrumentation keeps real use far below this; it is a
/// backstop, and small enough for a default 2 MiB thread stack.
const MAX_WASM_STACK: usize = 1 << 20;
/// Bytes of each pooled memory and table kept resident between instances and reset in place
/// (see `engine_config`): the example contracts use 2 pages; the rest of a bigger memory is
/// released as usual. Bounds what the pool keeps resident to `POOL_INSTANCES` × 256 KiB.
const KEEP_RESIDENT: usize = 256 << 10;
/// Compiled modules kept in memory, at most.
const CACHE_ENTRIES: usize = 512;
/// Bytes of compiled modules kept in memory, at most.
const CACHE_BYTES: usize = 512 << 20;

/// The engine configuration with the determinism settings above. `metered: false` leaves fuel
/// off and exists only to measure what metering costs (`benches/runtime.rs`); the node always
/// runs with `true`. `instances` is the size of the instance pool (see [`Role`]); it does not
/// change compiled code.
pub fn engine_config(metered: bool, instances: u32) -> Config {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(instances)
        .total_memories(instances)
        .total_tables(instances)
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
        .epoch_interruption(true)
        .operator_cost(operator_cost())
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

/// Who runs code on a [`Vm`], which decides whether it may compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Block execution: compiles uploads (paid by the uploader) and, should an artifact be
    /// missing, the code in state.
    Blocks,
    /// Read-only execution (RPC queries and estimates): only loads artifacts, validates uploads
    /// without compiling them, and has its own instance pool, so no query can take instances or
    /// compile time from block execution.
    Queries,
}

impl Role {
    /// Instances alive at once in the pool: one per call frame, `MAX_CALL_DEPTH` per execution,
    /// times the executions that may run at once. Block execution runs a few at a time (build,
    /// validate, sync); queries as many as the RPC server lets run (at most 16).
    fn pool_instances(self) -> u32 {
        match self {
            Role::Blocks => 256,
            Role::Queries => 128,
        }
    }
}

/// Sets each listed operator's cost in an [`OperatorCost`] table.
macro_rules! cost {
    ($table:ident, $cost:expr, $($op:ident),+ $(,)?) => { $( $table.$op = $cost; )+ };
}

/// wasmtime's own table, which [`operator_cost`] starts from (for documentation and tests).
pub fn default_operator_cost() -> OperatorCost {
    OperatorCost::new()
}

/// Gas (fuel) of each wasm operator: a protocol constant, like the schedule in `gas`, aiming at
/// ≤ 2 ns per gas for any operator mix on the reference machine, with typical code staying near
/// one gas per operator.
///
/// It starts from wasmtime's default (1 per operator; 0 for `nop`, `drop`, `block`, `loop`,
/// `else`, `end`, `return` and `unreachable`, which do no work of their own) and raises only
/// operators that one instruction can make slow. The figures are from
/// `benches/adversarial.rs` (`-- ops` for single operators, the suite for whole contracts) on
/// the 2-core Xeon development machine; dependent chains, so latency, not throughput:
/// - integer `div`/`rem`: 4.2 ns (i64.div_u, 64-bit quotient) to 5.3 ns (i64.rem_s), 3.3 ns for
///   i32; a chain costs 2 gas per division at weight 1, so 2.5 ns/gas. Older cores (Skylake) take
///   up to ~90 cycles for a 64-bit division, hence 8 for i64 and 4 for i32;
/// - float `div`/`sqrt`: 6.4–6.5 ns each (NaN canonicalization adds a compare and select to
///   every float result), and `sqrt` chains at one operator each; `ceil`/`floor`/`trunc`/
///   `nearest` ~5.5 ns; `add`/`sub`/`mul` ~3.3 ns; conversions ~1.6 ns;
/// - loads: a dependent chain of random `i32.load`s (one operator each) costs 2.3 ns within
///   64 KiB, 5.8 ns within 1 MiB, 25 ns within 4 MiB and 136 ns within 16 MiB (cache and TLB
///   misses). No static weight covers 16 MiB at ≤ 2 ns/gas without making every load ~70 gas;
///   weight 3 covers a memory of up to 1 MiB (1.6 ns/gas), which is why the benchmark's report
///   proposes `MAX_MEMORY_PAGES = 16`. Random stores are throughput-bound (5.8 ns over 16 MiB
///   with the address arithmetic they need), hence 2;
/// - `memory.grow` is a call into the runtime, 19 ns even for 0 pages; the pages themselves are
///   charged by the limiter (`SCHEDULE.memory_page`), so the per-page variable cost stays 0;
/// - `br_table` with an unpredictable index costs a mispredicted indirect jump (~7 ns);
///   `call_indirect` adds a bounds and signature check to a call (a direct call already costs
///   ~14 gas with the stack instrumentation around it, 1.6 ns).
///
/// Everything else stays at 1: integer arithmetic (0.26 ns, `mul` 0.8 ns), locals and globals
/// (locals may spill with many of them live, so not 0), `br`/`br_if`, calls.
pub fn operator_cost() -> OperatorCost {
    let mut c = OperatorCost::new();
    #[rustfmt::skip]
    cost!(c, 3, I32Load, I64Load, F32Load, F64Load, I32Load8S, I32Load8U, I32Load16S, I32Load16U,
        I64Load8S, I64Load8U, I64Load16S, I64Load16U, I64Load32S, I64Load32U);
    cost!(
        c, 2, I32Store, I64Store, F32Store, F64Store, I32Store8, I32Store16, I64Store8, I64Store16,
        I64Store32
    );
    cost!(c, 4, I32DivS, I32DivU, I32RemS, I32RemU);
    cost!(c, 8, I64DivS, I64DivU, I64RemS, I64RemU);
    cost!(c, 2, F32Add, F32Sub, F32Mul, F64Add, F64Sub, F64Mul);
    cost!(c, 6, F32Div, F32Sqrt, F64Div, F64Sqrt);
    cost!(c, 3, F32Min, F32Max, F64Min, F64Max);
    cost!(c, 4, F32Ceil, F32Floor, F32Trunc, F32Nearest, F64Ceil, F64Floor, F64Trunc, F64Nearest);
    #[rustfmt::skip]
    cost!(c, 3, I32TruncF32S, I32TruncF32U, I32TruncF64S, I32TruncF64U, I64TruncF32S, I64TruncF32U,
        I64TruncF64S, I64TruncF64U, F32ConvertI32S, F32ConvertI32U, F32ConvertI64S, F32ConvertI64U,
        F64ConvertI32S, F64ConvertI32U, F64ConvertI64S, F64ConvertI64U, F32DemoteF64, F64PromoteF32);
    cost!(c, 40, MemoryGrow);
    cost!(c, 4, BrTable);
    cost!(c, 2, CallIndirect);
    c
}

/// A module ready to instantiate, with what validation learned about it.
pub struct LoadedCode<H> {
    /// Pre-linked against the host functions.
    pre: InstancePre<HostData<H>>,
    /// Exports, stack costs and size.
    pub info: CodeInfo,
    /// Bytes of the compiled module, which the in-memory cache is bounded by.
    weight: usize,
}

/// Uploaded code that passed validation ([`Vm::check_upload`]), waiting for its compile weight
/// to be paid before [`Vm::finish_upload`] compiles it.
pub struct CheckedUpload {
    /// The prepared code, or `None` when the code already has an artifact.
    prepared: Option<prepare::PreparedCode>,
    /// Gas compiling the code costs (`PreparedCode::compile_weight`).
    pub compile_weight: u64,
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

/// The engine, the linker with every host function (over host `H`), the compiled modules
/// (durable in an [`ArtifactStore`], the most recent in memory) and the code sizes calls pay
/// for. Cheap to clone.
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
    role: Role,
    build: Hash,
    artifacts: Arc<dyn ArtifactStore>,
    /// Size and compile weight of every code this node has compiled or checked, by code hash:
    /// what a call is charged by before its code is loaded. Shared by the block and query VMs.
    /// One small entry per code ever uploaded (each upload paid at least `upload_byte` per byte
    /// and the module's compile weight), never evicted: a miss would cost a validation pass.
    lens: Arc<Mutex<BTreeMap<Hash, (u32, u64)>>>,
    cache: Mutex<Cache<H>>,
    /// Modules this VM has compiled.
    compiled: AtomicU64,
    /// Ticks so far: the engine's epoch (see [`Vm::tick`]).
    ticks: AtomicU64,
    /// Ticks one execution may run for, 0 for no limit (see [`Vm::limit_time`]).
    time_limit: AtomicU64,
}

/// Loaded modules kept in memory, at most `CACHE_ENTRIES` and `CACHE_BYTES` of compiled code.
/// Which entry goes only affects speed, never results: calls pay for loading whether cached or
/// not.
struct Cache<H> {
    modules: BTreeMap<Hash, Arc<LoadedCode<H>>>,
    bytes: usize,
}

impl<H: Host> Vm<H> {
    /// A VM for `role` keeping its compiled code in `artifacts`.
    pub fn new(role: Role, artifacts: Arc<dyn ArtifactStore>) -> Result<Self, RuntimeError> {
        Self::build(role, artifacts, Arc::default())
    }

    /// A query VM over the same artifacts and code sizes as this one, with its own engine and
    /// instance pool.
    pub fn for_queries(&self) -> Result<Self, RuntimeError> {
        Self::build(Role::Queries, self.inner.artifacts.clone(), self.inner.lens.clone())
    }

    fn build(
        role: Role,
        artifacts: Arc<dyn ArtifactStore>,
        lens: Arc<Mutex<BTreeMap<Hash, (u32, u64)>>>,
    ) -> Result<Self, RuntimeError> {
        let config = engine_config(true, role.pool_instances());
        let engine = Engine::new(&config).map_err(|e| RuntimeError::Engine(format!("engine config: {e}")))?;
        let mut linker = Linker::new(&engine);
        host::link(&mut linker).map_err(|e| RuntimeError::Engine(format!("linking host functions: {e}")))?;
        let build = artifacts::build_id(&engine);
        let cache = Mutex::new(Cache { modules: BTreeMap::new(), bytes: 0 });
        let (compiled, ticks, time_limit) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
        let inner =
            VmInner { engine, linker, role, build, artifacts, lens, cache, compiled, ticks, time_limit };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Who this VM runs code for.
    pub fn role(&self) -> Role {
        self.inner.role
    }

    /// Modules this VM has compiled since it was made.
    pub fn compiled(&self) -> u64 {
        self.inner.compiled.load(Ordering::Relaxed)
    }

    /// Advances a query VM's clock by one tick, interrupting executions past their deadline
    /// ([`Self::limit_time`]). The node calls it at a fixed interval. Does nothing on a block VM,
    /// whose executions never depend on time.
    pub fn tick(&self) {
        if self.inner.role == Role::Queries {
            self.inner.ticks.fetch_add(1, Ordering::Relaxed);
            self.inner.engine.increment_epoch();
        }
    }

    /// Limits each execution on this (query) VM to `ticks` ticks of [`Self::tick`] from its
    /// start, nested calls included: past it, the execution ends with
    /// `RuntimeError::Interrupted`. 0 removes the limit.
    pub fn limit_time(&self, ticks: u64) {
        self.inner.time_limit.store(ticks, Ordering::Relaxed);
    }

    /// The tick at which an execution starting now must stop, if this VM limits time.
    pub fn execution_deadline(&self) -> Option<u64> {
        let limit = self.inner.time_limit.load(Ordering::Relaxed);
        (self.inner.role == Role::Queries && limit > 0)
            .then(|| self.inner.ticks.load(Ordering::Relaxed).saturating_add(limit))
    }

    /// Ticks left until `deadline` (from [`Self::execution_deadline`]).
    pub fn ticks_left(&self, deadline: u64) -> u64 {
        deadline.saturating_sub(self.inner.ticks.load(Ordering::Relaxed))
    }

    /// What entering the code of `code_hash` costs (`GasSchedule::load` of its size and compile
    /// weight), when this node has compiled or checked it.
    pub fn load_cost(&self, code_hash: &Hash) -> Option<Gas> {
        lock(&self.inner.lens).get(code_hash).map(|&(len, weight)| SCHEDULE.load(len as usize, weight))
    }

    /// Remembers the size and compile weight of stored code, learned by validating it, so that
    /// [`Self::load_cost`] knows them from then on.
    pub fn note_code(&self, code_hash: &Hash, code_len: usize, compile_weight: u64) {
        let len = u32::try_from(code_len).unwrap_or(u32::MAX);
        lock(&self.inner.lens).insert(*code_hash, (len, compile_weight));
    }

    /// The compiled module of `code_hash`, from memory or from its artifact (loading, never
    /// compiling); `None` when there is no usable artifact.
    #[allow(unsafe_code)] // wasmtime's deserialization; why it is sound is said at the call.
    pub fn loaded(&self, code_hash: &Hash) -> Result<Option<Arc<LoadedCode<H>>>, LoadError> {
        if let Some(hit) = lock(&self.inner.cache).modules.get(code_hash) {
            return Ok(Some(hit.clone()));
        }
        let Some(artifact) = self.inner.artifacts.get(code_hash) else { return Ok(None) };
        let Some((info, module)) = artifacts::decode(&self.inner.build, &artifact) else { return Ok(None) };
        // SAFETY: `module` is what `Module::serialize` of an engine of this build produced: the
        // artifact names this build and its checksum matches (`artifacts::decode`).
        let module = match unsafe { Module::deserialize(&self.inner.engine, module) } {
            Ok(module) => module,
            // Stale in a way the build id did not catch: rebuilt like a missing one.
            Err(_) => return Ok(None),
        };
        self.insert(code_hash, module, info, artifact.len()).map(Some)
    }

    /// Validates `wasm` (whose hash is `code_hash`) against the deploy rules: the first half of
    /// an upload, which learns what compiling the code costs before anything is compiled. Code
    /// that already has an artifact passed before (the same upload executed again, in another
    /// block or by re-execution): its artifact gives the same weight without preparing it again.
    pub fn check_upload(&self, code_hash: &Hash, wasm: &[u8]) -> Result<CheckedUpload, LoadError> {
        if let Ok(Some(loaded)) = self.loaded(code_hash) {
            return Ok(CheckedUpload { prepared: None, compile_weight: loaded.info.compile_weight });
        }
        let prepared = prepare::prepare(wasm)?;
        Ok(CheckedUpload { compile_weight: prepared.compile_weight, prepared: Some(prepared) })
    }

    /// The second half of an upload of `wasm`, once its compile weight is paid: a block VM
    /// compiles it and keeps the artifact; a query VM, which never compiles, has nothing left to
    /// do.
    pub fn finish_upload(
        &self,
        code_hash: &Hash,
        wasm: &[u8],
        checked: CheckedUpload,
    ) -> Result<(), LoadError> {
        match (checked.prepared, self.inner.role) {
            (Some(prepared), Role::Blocks) => {
                self.compile_prepared(code_hash, wasm.len(), prepared).map(drop)
            }
            _ => Ok(()),
        }
    }

    /// Validates, instruments and compiles stored code `wasm`, keeps the artifact and caches
    /// the module. Stored code was paid for at its upload, so what compiling it would cost now
    /// is not bounded again (it may have been uploaded under another schedule).
    pub fn compile(&self, code_hash: &Hash, wasm: &[u8]) -> Result<Arc<LoadedCode<H>>, LoadError> {
        let prepared = prepare::prepare_at_any_price(wasm)?;
        self.compile_prepared(code_hash, wasm.len(), prepared)
    }

    /// Compiles `prepared` (of code of `code_len` bytes), keeps the artifact and caches the
    /// module.
    fn compile_prepared(
        &self,
        code_hash: &Hash,
        code_len: usize,
        prepared: prepare::PreparedCode,
    ) -> Result<Arc<LoadedCode<H>>, LoadError> {
        self.inner.compiled.fetch_add(1, Ordering::Relaxed);
        let module =
            Module::new(&self.inner.engine, &prepared.code).map_err(|e| LoadError::Compile(e.to_string()))?;
        let info = CodeInfo::new(&prepared, code_len);
        let serialized = module.serialize().map_err(|e| LoadError::Compile(e.to_string()))?;
        let artifact = artifacts::encode(&self.inner.build, &info, &serialized);
        self.inner.artifacts.put(code_hash, &artifact);
        self.insert(code_hash, module, info, artifact.len())
    }

    /// Makes sure `code_hash` (stored as `wasm`) has a usable artifact, compiling it if not, and
    /// learns its size. What a node does at start for every code in its state, so that no block
    /// ever waits for a compile. Returns whether it compiled.
    pub fn prepare_stored(&self, code_hash: &Hash, wasm: &[u8]) -> Result<bool, LoadError> {
        let artifact = self.inner.artifacts.get(code_hash);
        if let Some((info, _)) = artifact.as_deref().and_then(|a| artifacts::decode(&self.inner.build, a)) {
            self.note_code(code_hash, info.code_len as usize, info.compile_weight);
            return Ok(false);
        }
        self.compile(code_hash, wasm).map(|_| true)
    }

    fn insert(
        &self,
        code_hash: &Hash,
        module: Module,
        info: CodeInfo,
        weight: usize,
    ) -> Result<Arc<LoadedCode<H>>, LoadError> {
        let pre =
            self.inner.linker.instantiate_pre(&module).map_err(|e| LoadError::Compile(e.to_string()))?;
        self.note_code(code_hash, info.code_len as usize, info.compile_weight);
        let loaded = Arc::new(LoadedCode { pre, info, weight });
        let mut cache = lock(&self.inner.cache);
        while !cache.modules.is_empty()
            && (cache.modules.len() >= CACHE_ENTRIES || cache.bytes + weight > CACHE_BYTES)
        {
            if let Some((_, gone)) = cache.modules.pop_first() {
                cache.bytes -= gone.weight;
            }
        }
        if let Some(old) = cache.modules.insert(*code_hash, loaded.clone()) {
            cache.bytes -= old.weight;
        }
        cache.bytes += weight;
        Ok(loaded)
    }
}

/// A lock whose holders cannot leave the data inconsistent (single inserts and removals).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
