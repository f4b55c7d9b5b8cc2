//! Tests of deploy-time validation and stack instrumentation.

use std::borrow::Cow;
use std::time::Instant;

use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, ElementSection, Elements, EntityType, ExportKind, ExportSection,
    Function, FunctionSection, GlobalSection, GlobalType, ImportSection, Instruction, MemorySection,
    MemoryType, Module, RefType, StartSection, TableSection, TableType, TypeSection, ValType as E,
};
use wasmparser::{Operator, Parser, Payload, Validator, WasmFeatures};
use weft_types::limits::{MAX_CODE_BYTES, MAX_METHOD_NAME_BYTES, wasm as lim};

use super::*;

/// Builds test modules section by section.
#[derive(Default)]
struct Mb {
    types: TypeSection,
    imports: ImportSection,
    funcs: FunctionSection,
    tables: TableSection,
    memories: MemorySection,
    globals: GlobalSection,
    exports: ExportSection,
    start: Option<u32>,
    elements: ElementSection,
    code: CodeSection,
    data: DataSection,
    imported: u32,
}

fn memory(minimum: u64, maximum: Option<u64>) -> MemoryType {
    MemoryType { minimum, maximum, memory64: false, shared: false, page_size_log2: None }
}

fn table(minimum: u64, maximum: Option<u64>) -> TableType {
    TableType { element_type: RefType::FUNCREF, table64: false, minimum, maximum, shared: false }
}

fn mut_i32() -> GlobalType {
    GlobalType { val_type: E::I32, mutable: true, shared: false }
}

/// A body of the given instructions (an `end` is appended).
fn body(locals: &[(u32, E)], insts: &[Instruction<'_>]) -> Function {
    let mut f = Function::new(locals.iter().copied());
    for i in insts {
        f.instruction(i);
    }
    f.instruction(&Instruction::End);
    f
}

impl Mb {
    /// Type 0 is () -> (); one page of memory is exported as "memory".
    fn new() -> Mb {
        let mut m = Mb::bare();
        m.types.ty().function([], []);
        m.memories.memory(memory(1, None));
        m.exports.export("memory", ExportKind::Memory, 0);
        m
    }

    /// No section at all.
    fn bare() -> Mb {
        Mb::default()
    }

    fn import(&mut self, name: &str, ty: u32) -> u32 {
        self.imports.import("weft", name, EntityType::Function(ty));
        self.imported += 1;
        self.imported - 1
    }

    /// Adds a function of type `ty`; returns its index.
    fn func(&mut self, ty: u32, f: &Function) -> u32 {
        self.funcs.function(ty);
        self.code.function(f);
        self.imported + self.funcs.len() - 1
    }

    fn finish(&self) -> Vec<u8> {
        let mut m = Module::new();
        if !self.types.is_empty() {
            m.section(&self.types);
        }
        if !self.imports.is_empty() {
            m.section(&self.imports);
        }
        if !self.funcs.is_empty() {
            m.section(&self.funcs);
        }
        if !self.tables.is_empty() {
            m.section(&self.tables);
        }
        if !self.memories.is_empty() {
            m.section(&self.memories);
        }
        if !self.globals.is_empty() {
            m.section(&self.globals);
        }
        if !self.exports.is_empty() {
            m.section(&self.exports);
        }
        if let Some(function_index) = self.start {
            m.section(&StartSection { function_index });
        }
        if !self.elements.is_empty() {
            m.section(&self.elements);
        }
        if !self.code.is_empty() {
            m.section(&self.code);
        }
        if !self.data.is_empty() {
            m.section(&self.data);
        }
        m.finish()
    }
}

fn wat(src: &str) -> Vec<u8> {
    wat::parse_str(src).unwrap()
}

/// Prepares `wasm`, which must be refused, and reports how long the refusal took.
fn refuse(wasm: &[u8]) -> CodeError {
    let start = Instant::now();
    let err = prepare(wasm).unwrap_err();
    eprintln!("refused in {:?}: {err}", start.elapsed());
    err
}

/// `wasm` must be refused for `limit`, having `found`, and the message must say so.
fn assert_limit(wasm: &[u8], limit: &str, found: u64) {
    let err = refuse(wasm);
    let CodeError::LimitExceeded { limit: l, found: f, max } = err else {
        panic!("expected {limit} exceeded, got {err:?}");
    };
    assert_eq!((l, f), (limit, found), "{err}");
    let msg = err.to_string();
    for part in [limit.to_string(), found.to_string(), max.to_string()] {
        assert!(msg.contains(&part), "`{msg}` does not mention {part}");
    }
}

fn assert_prepares(wasm: &[u8]) -> PreparedCode {
    let prepared = prepare_at_any_price(wasm).unwrap_or_else(|e| panic!("refused: {e}"));
    Validator::new_with_features(WasmFeatures::WASM1).validate_all(&prepared.code).unwrap();
    prepared
}

fn assert_unsupported(src: &str) {
    match refuse(&wat(src)) {
        CodeError::Unsupported(_) => {}
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

const CONTRACT: &str = r#"
(module
  (type $unit (func))
  (import "weft" "input_len" (func $input_len (result i32)))
  (import "weft" "set_return" (func $set_return (param i32 i32)))
  (memory (export "memory") 1 16)
  (global $counter (mut i32) (i32.const 7))
  (table 4 funcref)
  (elem (i32.const 0) $helper $b)
  (func $helper (param i32 i32) (result i32) (local i64)
    local.get 0
    local.get 1
    i32.add)
  (func $init (export "init")
    call $input_len
    drop)
  (func $b (export "b")
    i32.const 1
    i32.const 2
    call $helper
    drop)
  (func $a (export "a")
    i32.const 0
    call_indirect (type $unit))
  (func $floats (export "floats")
    f64.const 1.5
    f64.const 2.5
    f64.mul
    drop)
  (export "counter" (global $counter))
  (data (i32.const 16) "hello")
  (@custom "weft:abi" "{\"methods\":[\"a\",\"b\"]}")
)"#;

/// All operators of every function body of `wasm`, in order.
fn bodies(wasm: &[u8]) -> Vec<Vec<Operator<'_>>> {
    let mut out = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::CodeSectionEntry(body) = payload.unwrap() {
            out.push(body.get_operators_reader().unwrap().into_iter().map(Result::unwrap).collect());
        }
    }
    out
}

fn custom_sections(wasm: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::CustomSection(c) = payload.unwrap() {
            out.push((c.name().to_string(), c.data().to_vec()));
        }
    }
    out
}

fn exports(wasm: &[u8]) -> Vec<(String, wasmparser::ExternalKind, u32)> {
    let mut out = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::ExportSection(s) = payload.unwrap() {
            for e in s {
                let e = e.unwrap();
                out.push((e.name.to_string(), e.kind, e.index));
            }
        }
    }
    out
}

/// The entry of a function costing `cost`, up to its added block, with the stack global at index
/// `s` (and the exceeded flag at `s + 1`).
fn entry(s: u32, cost: i32, results: wasmparser::BlockType) -> Vec<Operator<'static>> {
    vec![
        Operator::GlobalGet { global_index: s },
        Operator::I32Const { value: cost },
        Operator::I32Add,
        Operator::GlobalSet { global_index: s },
        Operator::GlobalGet { global_index: s },
        Operator::I32Const { value: lim::MAX_STACK_UNITS as i32 },
        Operator::I32GtU,
        Operator::If { blockty: wasmparser::BlockType::Empty },
        Operator::I32Const { value: 1 },
        Operator::GlobalSet { global_index: s + 1 },
        Operator::Unreachable,
        Operator::End,
        Operator::Block { blockty: results },
    ]
}

/// The exit of a function costing `cost`, after its added block, with the function's `end`.
fn exit(s: u32, cost: i32) -> Vec<Operator<'static>> {
    vec![
        Operator::GlobalGet { global_index: s },
        Operator::I32Const { value: cost },
        Operator::I32Sub,
        Operator::GlobalSet { global_index: s },
        Operator::End,
    ]
}

/// `original` (ending with the function's `end`) between the entry and exit of a function.
fn framed(
    s: u32,
    cost: i32,
    results: wasmparser::BlockType,
    original: &[Operator<'static>],
) -> Vec<Operator<'static>> {
    [entry(s, cost, results), original.to_vec(), exit(s, cost)].concat()
}

#[test]
fn valid_contract_prepares() {
    let prepared = assert_prepares(&wat(CONTRACT));
    assert_eq!(prepare(&wat(CONTRACT)), Ok(prepared.clone()), "deterministic");
    assert_eq!(prepared.methods, ["a", "b", "floats"]);
    assert!(prepared.has_constructor);
    assert!(!prepared.reentrant);
    // $helper: 8 + 2 params + 1 local + height 2 + 2.
    assert_eq!(prepared.max_frame_cost, 15);
}

#[test]
fn reentrant_marker_sets_the_flag_and_is_not_a_method() {
    let prepared = assert_prepares(&wat(r#"(module
        (memory (export "memory") 1)
        (func (export "__weft_reentrant"))
        (func (export "run")))"#));
    assert!(prepared.reentrant);
    assert!(!prepared.has_constructor);
    assert_eq!(prepared.methods, ["run"]);
}

#[test]
fn instrumented_module_keeps_exports_and_custom_sections() {
    let wasm = wat(CONTRACT);
    let prepared = assert_prepares(&wasm);
    // Original exports first, unchanged, then the two stack globals after the one defined global.
    let mut expected = exports(&wasm);
    expected.push((STACK_GLOBAL.into(), wasmparser::ExternalKind::Global, 1));
    expected.push((STACK_EXCEEDED_GLOBAL.into(), wasmparser::ExternalKind::Global, 2));
    assert_eq!(exports(&prepared.code), expected);
    let custom = custom_sections(&prepared.code);
    assert_eq!(custom, custom_sections(&wasm));
    assert!(custom.iter().any(|(name, _)| name == "name"));
    assert!(custom.iter().any(|(name, data)| name == abi::ABI_SECTION && data.starts_with(b"{\"methods\"")));
    // The instrumented module cannot itself be deployed: its stack globals use the reserved prefix.
    assert_eq!(refuse(&prepared.code), CodeError::ReservedExport { name: STACK_GLOBAL.into() });
}

#[test]
fn functions_count_their_frame_on_entry_and_exit_and_calls_are_copied() {
    let prepared = assert_prepares(&wat(CONTRACT));
    let bodies = bodies(&prepared.code);
    let empty = wasmparser::BlockType::Empty;
    // $helper (cost 8 + 2 params + 1 local + height 2 + 2) keeps its result through the block.
    let helper = [
        Operator::LocalGet { local_index: 0 },
        Operator::LocalGet { local_index: 1 },
        Operator::I32Add,
        Operator::End,
    ];
    let i32_result = wasmparser::BlockType::Type(wasmparser::ValType::I32);
    assert_eq!(bodies[0], framed(1, 15, i32_result, &helper));
    // $init calls a host function: the call is copied as is.
    let init = [Operator::Call { function_index: 0 }, Operator::Drop, Operator::End];
    assert_eq!(bodies[1], framed(1, 11, empty, &init));
    // $b calls $helper (index 2): no accounting around the call, $helper counts itself.
    let b = [
        Operator::I32Const { value: 1 },
        Operator::I32Const { value: 2 },
        Operator::Call { function_index: 2 },
        Operator::Drop,
        Operator::End,
    ];
    assert_eq!(bodies[2], framed(1, 12, empty, &b));
    // $a's call_indirect is copied as is too.
    let a = &bodies[3];
    assert_eq!(a[..13], entry(1, 11, empty)[..]);
    assert_eq!(a[13], Operator::I32Const { value: 0 });
    assert!(matches!(a[14], Operator::CallIndirect { type_index: 0, .. }));
    assert_eq!(a[15..], [[Operator::End].as_slice(), &exit(1, 11)].concat()[..]);
}

#[test]
fn returns_become_branches_to_the_added_block() {
    let prepared = assert_prepares(&wat(r#"(module (memory (export "memory") 1)
        (func $f (param i32) (result i32)
          local.get 0
          if
            i32.const 1
            return
          end
          block
            loop
              i32.const 2
              return
            end
          end
          i32.const 3
          local.get 0
          br_if 0
          return)
        (func (export "run") i32.const 0 call $f drop))"#));
    let ops = &bodies(&prepared.code)[0];
    let i32_result = wasmparser::BlockType::Type(wasmparser::ValType::I32);
    // 8 + 1 param + height 2 + 2; `br_if 0` targets the function label and so the added block.
    let empty = wasmparser::BlockType::Empty;
    let original = [
        Operator::LocalGet { local_index: 0 },
        Operator::If { blockty: empty },
        Operator::I32Const { value: 1 },
        Operator::Br { relative_depth: 1 },
        Operator::End,
        Operator::Block { blockty: empty },
        Operator::Loop { blockty: empty },
        Operator::I32Const { value: 2 },
        Operator::Br { relative_depth: 2 },
        Operator::End,
        Operator::End,
        Operator::I32Const { value: 3 },
        Operator::LocalGet { local_index: 0 },
        Operator::BrIf { relative_depth: 0 },
        Operator::Br { relative_depth: 0 },
        Operator::End,
    ];
    assert_eq!(*ops, framed(0, 13, i32_result, &original));
}

#[test]
fn results_bound_the_frame_cost_of_a_body_that_never_pushes_them() {
    let prepared = assert_prepares(&wat(r#"(module (memory (export "memory") 1)
        (func (result i64) unreachable))"#));
    // 8 + max(height 0, 1 result) + 2.
    assert_eq!(prepared.max_frame_cost, 11);
}

#[test]
fn stack_globals_are_added_when_the_module_has_none() {
    let mut m = Mb::new();
    let f = m.func(0, &body(&[], &[]));
    m.func(0, &body(&[], &[Instruction::Call(f)]));
    m.exports.export("run", ExportKind::Func, 1);
    let prepared = assert_prepares(&m.finish());
    assert_eq!(prepared.max_frame_cost, lim::FRAME_BASE_COST + 2);
    let exports = exports(&prepared.code);
    assert!(exports.contains(&(STACK_GLOBAL.into(), wasmparser::ExternalKind::Global, 0)));
    assert!(exports.contains(&(STACK_EXCEEDED_GLOBAL.into(), wasmparser::ExternalKind::Global, 1)));
    assert_eq!(prepared.methods, ["run"]);
}

#[test]
fn module_without_functions_has_zero_frame_cost() {
    let prepared = assert_prepares(&Mb::new().finish());
    assert_eq!(prepared.max_frame_cost, 0);
    assert!(prepared.methods.is_empty());
}

// ---- growth of the instrumented code ----

/// Most bytes the instrumentation adds per function: entry check (28), block (2), exit and its
/// `end` (12), and one more byte of body size.
const PER_FUNCTION: usize = 43;
/// Most bytes it adds per module: the two globals and their exports, and longer section sizes.
const PER_MODULE: usize = 128;

/// The largest module of `build(n)` that fits `MAX_CODE_BYTES`, `build` growing with `n`.
fn largest(build: impl Fn(usize) -> Vec<u8>) -> Vec<u8> {
    let (mut lo, mut hi) = (0, MAX_CODE_BYTES);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if build(mid).len() <= MAX_CODE_BYTES { lo = mid } else { hi = mid - 1 }
    }
    build(lo)
}

/// Function 0 is empty; the next ones hold `n` instructions `inst` in all, at most `per_body`
/// each, inside `nesting` blocks; function 1 is exported as "run".
fn spread(n: usize, per_body: usize, nesting: usize, inst: &Instruction<'_>) -> Vec<u8> {
    let mut m = Mb::new();
    m.func(0, &body(&[], &[]));
    let mut left = n;
    while left > 0 {
        let k = left.min(per_body);
        left -= k;
        let mut insts = vec![Instruction::Block(wasm_encoder::BlockType::Empty); nesting];
        insts.extend(std::iter::repeat_n(inst.clone(), k));
        insts.extend(vec![Instruction::End; nesting]);
        m.func(0, &body(&[], &insts));
    }
    m.exports.export("run", ExportKind::Func, 1);
    m.finish()
}

fn functions_in(wasm: &[u8]) -> usize {
    bodies(wasm).len()
}

#[test]
fn a_module_of_only_calls_grows_by_a_constant_per_function() {
    // `call 0` is two bytes: 65,000 fill a body.
    let wasm = largest(|n| spread(n, 65_000, 0, &Instruction::Call(0)));
    assert!(wasm.len() > MAX_CODE_BYTES - 16, "{}", wasm.len());
    let prepared = assert_prepares(&wasm);
    let (len, out) = (wasm.len(), prepared.code.len());
    eprintln!("all calls: {len} -> {out} bytes ({:.4}x)", out as f64 / len as f64);
    assert!(out <= len + PER_FUNCTION * functions_in(&wasm) + PER_MODULE, "{len} -> {out}");
    assert!(out * 100 <= len * 101, "{len} -> {out}");
}

#[test]
fn returns_at_depth_at_least_128_are_the_worst_case_growth_3x() {
    // At depth 128 a `return` (1 byte) becomes `br 128` (3 bytes).
    let wasm = largest(|n| spread(n, 130_000, 128, &Instruction::Return));
    let prepared = assert_prepares(&wasm);
    let (len, out) = (wasm.len(), prepared.code.len());
    eprintln!("all returns: {len} -> {out} bytes ({:.4}x)", out as f64 / len as f64);
    assert!(out <= 3 * len + PER_FUNCTION * functions_in(&wasm) + PER_MODULE, "{len} -> {out}");
    assert!(out * 100 >= len * 295, "this is the worst case: {len} -> {out}");
}

#[test]
fn the_most_functions_grow_by_a_constant_each() {
    let wasm = functions(lim::MAX_FUNCTIONS);
    let prepared = assert_prepares(&wasm);
    let (len, out) = (wasm.len(), prepared.code.len());
    eprintln!("{} empty functions: {len} -> {out} bytes", lim::MAX_FUNCTIONS);
    assert!(out <= len + PER_FUNCTION * lim::MAX_FUNCTIONS as usize + PER_MODULE, "{len} -> {out}");
}

#[test]
fn instrumented_size_cap_is_above_the_worst_case_and_refuses_beyond() {
    // Each original byte becomes at most 3, plus the constants: a valid module never reaches the cap.
    let worst = 3 * MAX_CODE_BYTES + PER_FUNCTION * lim::MAX_FUNCTIONS as usize + PER_MODULE;
    assert!(worst < lim::MAX_INSTRUMENTED_CODE_BYTES, "{worst}");
    assert_eq!(check_instrumented_size(lim::MAX_INSTRUMENTED_CODE_BYTES), Ok(()));
    let over = lim::MAX_INSTRUMENTED_CODE_BYTES + 1;
    let err = check_instrumented_size(over).unwrap_err();
    assert_eq!(
        err,
        CodeError::LimitExceeded {
            limit: "MAX_INSTRUMENTED_CODE_BYTES",
            found: over as u64,
            max: lim::MAX_INSTRUMENTED_CODE_BYTES as u64,
        }
    );
    assert_eq!(
        err.to_string(),
        "module has 1048577 bytes of instrumented code, over MAX_INSTRUMENTED_CODE_BYTES (1048576)"
    );
}

// ---- size, header ----

#[test]
fn too_large_code_is_refused() {
    let mut wasm = Mb::new().finish();
    wasm.resize(MAX_CODE_BYTES + 1, 0);
    let err = refuse(&wasm);
    assert_eq!(err, CodeError::TooLarge { len: MAX_CODE_BYTES + 1, max: MAX_CODE_BYTES });
    assert!(err.to_string().contains("MAX_CODE_BYTES"));
}

#[test]
fn not_wasm_is_refused() {
    assert_eq!(refuse(b"hello, world"), CodeError::NotWasm);
    assert_eq!(refuse(b""), CodeError::NotWasm);
    assert_eq!(refuse(b"\0asm"), CodeError::NotWasm);
    assert_eq!(refuse(b"\0asm\x02\0\0\0"), CodeError::NotWasm);
}

#[test]
fn truncated_wasm_is_refused() {
    let wasm = wat(CONTRACT);
    for len in [9, wasm.len() / 2, wasm.len() - 1] {
        assert!(matches!(refuse(&wasm[..len]), CodeError::Malformed(_)), "at {len}");
    }
}

#[test]
fn component_is_refused() {
    assert!(matches!(refuse(b"\0asm\x0d\0\x01\0"), CodeError::Unsupported(m) if m.contains("component")));
}

// ---- limits ----

#[test]
fn huge_declared_counts_are_refused_from_the_section_header() {
    // A type section and a function section that declare a million entries but hold none.
    for (id, limit) in [(1u8, "MAX_TYPES"), (3, "MAX_FUNCTIONS")] {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend([id, 3, 0xc0, 0x84, 0x3d]); // 1_000_000
        assert_limit(&wasm, limit, 1_000_000);
    }
}

fn functions(n: u32) -> Vec<u8> {
    let mut m = Mb::new();
    for _ in 0..n {
        m.func(0, &body(&[], &[]));
    }
    m.finish()
}

#[test]
fn max_functions() {
    assert_prepares(&functions(lim::MAX_FUNCTIONS));
    assert_limit(&functions(lim::MAX_FUNCTIONS + 1), "MAX_FUNCTIONS", 2049);
}

fn types(n: u32) -> Vec<u8> {
    let mut m = Mb::new();
    for _ in 1..n {
        m.types.ty().function([E::I32], []);
    }
    m.finish()
}

#[test]
fn max_types() {
    assert_prepares(&types(lim::MAX_TYPES));
    assert_limit(&types(lim::MAX_TYPES + 1), "MAX_TYPES", 513);
}

fn params(n: u32) -> Vec<u8> {
    let mut m = Mb::new();
    m.types.ty().function(vec![E::I64; n as usize], []);
    m.func(1, &body(&[], &[]));
    m.finish()
}

#[test]
fn max_params() {
    assert_prepares(&params(lim::MAX_PARAMS));
    assert_limit(&params(lim::MAX_PARAMS + 1), "MAX_PARAMS", 33);
}

#[test]
fn max_results() {
    let mut m = Mb::new();
    m.types.ty().function([], [E::I32]);
    assert_prepares(&m.finish());
    m.types.ty().function([], [E::I32, E::I32]);
    assert_limit(&m.finish(), "MAX_RESULTS", 2);
}

fn locals(params: u32, declared: &[u32]) -> Vec<u8> {
    let mut m = Mb::new();
    m.types.ty().function(vec![E::I32; params as usize], []);
    let locals: Vec<(u32, E)> = declared.iter().map(|&n| (n, E::I64)).collect();
    m.func(1, &body(&locals, &[]));
    m.finish()
}

#[test]
fn max_locals() {
    assert_prepares(&locals(1, &[lim::MAX_LOCALS - 1]));
    assert_prepares(&locals(0, &[100, 400, 12]));
    assert_limit(&locals(1, &[lim::MAX_LOCALS]), "MAX_LOCALS", 513);
    assert_limit(&locals(0, &[500, 13]), "MAX_LOCALS", 513);
    // One entry declaring 2^32 - 1 locals is refused without defining them.
    assert_limit(&locals(0, &[u32::MAX]), "MAX_LOCALS", u64::from(u32::MAX));
    assert_limit(&locals(2, &[u32::MAX, u32::MAX]), "MAX_LOCALS", u64::from(u32::MAX) + 2);
}

/// A function whose body (locals + code) is exactly `len` bytes.
fn body_bytes(len: u32) -> Vec<u8> {
    let mut m = Mb::new();
    // One byte for the (empty) locals vector, one for the final `end`.
    let nops = vec![Instruction::Nop; len as usize - 2];
    m.func(0, &body(&[], &nops));
    m.finish()
}

#[test]
fn max_function_body_bytes() {
    assert_prepares(&body_bytes(lim::MAX_FUNCTION_BODY_BYTES));
    assert_limit(&body_bytes(lim::MAX_FUNCTION_BODY_BYTES + 1), "MAX_FUNCTION_BODY_BYTES", 128 * 1024 + 1);
}

fn globals(n: u32) -> Vec<u8> {
    let mut m = Mb::new();
    for i in 0..n {
        m.globals.global(mut_i32(), &ConstExpr::i32_const(i as i32));
    }
    m.finish()
}

#[test]
fn max_globals() {
    let prepared = assert_prepares(&globals(lim::MAX_GLOBALS));
    assert!(exports(&prepared.code).contains(&(STACK_GLOBAL.into(), wasmparser::ExternalKind::Global, 128)));
    assert_limit(&globals(lim::MAX_GLOBALS + 1), "MAX_GLOBALS", 129);
}

fn with_table(minimum: u64, maximum: Option<u64>) -> Vec<u8> {
    let mut m = Mb::new();
    m.tables.table(table(minimum, maximum));
    m.finish()
}

#[test]
fn max_table_elements() {
    assert_prepares(&with_table(lim::MAX_TABLE_ELEMENTS, Some(lim::MAX_TABLE_ELEMENTS)));
    assert_prepares(&with_table(lim::MAX_TABLE_ELEMENTS, None));
    assert_limit(&with_table(lim::MAX_TABLE_ELEMENTS + 1, None), "MAX_TABLE_ELEMENTS", 4097);
    assert_limit(&with_table(1, Some(lim::MAX_TABLE_ELEMENTS + 1)), "MAX_TABLE_ELEMENTS", 4097);
}

fn with_memory(minimum: u64, maximum: Option<u64>) -> Vec<u8> {
    let mut m = Mb::bare();
    m.memories.memory(memory(minimum, maximum));
    m.exports.export("memory", ExportKind::Memory, 0);
    m.finish()
}

#[test]
fn max_memory_pages() {
    assert_prepares(&with_memory(lim::MAX_MEMORY_PAGES, Some(lim::MAX_MEMORY_PAGES)));
    assert_prepares(&with_memory(0, None));
    assert_limit(
        &with_memory(lim::MAX_MEMORY_PAGES + 1, None),
        "MAX_MEMORY_PAGES",
        lim::MAX_MEMORY_PAGES + 1,
    );
    assert_limit(
        &with_memory(1, Some(lim::MAX_MEMORY_PAGES + 1)),
        "MAX_MEMORY_PAGES",
        lim::MAX_MEMORY_PAGES + 1,
    );
}

fn nested(depth: u32) -> Vec<u8> {
    let mut m = Mb::new();
    let mut insts = vec![Instruction::Block(wasm_encoder::BlockType::Empty); depth as usize];
    // A call at the deepest level: its instrumentation adds one more level, which must stay valid.
    insts.push(Instruction::Call(0));
    insts.extend(vec![Instruction::End; depth as usize]);
    m.func(0, &body(&[], &insts));
    m.finish()
}

#[test]
fn max_nesting_depth() {
    assert_prepares(&nested(lim::MAX_NESTING_DEPTH));
    assert_limit(&nested(lim::MAX_NESTING_DEPTH + 1), "MAX_NESTING_DEPTH", 257);
    // Loops and ifs count too.
    let mut m = Mb::new();
    let mut insts = vec![Instruction::Loop(wasm_encoder::BlockType::Empty); 200];
    for _ in 0..57 {
        insts.extend([Instruction::I32Const(1), Instruction::If(wasm_encoder::BlockType::Empty)]);
    }
    insts.extend(vec![Instruction::End; 257]);
    m.func(0, &body(&[], &insts));
    assert_limit(&m.finish(), "MAX_NESTING_DEPTH", 257);
}

fn br_table(targets: u32) -> Vec<u8> {
    let mut m = Mb::new();
    m.func(
        0,
        &body(
            &[],
            &[
                Instruction::Block(wasm_encoder::BlockType::Empty),
                Instruction::I32Const(0),
                Instruction::BrTable(Cow::Owned(vec![0; targets as usize]), 0),
                Instruction::End,
            ],
        ),
    );
    m.finish()
}

#[test]
fn max_br_table_targets() {
    assert_prepares(&br_table(lim::MAX_BR_TABLE_TARGETS));
    assert_limit(&br_table(lim::MAX_BR_TABLE_TARGETS + 1), "MAX_BR_TABLE_TARGETS", 2049);
}

fn exports_count(n: u32) -> Vec<u8> {
    let mut m = Mb::new();
    m.globals.global(mut_i32(), &ConstExpr::i32_const(0));
    for i in 1..n {
        m.exports.export(&format!("g{i}"), ExportKind::Global, 0);
    }
    m.finish()
}

#[test]
fn max_exports() {
    assert_prepares(&exports_count(lim::MAX_EXPORTS));
    assert_limit(&exports_count(lim::MAX_EXPORTS + 1), "MAX_EXPORTS", 257);
}

fn data_segments(n: u32) -> Vec<u8> {
    let mut m = Mb::new();
    for _ in 0..n {
        m.data.active(0, &ConstExpr::i32_const(0), [1u8]);
    }
    m.finish()
}

#[test]
fn max_data_segments() {
    assert_prepares(&data_segments(lim::MAX_DATA_SEGMENTS));
    assert_limit(&data_segments(lim::MAX_DATA_SEGMENTS + 1), "MAX_DATA_SEGMENTS", 513);
}

fn element_segments(n: u32) -> Vec<u8> {
    let mut m = Mb::new();
    m.tables.table(table(1, Some(1)));
    let f = m.func(0, &body(&[], &[]));
    for _ in 0..n {
        m.elements.active(None, &ConstExpr::i32_const(0), Elements::Functions(Cow::Owned(vec![f])));
    }
    m.finish()
}

#[test]
fn max_element_segments() {
    assert_prepares(&element_segments(lim::MAX_ELEMENT_SEGMENTS));
    assert_limit(&element_segments(lim::MAX_ELEMENT_SEGMENTS + 1), "MAX_ELEMENT_SEGMENTS", 65);
}

fn method_name(len: usize) -> Vec<u8> {
    let mut m = Mb::new();
    let f = m.func(0, &body(&[], &[]));
    m.exports.export(&"m".repeat(len), ExportKind::Func, f);
    m.finish()
}

#[test]
fn max_method_name_bytes() {
    assert_eq!(assert_prepares(&method_name(MAX_METHOD_NAME_BYTES)).methods, ["m".repeat(64)]);
    assert_limit(&method_name(MAX_METHOD_NAME_BYTES + 1), "MAX_METHOD_NAME_BYTES", 65);
}

// ---- structure, imports, exports ----

#[test]
fn start_function_is_refused() {
    let mut m = Mb::new();
    m.start = Some(m.func(0, &body(&[], &[])));
    assert_eq!(refuse(&m.finish()), CodeError::StartFunction);
}

#[test]
fn wasi_import_is_refused() {
    let err = refuse(&wat(r#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1))"#));
    assert_eq!(
        err,
        CodeError::UnknownImport { module: "wasi_snapshot_preview1".into(), name: "fd_write".into() }
    );
}

#[test]
fn unknown_weft_import_is_refused() {
    let err = refuse(&wat(r#"(module (import "weft" "syscall" (func)) (memory (export "memory") 1))"#));
    assert_eq!(err, CodeError::UnknownImport { module: "weft".into(), name: "syscall".into() });
    // A host function name under another module is unknown too.
    let err = refuse(&wat(
        r#"(module (import "env" "input_len" (func (result i32))) (memory (export "memory") 1))"#,
    ));
    assert_eq!(err, CodeError::UnknownImport { module: "env".into(), name: "input_len".into() });
}

#[test]
fn wrong_import_signature_is_refused() {
    let err =
        refuse(&wat(r#"(module (import "weft" "storage_read" (func (param i32 i32 i32 i64) (result i32)))
        (memory (export "memory") 1))"#));
    assert_eq!(
        err,
        CodeError::ImportSignature {
            name: "storage_read".into(),
            expected: "(i32, i32, i32, i32) -> (i32)".into(),
            found: "(i32, i32, i32, i64) -> (i32)".into(),
        }
    );
    let err = refuse(&wat(r#"(module (import "weft" "gas_left" (func)) (memory (export "memory") 1))"#));
    assert!(err.to_string().contains("() -> (i64)"), "{err}");
}

#[test]
fn every_host_function_imports_with_its_signature() {
    let mut m = Mb::new();
    for (i, f) in abi::HOST_FUNCTIONS.iter().enumerate() {
        let conv = |t: &abi::ValType| match t {
            abi::ValType::I32 => E::I32,
            abi::ValType::I64 => E::I64,
        };
        m.types.ty().function(f.params.iter().map(conv), f.results.iter().map(conv));
        m.import(f.name, i as u32 + 1);
    }
    let run = m.func(0, &body(&[], &[Instruction::Call(0), Instruction::Drop]));
    m.exports.export("run", ExportKind::Func, run);
    let prepared = assert_prepares(&m.finish());
    // Host calls are not instrumented: only the function's entry and exit are added.
    let run = [Operator::Call { function_index: 0 }, Operator::Drop, Operator::End];
    let cost = (lim::FRAME_BASE_COST + 1 + 2) as i32;
    assert_eq!(bodies(&prepared.code)[0], framed(0, cost, wasmparser::BlockType::Empty, &run));
}

#[test]
fn duplicate_import_is_refused() {
    let err = refuse(&wat(r#"(module
        (import "weft" "caller" (func (param i32)))
        (import "weft" "caller" (func (param i32)))
        (memory (export "memory") 1))"#));
    assert_eq!(err, CodeError::DuplicateImport { name: "caller".into() });
}

#[test]
fn imported_memory_table_global_are_refused() {
    for (import, name) in [
        (r#"(import "weft" "memory" (memory 1))"#, "memory"),
        (r#"(import "weft" "table" (table 1 funcref))"#, "table"),
        (r#"(import "weft" "global" (global i32))"#, "global"),
    ] {
        let err = refuse(&wat(&format!(r#"(module {import} (memory (export "memory") 1))"#)));
        assert_eq!(err, CodeError::ImportKind { module: "weft".into(), name: name.into() });
    }
}

#[test]
fn missing_memory_export_is_refused() {
    assert_eq!(refuse(&wat("(module (memory 1))")), CodeError::MissingMemory);
    assert_eq!(refuse(&wat(r#"(module (memory (export "mem") 1))"#)), CodeError::MissingMemory);
    assert_eq!(refuse(&wat(r#"(module (func (export "memory")))"#)), CodeError::MissingMemory);
}

#[test]
fn exported_function_must_be_unit() {
    let err = refuse(&wat(r#"(module (memory (export "memory") 1) (func (export "f") (param i32)))"#));
    assert_eq!(err, CodeError::ExportSignature { name: "f".into(), found: "(i32) -> ()".into() });
    let err =
        refuse(&wat(r#"(module (memory (export "memory") 1) (func (export "g") (result f64) f64.const 0))"#));
    assert_eq!(err, CodeError::ExportSignature { name: "g".into(), found: "() -> (f64)".into() });
}

#[test]
fn exported_import_is_refused() {
    let err = refuse(&wat(r#"(module (import "weft" "revert" (func $r (param i32 i32)))
        (memory (export "memory") 1) (export "r" (func $r)))"#));
    assert_eq!(err, CodeError::ExportedImport { name: "r".into() });
}

#[test]
fn reserved_exports_are_refused() {
    let err = refuse(&wat(r#"(module (memory (export "memory") 1) (func (export "__weft_stack")))"#));
    assert_eq!(err, CodeError::ReservedExport { name: "__weft_stack".into() });
    let err = refuse(&wat(
        r#"(module (memory (export "memory") 1) (global (export "__weft_reentrant") i32 (i32.const 0)))"#,
    ));
    assert_eq!(err, CodeError::ReservedExport { name: "__weft_reentrant".into() });
}

#[test]
fn invalid_code_is_malformed() {
    let err = refuse(&wat(r#"(module (memory (export "memory") 1) (func (export "f") i32.const 1))"#));
    assert!(matches!(&err, CodeError::Malformed(m) if m.contains("offset")), "{err:?}");
}

// ---- features ----

#[test]
fn simd_is_refused() {
    assert_unsupported(r#"(module (memory (export "memory") 1) (func (local v128)))"#);
    assert_unsupported(r#"(module (memory (export "memory") 1) (func v128.const i64x2 0 0 drop))"#);
}

#[test]
fn threads_are_refused() {
    assert_unsupported(r#"(module (memory (export "memory") 1 1 shared))"#);
    assert_unsupported(r#"(module (memory (export "memory") 1) (func i32.const 0 i32.atomic.load drop))"#);
}

#[test]
fn bulk_memory_is_refused() {
    assert_unsupported(
        r#"(module (memory (export "memory") 1) (func i32.const 0 i32.const 0 i32.const 0 memory.copy))"#,
    );
    assert_unsupported(r#"(module (memory (export "memory") 1) (data "passive"))"#);
}

#[test]
fn reference_types_are_refused() {
    assert_unsupported(r#"(module (memory (export "memory") 1) (func ref.null extern drop))"#);
    assert_unsupported(r#"(module (memory (export "memory") 1) (table 1 externref))"#);
}

#[test]
fn multi_value_is_refused() {
    assert_unsupported(
        r#"(module (memory (export "memory") 1) (func i32.const 0 (block (param i32) drop)))"#,
    );
}

#[test]
fn other_proposals_are_refused() {
    for src in [
        // sign extension
        r#"(module (memory (export "memory") 1) (func i32.const 0 i32.extend8_s drop))"#,
        // saturating float-to-int
        r#"(module (memory (export "memory") 1) (func f32.const 0 i32.trunc_sat_f32_s drop))"#,
        // tail calls
        r#"(module (memory (export "memory") 1) (func $f return_call $f))"#,
        // multi-memory
        r#"(module (memory (export "memory") 1) (memory 1))"#,
        // memory64
        r#"(module (memory (export "memory") i64 1))"#,
        // exceptions
        r#"(module (memory (export "memory") 1) (tag))"#,
    ] {
        assert_unsupported(src);
    }
}

/// The compile weight of a module of `bodies`, each `n` copies of `inst`.
fn weight_of(bodies: usize, n: usize, inst: &Instruction<'_>) -> u64 {
    let mut m = Mb::new();
    m.func(0, &body(&[], &[]));
    for _ in 0..bodies {
        m.func(0, &body(&[], &vec![inst.clone(); n]));
    }
    assert_prepares(&m.finish()).compile_weight
}

#[test]
fn compile_weight_is_deterministic_and_grows_with_what_is_compiled() {
    let c = &SCHEDULE.compile;
    let wasm = largest(|n| spread(n, 65_000, 0, &Instruction::Call(0)));
    let weight = |wasm: &[u8]| prepare_at_any_price(wasm).unwrap().compile_weight;
    assert_eq!(weight(&wasm), weight(&wasm));
    // Too costly to compile for any transaction: refused saying so.
    let upload = SCHEDULE.upload(wasm.len(), weight(&wasm));
    assert!(upload > MAX_TX_GAS);
    assert_limit(&wasm, "MAX_TX_GAS", upload);

    // An empty module still pays the module's fixed cost; each function its own.
    let empty = weight_of(0, 0, &Instruction::Nop);
    assert!(empty >= c.module + c.function, "{empty}");
    assert!(weight_of(1, 0, &Instruction::Nop) >= empty + c.function);

    // More of an instruction costs more, and a call more than a nop.
    for inst in [Instruction::Nop, Instruction::Call(0)] {
        assert!(weight_of(1, 1_000, &inst) < weight_of(1, 2_000, &inst), "{inst:?}");
        assert!(weight_of(1, 1_000, &inst) < weight_of(2, 1_000, &inst), "{inst:?}");
    }
    assert!(weight_of(1, 1_000, &Instruction::Nop) < weight_of(1, 1_000, &Instruction::Call(0)));

    // One large function costs more than the same code split in two (superlinear compile time).
    let (one, two) =
        (weight_of(1, 40_000, &Instruction::Call(0)), weight_of(2, 20_000, &Instruction::Call(0)));
    assert!(one > two, "{one} <= {two}");
    assert!(function_weight(2 * c.call, c) >= 2 * function_weight(c.call, c));

    // The per-byte price plus the weight, which is what an upload pays.
    assert_eq!(SCHEDULE.upload(wasm.len(), 7), SCHEDULE.upload_byte * wasm.len() as u64 + 7);
}
