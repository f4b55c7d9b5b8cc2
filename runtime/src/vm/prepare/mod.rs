//! Deploy-time validation and deterministic-stack instrumentation of contract wasm: checks a module
//! against the protocol's feature set, `weft_types::limits::wasm` and the host ABI before anything is
//! compiled, then rewrites every function so that recursion ends at a deterministic stack budget.
//!
//! Everything is decided in two linear passes over at most `MAX_CODE_BYTES`: [`prepare`] first walks
//! the sections with `wasmparser`, checking each section's declared count before reading its items
//! and validating function bodies (WebAssembly 1.0 + mutable globals only, the `wasm32v1-none`
//! target) while measuring each function's operand stack; it then copies the module, appending two
//! globals ([`STACK_GLOBAL`], [`STACK_EXCEEDED_GLOBAL`]) and instrumenting each defined function
//! once, at its entry and its exits, never at its call sites:
//!
//! ```text
//! global.get $stack  i32.const <cost>  i32.add  global.set $stack      ;; enter: count this frame
//! global.get $stack  i32.const MAX_STACK_UNITS  i32.gt_u
//! if  i32.const 1  global.set $exceeded  unreachable  end              ;; over budget: trap
//! block (result <the function's results>)
//!   <the original body, each `return` rewritten to `br` to this block>
//! end
//! global.get $stack  i32.const <cost>  i32.sub  global.set $stack      ;; leave: release it
//! ```
//!
//! Every function is balanced: it adds its cost on entry and subtracts the same cost on every
//! normal exit. A branch to the function's own label now lands on the block's `end` (inserting the
//! block right inside the function keeps every relative branch depth), so the only other exit,
//! `return`, becomes a `br` to that block. Host functions never write the stack global and a trap
//! ends the whole frame, so whatever a function calls (directly or through `call_indirect`) has
//! given its units back by the time the call returns: the global always holds the units of the
//! frames on the stack, which is what the host reads for a nested contract call. The host sets the
//! global to the units already in use before it enters an export, which then counts itself.
//!
//! The rewrite grows code by a constant per function plus at most two bytes per `return` (one byte
//! becomes `br` and a depth of at most two LEB bytes); calls are copied unchanged. The output is
//! still capped at `MAX_INSTRUMENTED_CODE_BYTES`, above that worst case, so that no future change
//! to the rewrite can let an upload multiply the code the engine compiles.

use std::collections::BTreeSet;
use std::fmt;

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, Encode, ExportKind, ExportSection, GlobalSection, GlobalType,
    Instruction, Module, RawSection,
};
use wasmparser::{
    BinaryReaderError, CompositeInnerType, ExportSectionReader, ExternalKind, FuncToValidate,
    FuncValidatorAllocations, FunctionBody, ImportSectionReader, Operator, OperatorsReader, Parser, Payload,
    TypeRef, TypeSectionReader, ValType, ValidPayload, Validator, ValidatorResources, WasmFeatures,
};
use weft_types::abi;
use weft_types::limits::{MAX_CODE_BYTES, MAX_METHOD_NAME_BYTES, MAX_TX_GAS, wasm as lim};

use crate::gas::{CompileCosts, SCHEDULE};

/// Version of the instrumentation below: part of every compiled artifact's build id, so code
/// compiled under another instrumentation is rebuilt rather than loaded.
pub const INSTRUMENTATION_VERSION: u32 = 2;

/// Name of the injected, exported mutable i32 global holding the stack units in use.
pub const STACK_GLOBAL: &str = "__weft_stack";
/// Name of the injected, exported mutable i32 global set to 1 just before the instrumentation traps
/// because the stack budget is exhausted (so the host can tell this trap from a user `unreachable`).
pub const STACK_EXCEEDED_GLOBAL: &str = "__weft_stack_exceeded";

/// What contracts may use: WebAssembly 1.0 (the MVP plus mutable-global import/export), which is
/// what the `wasm32v1-none` target emits. Floats are allowed: the engine canonicalizes NaNs.
const FEATURES: WasmFeatures = WasmFeatures::WASM1;

/// A parser reading with exactly [`FEATURES`]. The default parser reads with every feature on,
/// and so accepts encodings the engine's reader refuses (a memory offset as a 64-bit LEB, the
/// multi-memory flag of a memory argument): validation would pass code that cannot compile.
fn parser() -> Parser {
    let mut parser = Parser::new(0);
    parser.set_features(FEATURES);
    parser
}

/// Operand-stack slots the instrumentation itself adds on top of a function's own maximum: the
/// entry check runs on an empty stack and the exit above the function's results, two slots each.
const INSTRUMENTATION_HEIGHT: u32 = 2;

/// A contract module that passed every deploy-time check, with its stack instrumentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedCode {
    /// The instrumented module, ready for wasmtime.
    pub code: Vec<u8>,
    /// Callable methods: exported functions of type () -> () that are not `abi::CONSTRUCTOR` or
    /// `abi::MIGRATE` and do not start with `abi::RESERVED_PREFIX`, sorted.
    pub methods: Vec<String>,
    /// Whether the module exports `abi::CONSTRUCTOR` ("init") as a () -> () function.
    pub has_constructor: bool,
    /// Whether the module exports `abi::MIGRATE` ("migrate") as a () -> () function.
    pub has_migrate: bool,
    /// Whether the module exports `abi::REENTRANT_MARKER` (opt-in to reentrant calls).
    pub reentrant: bool,
    /// Upper bound of the stack cost of any single frame of this module (`FRAME_BASE_COST + params +
    /// declared locals + max(max operand stack height, results) + 2` of its costliest defined
    /// function, 0 if it defines none); the host refuses to enter an export when the units in use
    /// plus this would exceed `MAX_STACK_UNITS` (the export itself counts its exact cost on entry).
    pub max_frame_cost: u32,
    /// Gas compiling this module costs: `SCHEDULE.compile`'s terms summed over its defined
    /// functions, their locals and every operator of their bodies (see [`op_weight`]). A function
    /// of the original code only, computed by the validation pass, so it is known before anything
    /// is compiled and is the same on every machine.
    pub compile_weight: u64,
}

/// Why a contract module was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// The code is larger than `MAX_CODE_BYTES`.
    #[error("code is {len} bytes, over MAX_CODE_BYTES ({max})")]
    TooLarge {
        /// Size of the code.
        len: usize,
        /// `MAX_CODE_BYTES`.
        max: usize,
    },
    /// The bytes do not start with the header of a core WebAssembly module.
    #[error("not a WebAssembly module (bad magic number or version)")]
    NotWasm,
    /// The module is malformed or invalid; wasmparser's message, with the offset.
    #[error("invalid module: {0}")]
    Malformed(String),
    /// The module uses a WebAssembly feature or proposal outside WebAssembly 1.0 + mutable globals.
    #[error("unsupported WebAssembly feature: {0}")]
    Unsupported(String),
    /// The module breaks one of `weft_types::limits::wasm` (or `MAX_METHOD_NAME_BYTES`).
    #[error("module has {found} {}, over {limit} ({max})", limit_noun(limit))]
    LimitExceeded {
        /// Name of the limit constant, e.g. `"MAX_FUNCTIONS"`.
        limit: &'static str,
        /// The value found in the module (for a running count: the first value over the limit).
        found: u64,
        /// The limit's value.
        max: u64,
    },
    /// The module has a start function; contracts may not run code at instantiation.
    #[error("module has a start function, which contracts may not have")]
    StartFunction,
    /// An import that is not a host function of `abi::IMPORT_MODULE`.
    #[error("import `{module}`.`{name}` is not a Weft host function")]
    UnknownImport {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
    },
    /// A host function imported with another signature than `abi::HOST_FUNCTIONS` gives it.
    #[error("host function `{name}` imported as {found}, expected {expected}")]
    ImportSignature {
        /// Host function name.
        name: String,
        /// The ABI's signature, e.g. `(i32, i32) -> ()`.
        expected: String,
        /// The module's signature.
        found: String,
    },
    /// An imported memory, table, global or tag: only functions may be imported.
    #[error("import `{module}`.`{name}` is not a function; only host functions may be imported")]
    ImportKind {
        /// Import module.
        module: String,
        /// Import name.
        name: String,
    },
    /// A host function imported twice.
    #[error("host function `{name}` is imported more than once")]
    DuplicateImport {
        /// Host function name.
        name: String,
    },
    /// No memory exported as `abi::MEMORY_EXPORT`.
    #[error("module does not export its memory as `memory`")]
    MissingMemory,
    /// An exported function whose type is not () -> ().
    #[error("exported function `{name}` has type {found}; exported functions must be () -> ()")]
    ExportSignature {
        /// Export name.
        name: String,
        /// The function's signature.
        found: String,
    },
    /// An export that re-exports an imported (host) function.
    #[error("export `{name}` re-exports an imported function")]
    ExportedImport {
        /// Export name.
        name: String,
    },
    /// An export starting with `abi::RESERVED_PREFIX` other than the function `abi::REENTRANT_MARKER`.
    #[error("export `{name}` uses the reserved prefix `__weft`")]
    ReservedExport {
        /// Export name.
        name: String,
    },
    /// The instrumentation could not re-encode a part of the (already validated) module.
    #[error("internal error while instrumenting the module: {0}")]
    Internal(String),
}

/// What a limit counts, for [`CodeError::LimitExceeded`]'s message.
fn limit_noun(limit: &str) -> &'static str {
    match limit {
        "MAX_FUNCTIONS" => "functions",
        "MAX_TYPES" => "types",
        "MAX_PARAMS" => "parameters in one function type",
        "MAX_RESULTS" => "results in one function type",
        "MAX_LOCALS" => "locals (parameters included) in one function",
        "MAX_FUNCTION_BODY_BYTES" => "bytes in one function body",
        "MAX_GLOBALS" => "globals",
        "MAX_TABLE_ELEMENTS" => "table elements",
        "MAX_MEMORY_PAGES" => "memory pages",
        "MAX_NESTING_DEPTH" => "nested blocks in one function",
        "MAX_BR_TABLE_TARGETS" => "targets in one br_table",
        "MAX_EXPORTS" => "exports",
        "MAX_DATA_SEGMENTS" => "data segments",
        "MAX_ELEMENT_SEGMENTS" => "element segments",
        "MAX_METHOD_NAME_BYTES" => "bytes in one exported function name",
        "MAX_INSTRUMENTED_CODE_BYTES" => "bytes of instrumented code",
        "MAX_TX_GAS" => "gas of upload (per byte and compile weight, `SCHEDULE.upload`)",
        _ => "items",
    }
}

/// `Err(LimitExceeded)` when `found > max`.
fn check_limit(limit: &'static str, found: impl Into<u64>, max: impl Into<u64>) -> Result<(), CodeError> {
    let (found, max) = (found.into(), max.into());
    if found > max { Err(CodeError::LimitExceeded { limit, found, max }) } else { Ok(()) }
}

/// Converts a `usize` count to `u64` for [`check_limit`] (saturating; never reached on 64-bit).
fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Maps a wasmparser error to `Unsupported` when it is about a disabled feature, else `Malformed`.
fn wasm_error(e: BinaryReaderError) -> CodeError {
    const FEATURE_HINTS: &[&str] =
        &["not enabled", "must be enabled", "proposal", "feature", "multiple memories", "multiple tables"];
    let message = e.to_string();
    if FEATURE_HINTS.iter().any(|hint| e.message().contains(hint)) {
        CodeError::Unsupported(message)
    } else {
        CodeError::Malformed(message)
    }
}

/// A function signature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Sig {
    params: Vec<ValType>,
    results: Vec<ValType>,
}

impl Sig {
    fn host(f: &abi::HostFn) -> Sig {
        let conv = |t: &abi::ValType| match t {
            abi::ValType::I32 => ValType::I32,
            abi::ValType::I64 => ValType::I64,
        };
        Sig { params: f.params.iter().map(conv).collect(), results: f.results.iter().map(conv).collect() }
    }
}

impl fmt::Display for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |types: &[ValType]| types.iter().map(ValType::to_string).collect::<Vec<_>>().join(", ");
        write!(f, "({}) -> ({})", list(&self.params), list(&self.results))
    }
}

/// What the first pass learns about a module.
#[derive(Default)]
struct Analysis {
    /// Every entry of the type section.
    types: Vec<Sig>,
    /// Type index of every function, imported ones first.
    func_types: Vec<u32>,
    /// Imported (host) functions; they come first in the function index space.
    imported_funcs: u32,
    /// Names of the imported host functions.
    imported_names: BTreeSet<&'static str>,
    /// Stack cost of each defined function.
    costs: Vec<u32>,
    /// The compile weight of the functions validated so far.
    compile_weight: u64,
    /// Globals defined by the module (none may be imported).
    globals: u32,
    methods: Vec<String>,
    has_constructor: bool,
    has_migrate: bool,
    reentrant: bool,
    has_memory: bool,
}

/// Validates `wasm` against the protocol's features, limits and host ABI, and instruments it for the
/// deterministic stack.
pub fn prepare(wasm: &[u8]) -> Result<PreparedCode, CodeError> {
    let prepared = prepare_at_any_price(wasm)?;
    // Code whose upload no transaction could pay for is refused as such, saying why, rather
    // than running out of gas.
    check_limit("MAX_TX_GAS", SCHEDULE.upload(wasm.len(), prepared.compile_weight), MAX_TX_GAS)?;
    Ok(prepared)
}

/// [`prepare`] without the bound on what uploading the code costs.
pub(crate) fn prepare_at_any_price(wasm: &[u8]) -> Result<PreparedCode, CodeError> {
    if wasm.len() > MAX_CODE_BYTES {
        return Err(CodeError::TooLarge { len: wasm.len(), max: MAX_CODE_BYTES });
    }
    if !Parser::is_core_wasm(wasm) {
        return Err(if Parser::is_component(wasm) {
            CodeError::Unsupported("component model: a component, not a core module".into())
        } else {
            CodeError::NotWasm
        });
    }
    let mut analysis = analyze(wasm)?;
    analysis.methods.sort();
    let code = instrument(wasm, &analysis)?;
    Ok(PreparedCode {
        code,
        max_frame_cost: analysis.costs.iter().copied().max().unwrap_or(0),
        compile_weight: analysis.compile_weight.saturating_add(SCHEDULE.compile.module),
        methods: analysis.methods,
        has_constructor: analysis.has_constructor,
        has_migrate: analysis.has_migrate,
        reentrant: analysis.reentrant,
    })
}

/// First pass: every check, full validation, and the stack cost of each defined function.
fn analyze(wasm: &[u8]) -> Result<Analysis, CodeError> {
    let mut a = Analysis::default();
    let mut validator = Validator::new_with_features(FEATURES);
    let mut allocs = FuncValidatorAllocations::default();
    for payload in parser().parse_all(wasm) {
        let payload = payload.map_err(wasm_error)?;
        // Cheap checks on counts and sizes, before anything reads the section's items.
        match &payload {
            Payload::TypeSection(s) => {
                check_limit("MAX_TYPES", s.count(), lim::MAX_TYPES)?;
                a.read_types(s.clone())?;
            }
            Payload::FunctionSection(s) => check_limit("MAX_FUNCTIONS", s.count(), lim::MAX_FUNCTIONS)?,
            Payload::GlobalSection(s) => {
                check_limit("MAX_GLOBALS", s.count(), lim::MAX_GLOBALS)?;
                a.globals = s.count();
            }
            Payload::ExportSection(s) => check_limit("MAX_EXPORTS", s.count(), lim::MAX_EXPORTS)?,
            Payload::StartSection { .. } => return Err(CodeError::StartFunction),
            Payload::ElementSection(s) => {
                check_limit("MAX_ELEMENT_SEGMENTS", s.count(), lim::MAX_ELEMENT_SEGMENTS)?
            }
            Payload::DataSection(s) => check_limit("MAX_DATA_SEGMENTS", s.count(), lim::MAX_DATA_SEGMENTS)?,
            Payload::CodeSectionStart { count, .. } => {
                check_limit("MAX_FUNCTIONS", *count, lim::MAX_FUNCTIONS)?
            }
            Payload::CodeSectionEntry(body) => check_limit(
                "MAX_FUNCTION_BODY_BYTES",
                count(body.range().len()),
                lim::MAX_FUNCTION_BODY_BYTES,
            )?,
            _ => {}
        }
        if let ValidPayload::Func(func, body) = validator.payload(&payload).map_err(wasm_error)? {
            let (cost, weight) = a.check_body(func, &body, &mut allocs)?;
            a.costs.push(cost);
            a.compile_weight = a.compile_weight.saturating_add(weight);
        }
        // Checks that need the validator's guarantees (valid indices, MVP-only constructs).
        match payload {
            Payload::ImportSection(s) => a.read_imports(s)?,
            Payload::FunctionSection(s) => {
                for ty in s {
                    a.func_types.push(ty.map_err(wasm_error)?);
                }
            }
            Payload::TableSection(s) => {
                for table in s {
                    let ty = table.map_err(wasm_error)?.ty;
                    check_size("MAX_TABLE_ELEMENTS", ty.initial, ty.maximum, lim::MAX_TABLE_ELEMENTS)?;
                }
            }
            Payload::MemorySection(s) => {
                for memory in s {
                    let ty = memory.map_err(wasm_error)?;
                    check_size("MAX_MEMORY_PAGES", ty.initial, ty.maximum, lim::MAX_MEMORY_PAGES)?;
                }
            }
            Payload::ExportSection(s) => a.read_exports(s)?,
            _ => {}
        }
    }
    if !a.has_memory {
        return Err(CodeError::MissingMemory);
    }
    Ok(a)
}

/// Checks the initial and the declared maximum size of a table or memory.
fn check_size(limit: &'static str, initial: u64, maximum: Option<u64>, max: u64) -> Result<(), CodeError> {
    check_limit(limit, initial, max)?;
    maximum.map_or(Ok(()), |m| check_limit(limit, m, max))
}

impl Analysis {
    fn read_types(&mut self, section: TypeSectionReader<'_>) -> Result<(), CodeError> {
        for group in section {
            for sub in group.map_err(wasm_error)?.types() {
                // Anything but a plain function type is refused by the validator right after.
                let sig = match &sub.composite_type.inner {
                    CompositeInnerType::Func(f) => {
                        check_limit("MAX_PARAMS", count(f.params().len()), lim::MAX_PARAMS)?;
                        check_limit("MAX_RESULTS", count(f.results().len()), lim::MAX_RESULTS)?;
                        Sig { params: f.params().to_vec(), results: f.results().to_vec() }
                    }
                    _ => Sig::default(),
                };
                self.types.push(sig);
            }
        }
        Ok(())
    }

    /// The signature of function `index` (valid once the validator accepted its use).
    fn func_sig(&self, index: u32) -> Sig {
        let ty = self.func_types.get(index as usize);
        ty.and_then(|&t| self.types.get(t as usize)).cloned().unwrap_or_default()
    }

    fn read_imports(&mut self, section: ImportSectionReader<'_>) -> Result<(), CodeError> {
        for import in section.into_imports() {
            let import = import.map_err(wasm_error)?;
            let (module, name) = (import.module.to_string(), import.name.to_string());
            let TypeRef::Func(ty) = import.ty else {
                return Err(CodeError::ImportKind { module, name });
            };
            let host = abi::host_fn(import.name).filter(|_| import.module == abi::IMPORT_MODULE);
            let Some(host) = host else {
                return Err(CodeError::UnknownImport { module, name });
            };
            let (expected, found) =
                (Sig::host(host), self.types.get(ty as usize).cloned().unwrap_or_default());
            if expected != found {
                return Err(CodeError::ImportSignature {
                    name,
                    expected: expected.to_string(),
                    found: found.to_string(),
                });
            }
            if !self.imported_names.insert(host.name) {
                return Err(CodeError::DuplicateImport { name });
            }
            self.func_types.push(ty);
            self.imported_funcs = self.imported_funcs.saturating_add(1);
        }
        Ok(())
    }

    fn read_exports(&mut self, section: ExportSectionReader<'_>) -> Result<(), CodeError> {
        for export in section {
            let export = export.map_err(wasm_error)?;
            let name = export.name;
            let reserved = name.starts_with(abi::RESERVED_PREFIX);
            match export.kind {
                ExternalKind::Func => {
                    if reserved && name != abi::REENTRANT_MARKER {
                        return Err(CodeError::ReservedExport { name: name.into() });
                    }
                    if export.index < self.imported_funcs {
                        return Err(CodeError::ExportedImport { name: name.into() });
                    }
                    let sig = self.func_sig(export.index);
                    if sig != Sig::default() {
                        return Err(CodeError::ExportSignature { name: name.into(), found: sig.to_string() });
                    }
                    check_limit("MAX_METHOD_NAME_BYTES", count(name.len()), count(MAX_METHOD_NAME_BYTES))?;
                    match name {
                        abi::REENTRANT_MARKER => self.reentrant = true,
                        abi::CONSTRUCTOR => self.has_constructor = true,
                        abi::MIGRATE => self.has_migrate = true,
                        _ => self.methods.push(name.into()),
                    }
                }
                _ if reserved => return Err(CodeError::ReservedExport { name: name.into() }),
                ExternalKind::Memory if name == abi::MEMORY_EXPORT => self.has_memory = true,
                _ => {}
            }
        }
        Ok(())
    }

    /// Validates one function body, enforcing the per-function limits, and returns its stack cost
    /// and compile weight.
    fn check_body(
        &self,
        func: FuncToValidate<ValidatorResources>,
        body: &FunctionBody<'_>,
        allocs: &mut FuncValidatorAllocations,
    ) -> Result<(u32, u64), CodeError> {
        let costs = &SCHEDULE.compile;
        let mut validator = func.into_validator(std::mem::take(allocs));
        let sig = self.func_sig(validator.index());
        let mut locals = count(sig.params.len());
        let mut reader = body.get_locals_reader().map_err(wasm_error)?;
        for _ in 0..reader.get_count() {
            let offset = reader.original_position();
            let (n, ty) = reader.read().map_err(wasm_error)?;
            // One entry may declare up to 2^32 - 1 locals: check before the validator sees them.
            locals = locals.saturating_add(u64::from(n));
            check_limit("MAX_LOCALS", locals, lim::MAX_LOCALS)?;
            validator.define_locals(offset, n, ty).map_err(wasm_error)?;
        }
        let mut weight = costs.function.saturating_add(costs.local.saturating_mul(locals));
        let mut ops = OperatorsReader::new(reader.get_binary_reader());
        let mut max_height = 0;
        while !ops.eof() {
            let (op, offset) = ops.read_with_offset().map_err(wasm_error)?;
            weight = weight.saturating_add(op_weight(&op, costs));
            if let Operator::BrTable { targets } = &op {
                check_limit("MAX_BR_TABLE_TARGETS", targets.len(), lim::MAX_BR_TABLE_TARGETS)?;
            }
            validator.op(offset, &op).map_err(wasm_error)?;
            max_height = max_height.max(validator.operand_stack_height());
            // The function's own frame is not a nesting level.
            let depth = validator.control_stack_height().saturating_sub(1);
            check_limit("MAX_NESTING_DEPTH", depth, lim::MAX_NESTING_DEPTH)?;
        }
        ops.finish().map_err(wasm_error)?;
        *allocs = validator.into_allocations();
        // `locals` is at most MAX_LOCALS here and the results at most MAX_RESULTS.
        let locals = u32::try_from(locals).unwrap_or(u32::MAX);
        // The exit sequence runs above the results, which a body may never have measured on its
        // stack (one that ends in `unreachable`), so they bound the height too.
        let results = u32::try_from(sig.results.len()).unwrap_or(u32::MAX);
        let cost = lim::FRAME_BASE_COST
            .saturating_add(locals)
            .saturating_add(max_height.max(results))
            .saturating_add(INSTRUMENTATION_HEIGHT);
        Ok((cost, function_weight(weight, costs)))
    }
}

/// What compiling a function whose linear terms sum to `w` costs: `w + w² / superlinear`.
pub fn function_weight(w: u64, c: &CompileCosts) -> u64 {
    let square = u128::from(w) * u128::from(w) / u128::from(c.superlinear.max(1));
    w.saturating_add(u64::try_from(square).unwrap_or(u64::MAX))
}

/// What compiling `op` costs (see [`CompileCosts`]). Every operator WebAssembly 1.0 has is in
/// one class; the validator has refused any other by the time a weight is used.
pub fn op_weight(op: &Operator<'_>, c: &CompileCosts) -> u64 {
    use Operator as O;
    match op {
        O::Call { .. } => c.call,
        O::CallIndirect { .. } => c.call_indirect,
        O::BrTable { targets } => {
            c.br_table.saturating_add(c.br_table_target.saturating_mul(u64::from(targets.len())))
        }
        O::If { .. } | O::Loop { .. } | O::Br { .. } | O::BrIf { .. } | O::Return => c.branch,
        O::Block { .. } | O::Else | O::End | O::Unreachable => c.block,
        O::I32Load { .. }
        | O::I64Load { .. }
        | O::F32Load { .. }
        | O::F64Load { .. }
        | O::I32Load8S { .. }
        | O::I32Load8U { .. }
        | O::I32Load16S { .. }
        | O::I32Load16U { .. }
        | O::I64Load8S { .. }
        | O::I64Load8U { .. }
        | O::I64Load16S { .. }
        | O::I64Load16U { .. }
        | O::I64Load32S { .. }
        | O::I64Load32U { .. }
        | O::I32Store { .. }
        | O::I64Store { .. }
        | O::F32Store { .. }
        | O::F64Store { .. }
        | O::I32Store8 { .. }
        | O::I32Store16 { .. }
        | O::I64Store8 { .. }
        | O::I64Store16 { .. }
        | O::I64Store32 { .. } => c.memory,
        O::MemoryGrow { .. } | O::MemorySize { .. } => c.memory_grow,
        O::GlobalGet { .. } | O::GlobalSet { .. } => c.global,
        O::Nop
        | O::Drop
        | O::LocalGet { .. }
        | O::LocalSet { .. }
        | O::LocalTee { .. }
        | O::I32Const { .. }
        | O::I64Const { .. } => c.plain,
        O::I32DivS
        | O::I32DivU
        | O::I32RemS
        | O::I32RemU
        | O::I64DivS
        | O::I64DivU
        | O::I64RemS
        | O::I64RemU => c.div,
        O::I32TruncF32S
        | O::I32TruncF32U
        | O::I32TruncF64S
        | O::I32TruncF64U
        | O::I64TruncF32S
        | O::I64TruncF32U
        | O::I64TruncF64S
        | O::I64TruncF64U
        | O::F32ConvertI64U
        | O::F64ConvertI64U => c.float_conv,
        O::F32Const { .. }
        | O::F64Const { .. }
        | O::F32Eq
        | O::F32Ne
        | O::F32Lt
        | O::F32Gt
        | O::F32Le
        | O::F32Ge
        | O::F64Eq
        | O::F64Ne
        | O::F64Lt
        | O::F64Gt
        | O::F64Le
        | O::F64Ge
        | O::F32Abs
        | O::F32Neg
        | O::F32Ceil
        | O::F32Floor
        | O::F32Trunc
        | O::F32Nearest
        | O::F32Sqrt
        | O::F32Add
        | O::F32Sub
        | O::F32Mul
        | O::F32Div
        | O::F32Min
        | O::F32Max
        | O::F32Copysign
        | O::F64Abs
        | O::F64Neg
        | O::F64Ceil
        | O::F64Floor
        | O::F64Trunc
        | O::F64Nearest
        | O::F64Sqrt
        | O::F64Add
        | O::F64Sub
        | O::F64Mul
        | O::F64Div
        | O::F64Min
        | O::F64Max
        | O::F64Copysign
        | O::F32ConvertI32S
        | O::F32ConvertI32U
        | O::F32ConvertI64S
        | O::F32DemoteF64
        | O::F64ConvertI32S
        | O::F64ConvertI32U
        | O::F64ConvertI64S
        | O::F64PromoteF32
        | O::I32ReinterpretF32
        | O::I64ReinterpretF64
        | O::F32ReinterpretI32
        | O::F64ReinterpretI64 => c.float,
        _ => c.op,
    }
}

/// Second pass: copies the module, adding the stack globals and their exports and instrumenting
/// every function body; refuses the result if it exceeds `MAX_INSTRUMENTED_CODE_BYTES`.
fn instrument(wasm: &[u8], a: &Analysis) -> Result<Vec<u8>, CodeError> {
    let internal = |e: wasm_encoder::reencode::Error| CodeError::Internal(e.to_string());
    let stack = a.globals;
    let exceeded = stack.checked_add(1).ok_or_else(|| CodeError::Internal("global index".into()))?;
    let mut module = Module::new();
    let (mut globals_done, mut exports_done) = (false, false);
    let mut code: Option<(CodeSection, u32)> = None;
    // Index of the next body among the defined functions.
    let mut defined = 0u32;
    for payload in parser().parse_all(wasm) {
        match payload.map_err(wasm_error)? {
            Payload::GlobalSection(s) => {
                let mut globals = GlobalSection::new();
                RoundtripReencoder.parse_global_section(&mut globals, s).map_err(internal)?;
                add_stack_globals(&mut globals);
                module.section(&globals);
                globals_done = true;
            }
            Payload::ExportSection(s) => {
                // Sections are ordered: globals come before exports, which every contract has.
                if !globals_done {
                    let mut globals = GlobalSection::new();
                    add_stack_globals(&mut globals);
                    module.section(&globals);
                    globals_done = true;
                }
                let mut exports = ExportSection::new();
                RoundtripReencoder.parse_export_section(&mut exports, s).map_err(internal)?;
                exports.export(STACK_GLOBAL, ExportKind::Global, stack);
                exports.export(STACK_EXCEEDED_GLOBAL, ExportKind::Global, exceeded);
                module.section(&exports);
                exports_done = true;
            }
            Payload::CodeSectionStart { count: 0, .. } => {
                module.section(&CodeSection::new());
            }
            Payload::CodeSectionStart { count, .. } => code = Some((CodeSection::new(), count)),
            Payload::CodeSectionEntry(body) => {
                let Some((section, left)) = code.as_mut() else {
                    return Err(CodeError::Internal("function body outside the code section".into()));
                };
                let cost = a.costs.get(defined as usize).copied();
                let results = a.func_sig(a.imported_funcs.saturating_add(defined)).results;
                let (Some(cost), Some(results)) = (cost, block_type(&results)) else {
                    return Err(CodeError::Internal("function body without an analysed function".into()));
                };
                let frame = FrameAccounting { stack, exceeded, cost, results };
                section.raw(&instrument_body(wasm, &body, &frame)?);
                defined = defined.saturating_add(1);
                *left = left.saturating_sub(1);
                if *left == 0 {
                    module.section(&*section);
                    code = None;
                }
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    let data = wasm.get(range).ok_or_else(|| CodeError::Internal("section range".into()))?;
                    module.section(&RawSection { id, data });
                }
            }
        }
    }
    if !exports_done || code.is_some() {
        return Err(CodeError::Internal("export or code section not written".into()));
    }
    let out = module.finish();
    check_instrumented_size(out.len())?;
    Ok(out)
}

/// `Err(LimitExceeded)` when instrumented code of `len` bytes is over `MAX_INSTRUMENTED_CODE_BYTES`.
fn check_instrumented_size(len: usize) -> Result<(), CodeError> {
    check_limit("MAX_INSTRUMENTED_CODE_BYTES", count(len), count(lim::MAX_INSTRUMENTED_CODE_BYTES))
}

/// Appends the two stack globals, mutable i32s initialised to 0.
fn add_stack_globals(globals: &mut GlobalSection) {
    let ty = GlobalType { val_type: wasm_encoder::ValType::I32, mutable: true, shared: false };
    globals.global(ty, &ConstExpr::i32_const(0));
    globals.global(ty, &ConstExpr::i32_const(0));
}

/// The block type that carries a function's results (WebAssembly 1.0: at most one).
fn block_type(results: &[ValType]) -> Option<BlockType> {
    match results {
        [] => Some(BlockType::Empty),
        [ty] => RoundtripReencoder.val_type(*ty).map(BlockType::Result).ok(),
        _ => None,
    }
}

/// What the entry and exit of one function body need.
struct FrameAccounting {
    /// Index of [`STACK_GLOBAL`].
    stack: u32,
    /// Index of [`STACK_EXCEEDED_GLOBAL`].
    exceeded: u32,
    /// The function's stack cost, as [`Analysis::check_body`] computed it.
    cost: u32,
    /// The block type of the function's results.
    results: BlockType,
}

/// Copies one function body with its frame accounting (see the module docs): the entry check and
/// a block around the original code, each `return` rewritten to a `br` to that block, and the
/// release of the frame's units after it. Everything else is copied byte for byte.
fn instrument_body(
    wasm: &[u8],
    body: &FunctionBody<'_>,
    frame: &FrameAccounting,
) -> Result<Vec<u8>, CodeError> {
    let slice = |from: usize, to: usize| {
        wasm.get(from..to).ok_or_else(|| CodeError::Internal("function body range".into()))
    };
    // Costs and the budget are far below 2^31 (a cost is bounded by the body's size).
    let cost = i32::try_from(frame.cost).unwrap_or(i32::MAX);
    let budget = i32::try_from(lim::MAX_STACK_UNITS).unwrap_or(i32::MAX);
    let (stack, exceeded) = (frame.stack, frame.exceeded);
    let range = body.range();
    let mut out = Vec::with_capacity(range.len().saturating_add(64));
    let mut reader = body.get_locals_reader().map_err(wasm_error)?;
    for _ in 0..reader.get_count() {
        reader.read().map_err(wasm_error)?;
    }
    let code_start = reader.original_position();
    // The locals declarations, unchanged.
    out.extend_from_slice(slice(range.start, code_start)?);
    for i in [
        Instruction::GlobalGet(stack),
        Instruction::I32Const(cost),
        Instruction::I32Add,
        Instruction::GlobalSet(stack),
        Instruction::GlobalGet(stack),
        Instruction::I32Const(budget),
        Instruction::I32GtU,
        Instruction::If(BlockType::Empty),
        Instruction::I32Const(1),
        Instruction::GlobalSet(exceeded),
        Instruction::Unreachable,
        Instruction::End,
        Instruction::Block(frame.results),
    ] {
        i.encode(&mut out);
    }
    let mut copied = code_start;
    // Blocks, loops and ifs open around the current instruction, inside the added block: the
    // relative depth of that block from here.
    let mut depth = 0u32;
    let mut ops = OperatorsReader::new(reader.get_binary_reader());
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset().map_err(wasm_error)?;
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                depth = depth.saturating_add(1);
            }
            // The function's final `end` (at depth 0) now closes the added block.
            Operator::End => depth = depth.saturating_sub(1),
            Operator::Return => {
                out.extend_from_slice(slice(copied, offset)?);
                Instruction::Br(depth).encode(&mut out);
                copied = ops.original_position();
            }
            _ => {}
        }
    }
    out.extend_from_slice(slice(copied, range.end)?);
    for i in [
        Instruction::GlobalGet(stack),
        Instruction::I32Const(cost),
        Instruction::I32Sub,
        Instruction::GlobalSet(stack),
        Instruction::End,
    ] {
        i.encode(&mut out);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
