//! What uploading and loading code costs, per feature: generates families of valid contract
//! modules close to `MAX_CODE_BYTES`, each dominated by one kind of instruction (or one limit), and
//! times, in this build, what an upload does (`prepare::prepare`, Cranelift's compile on the
//! node's engine, serialization) and what a call that misses the cache does (checking the
//! artifact, `Module::deserialize`, `Linker::instantiate_pre`). Prints, per family, the time per
//! code byte and per operator, and per gas under the old flat price (`upload_byte` per byte) and
//! under the compile-weight model (`PreparedCode::compile_weight`), and the load time per gas of
//! what calls are charged by.
//!
//! Run: `cargo bench -p weft-runtime --bench compile` (optionally a family name filter as the
//! argument). Timings are the minimum of a few runs: the question is what the code costs, not
//! what a busy machine adds.
#![allow(clippy::unwrap_used, missing_docs, unsafe_code)]

use std::{
    borrow::Cow,
    hint::black_box,
    time::{Duration, Instant},
};

use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, DataSection, ElementSection, Elements, EntityType, ExportKind,
    ExportSection, Function, FunctionSection, GlobalSection, GlobalType, ImportSection, Instruction as I,
    MemArg, MemorySection, MemoryType, Module as Encoder, RefType, TableSection, TableType, TypeSection,
    ValType,
};
use wasmparser::{Parser, Payload};
use wasmtime::{Engine, Linker, Module};
use weft_runtime::{
    exec::TxCtx,
    gas::SCHEDULE,
    vm::{self, artifacts, host::HostData, prepare},
};
use weft_types::limits::{MAX_CODE_BYTES, wasm as lim};

/// Bytes a body may have: `MAX_FUNCTION_BODY_BYTES` less room for its size prefix and locals.
const BIG_BODY: usize = lim::MAX_FUNCTION_BODY_BYTES as usize - 2_000;
/// Index of the host function `caller` (i32) -> (), the only import.
const HOST: u32 = 0;
/// Index of the empty function every call family calls, and the table holds.
const LEAF: u32 = 1;
/// Index of the function of type (i64 × 8) -> i64 the many-arguments family calls.
const WIDE: u32 = 2;
/// Globals every module defines.
const GLOBALS: u32 = 100;

/// A family of modules: `n` repetitions of `unit` spread over bodies of at most `per_body`
/// bytes, each body `prologue`, units, `epilogue`.
struct Family {
    name: &'static str,
    /// Bytes of one body at most (the units that fit).
    per_body: usize,
    locals: Vec<(u32, ValType)>,
    prologue: Vec<I<'static>>,
    /// The `k`th repetition.
    unit: fn(usize) -> Vec<I<'static>>,
    epilogue: Vec<I<'static>>,
    /// Data segments: (count, bytes each); they take the room units would.
    data: (u32, usize),
}

fn mem(offset: u64) -> MemArg {
    MemArg { offset, align: 2, memory_index: 0 }
}

fn mem8(offset: u64) -> MemArg {
    MemArg { offset, align: 3, memory_index: 0 }
}

fn encoded(insts: &[I<'_>]) -> usize {
    let mut f = Function::new([]);
    for i in insts {
        f.instruction(i);
    }
    f.byte_len() - 1
}

impl Family {
    fn new(name: &'static str, unit: fn(usize) -> Vec<I<'static>>) -> Self {
        Family {
            name,
            per_body: BIG_BODY,
            locals: vec![(4, ValType::I32), (2, ValType::I64), (2, ValType::F64)],
            prologue: vec![],
            unit,
            epilogue: vec![],
            data: (0, 0),
        }
    }

    fn body_bytes(mut self, b: usize) -> Self {
        self.per_body = b;
        self
    }

    fn around(mut self, prologue: Vec<I<'static>>, epilogue: Vec<I<'static>>) -> Self {
        self.prologue = prologue;
        self.epilogue = epilogue;
        self
    }

    fn locals(mut self, locals: Vec<(u32, ValType)>) -> Self {
        self.locals = locals;
        self
    }

    /// The module with `n` units in all.
    fn build(&self, n: usize) -> Vec<u8> {
        let mut types = TypeSection::new();
        types.ty().function([], []);
        types.ty().function([ValType::I32], []);
        types.ty().function([ValType::I64; 8], [ValType::I64]);
        let mut imports = ImportSection::new();
        imports.import("weft", "caller", EntityType::Function(1));
        let mut funcs = FunctionSection::new();
        let mut code = CodeSection::new();
        funcs.function(0);
        code.function(&{
            let mut f = Function::new([]);
            f.instruction(&I::End);
            f
        });
        funcs.function(2);
        code.function(&{
            let mut f = Function::new([]);
            f.instruction(&I::LocalGet(7));
            f.instruction(&I::End);
            f
        });
        let fixed = encoded(&self.prologue) + encoded(&self.epilogue) + 8 + 64 * 8;
        let (mut left, mut k) = (n, 0);
        let mut bodies = 0;
        while left > 0 && bodies < lim::MAX_FUNCTIONS - 2 {
            let mut f = Function::new(self.locals.iter().copied());
            // Locals start as what memory holds, not as constants the compiler could fold.
            let mut index = 0u32;
            for &(n, ty) in &self.locals {
                for _ in 0..n.min(64) {
                    f.instruction(&I::I32Const(i32::try_from(index * 8).unwrap()));
                    f.instruction(&match ty {
                        ValType::I64 => I::I64Load(mem8(0)),
                        ValType::F64 => I::F64Load(mem8(0)),
                        _ => I::I32Load(mem(0)),
                    });
                    f.instruction(&I::LocalSet(index));
                    index += 1;
                }
                index += n.saturating_sub(64);
            }
            for i in &self.prologue {
                f.instruction(i);
            }
            while left > 0 {
                let unit = (self.unit)(k);
                if f.byte_len() + encoded(&unit) + fixed > self.per_body {
                    break;
                }
                for i in &unit {
                    f.instruction(i);
                }
                left -= 1;
                k += 1;
            }
            for i in &self.epilogue {
                f.instruction(i);
            }
            f.instruction(&I::End);
            funcs.function(0);
            code.function(&f);
            bodies += 1;
        }
        let mut tables = TableSection::new();
        tables.table(TableType {
            element_type: RefType::FUNCREF,
            table64: false,
            minimum: 1,
            maximum: Some(1),
            shared: false,
        });
        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: 1,
            maximum: Some(lim::MAX_MEMORY_PAGES),
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        let mut globals = GlobalSection::new();
        for _ in 0..GLOBALS {
            globals.global(
                GlobalType { val_type: ValType::I32, mutable: true, shared: false },
                &ConstExpr::i32_const(0),
            );
        }
        let mut exports = ExportSection::new();
        exports.export("memory", ExportKind::Memory, 0);
        if bodies > 0 {
            exports.export("run", ExportKind::Func, 3);
        }
        let mut elements = ElementSection::new();
        elements.active(None, &ConstExpr::i32_const(0), Elements::Functions(Cow::Owned(vec![LEAF])));
        let mut data = DataSection::new();
        for s in 0..self.data.0 {
            let offset = i32::try_from(s as usize * self.data.1).unwrap();
            data.active(0, &ConstExpr::i32_const(offset), vec![0xa5u8; self.data.1]);
        }
        let mut m = Encoder::new();
        m.section(&types)
            .section(&imports)
            .section(&funcs)
            .section(&tables)
            .section(&memories)
            .section(&globals)
            .section(&exports)
            .section(&elements)
            .section(&code);
        if self.data.0 > 0 {
            m.section(&data);
        }
        m.finish()
    }

    /// The module with the most units that fits `MAX_CODE_BYTES`.
    fn largest(&self) -> Vec<u8> {
        if self.data.0 > 0 {
            return self.build(0);
        }
        let (mut lo, mut hi) = (0, MAX_CODE_BYTES);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if self.build(mid).len() <= MAX_CODE_BYTES { lo = mid } else { hi = mid - 1 }
        }
        self.build(lo)
    }
}

fn families() -> Vec<Family> {
    use ValType::I64;
    vec![
        Family::new("call", |_| vec![I::Call(LEAF)]),
        Family::new("call (16 KiB bodies)", |_| vec![I::Call(LEAF)]).body_bytes(16 << 10),
        Family::new("call (1 KiB bodies)", |_| vec![I::Call(LEAF)]).body_bytes(1 << 10),
        Family::new("call (max functions)", |_| vec![I::Call(LEAF)]).body_bytes(MAX_CODE_BYTES / 2046 - 6),
        Family::new("call_indirect", |_| {
            vec![I::I32Const(0), I::CallIndirect { type_index: 0, table_index: 0 }]
        }),
        Family::new("call host", |_| vec![I::I32Const(0), I::Call(HOST)]),
        Family::new("call 8 args", |_| {
            let mut v = vec![I::LocalGet(4); 8];
            v.extend([I::Call(WIDE), I::LocalSet(4)]);
            v
        }),
        Family::new("empty functions", |_| vec![I::Nop]).body_bytes(4).locals(vec![]),
        Family::new("i32.add", |_| vec![I::LocalGet(0), I::I32Add])
            .around(vec![I::LocalGet(1)], vec![I::Drop]),
        Family::new("i64.mul", |_| vec![I::LocalGet(4), I::I64Mul])
            .around(vec![I::LocalGet(5)], vec![I::Drop]),
        Family::new("i32 const+add", |_| vec![I::I32Const(1), I::I32Add])
            .around(vec![I::LocalGet(1)], vec![I::Drop]),
        Family::new("i32.div_s", |_| vec![I::LocalGet(0), I::I32DivS])
            .around(vec![I::LocalGet(1)], vec![I::Drop]),
        Family::new("i64.rem_u", |_| vec![I::LocalGet(4), I::I64RemU])
            .around(vec![I::LocalGet(5)], vec![I::Drop]),
        Family::new("i32.load chain", |_| vec![I::I32Load(mem(0))])
            .around(vec![I::LocalGet(0)], vec![I::Drop]),
        Family::new("i64.load +offset", |k| {
            vec![I::LocalGet(0), I::I64Load(mem8(k as u64 % 100)), I::LocalSet(4)]
        }),
        Family::new("i32.store", |_| vec![I::LocalGet(0), I::LocalGet(1), I::I32Store(mem(0))]),
        Family::new("i32.load8_u", |_| vec![I::I32Load8U(MemArg { offset: 0, align: 0, memory_index: 0 })])
            .around(vec![I::LocalGet(0)], vec![I::Drop]),
        Family::new("locals 512 get/set", |k| {
            vec![I::LocalGet((k * 7 % 511) as u32), I::LocalSet((k * 13 % 511) as u32)]
        })
        .locals(vec![(511, I64)]),
        Family::new("locals 512 tee chain", |k| vec![I::LocalTee((k * 13 % 511) as u32)])
            .locals(vec![(511, I64)])
            .around(vec![I::LocalGet(0)], vec![I::Drop]),
        Family::new("nested blocks 255", |_| {
            let mut v = vec![I::Block(BlockType::Empty); 255];
            v.extend(vec![I::End; 255]);
            v
        }),
        Family::new("nested ifs 255", |_| {
            let mut v = Vec::new();
            for _ in 0..255 {
                v.extend([I::LocalGet(0), I::If(BlockType::Empty)]);
            }
            v.extend(vec![I::End; 255]);
            v
        }),
        Family::new("nested loops br_if", |_| {
            let mut v = Vec::new();
            for _ in 0..255 {
                v.extend([I::Loop(BlockType::Empty), I::LocalGet(0), I::BrIf(0)]);
            }
            v.extend(vec![I::End; 255]);
            v
        }),
        Family::new("br_if", |_| vec![I::LocalGet(0), I::BrIf(0)]),
        Family::new("if/else", |_| vec![I::LocalGet(0), I::If(BlockType::Empty), I::Else, I::End]),
        Family::new("br_table 2048", |k| {
            let targets: Vec<u32> = (0..lim::MAX_BR_TABLE_TARGETS).map(|t| (t + k as u32) % 128).collect();
            vec![I::Block(BlockType::Empty), I::LocalGet(0), I::BrTable(Cow::Owned(targets), 0), I::End]
        })
        .around(vec![I::Block(BlockType::Empty); 254], vec![I::End; 254]),
        Family::new("br_table 1 target", |k| {
            vec![
                I::Block(BlockType::Empty),
                I::LocalGet(0),
                I::BrTable(Cow::Owned(vec![(k % 100) as u32]), 0),
                I::End,
            ]
        })
        .around(vec![I::Block(BlockType::Empty); 254], vec![I::End; 254]),
        Family::new("select", |_| {
            vec![I::LocalGet(0), I::LocalGet(1), I::LocalGet(2), I::Select, I::LocalSet(0)]
        }),
        Family::new("f64.add", |_| vec![I::LocalGet(6), I::F64Add])
            .around(vec![I::LocalGet(7)], vec![I::Drop]),
        Family::new("f64.div", |_| vec![I::LocalGet(6), I::F64Div])
            .around(vec![I::LocalGet(7)], vec![I::Drop]),
        Family::new("f64.min", |_| vec![I::LocalGet(6), I::F64Min])
            .around(vec![I::LocalGet(7)], vec![I::Drop]),
        Family::new("f64.nearest", |_| vec![I::F64Nearest]).around(vec![I::LocalGet(7)], vec![I::Drop]),
        Family::new("f32.sqrt", |_| vec![I::F32Sqrt]).around(vec![I::F32Const(2.0.into())], vec![I::Drop]),
        Family::new("i64.trunc_f64_s", |_| vec![I::LocalGet(6), I::I64TruncF64S, I::LocalSet(4)]),
        Family::new("i32.trunc_f64_u", |_| vec![I::LocalGet(6), I::I32TruncF64U, I::LocalSet(0)]),
        Family::new("f64.convert_i64_u", |_| vec![I::LocalGet(4), I::F64ConvertI64U, I::LocalSet(6)]),
        Family::new("globals", |k| vec![I::GlobalGet((k % 100) as u32), I::GlobalSet((k * 7 % 100) as u32)]),
        Family::new("memory.grow", |_| vec![I::I32Const(0), I::MemoryGrow(0), I::Drop]),
        Family::new("memory.size", |_| vec![I::MemorySize(0), I::Drop]),
        Family::new("i64.const", |k| vec![I::I64Const(k as i64 * 0x1234_5678_9abc), I::LocalSet(4)]),
        Family::new("nop", |_| vec![I::Nop]),
        Family::new("dead code", |_| vec![I::I32Add]).around(vec![I::Unreachable], vec![I::Drop]),
        Family::new("return at depth 128", |_| vec![I::Return])
            .around(vec![I::Block(BlockType::Empty); 128], vec![I::End; 128]),
        Family::new("mixed", |k| {
            let l = (k % 4) as u32;
            vec![
                I::LocalGet(l),
                I::I32Load(mem(8)),
                I::LocalGet(1),
                I::I32Add,
                I::LocalTee(2),
                I::I32Const(7),
                I::I32And,
                I::If(BlockType::Empty),
                I::LocalGet(2),
                I::I64ExtendI32U,
                I::LocalSet(4),
                I::Call(LEAF),
                I::End,
                I::LocalGet(0),
                I::LocalGet(4),
                I::I64Store(mem8(16)),
            ]
        }),
        Family {
            data: (lim::MAX_DATA_SEGMENTS, (MAX_CODE_BYTES - 2_000) / 512 - 8),
            ..Family::new("data segments", |_| vec![])
        },
        Family { data: (1, MAX_CODE_BYTES - 2_000), ..Family::new("one data segment", |_| vec![]) },
    ]
}

/// The minimum time of `f` over a few runs (fewer when it is slow).
fn time<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let start = Instant::now();
    let mut out = f();
    let mut best = start.elapsed();
    let mut runs = 1;
    let budget = Instant::now();
    while runs < 5 && budget.elapsed() + best < Duration::from_millis(1_500) {
        let start = Instant::now();
        out = black_box(f());
        best = best.min(start.elapsed());
        runs += 1;
    }
    (best, out)
}

fn operators(wasm: &[u8]) -> u64 {
    let mut n = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::CodeSectionEntry(body) = payload.unwrap() {
            let mut ops = body.get_operators_reader().unwrap();
            while !ops.eof() {
                ops.read().unwrap();
                n += 1;
            }
        }
    }
    n
}

struct Row {
    name: String,
    bytes: usize,
    ops: u64,
    prepare: Duration,
    compile: Duration,
    serialize: Duration,
    serialized: usize,
    load: Duration,
    weight: u64,
}

impl Row {
    fn print_header() {
        println!(
            "{:<24} {:>7} {:>7} {:>6} {:>8} {:>6} {:>6} {:>7} {:>7} {:>11} {:>7} {:>6} {:>8} {:>7} {:>6}",
            "family",
            "bytes",
            "ops",
            "prep",
            "compile",
            "ns/B",
            "ns/op",
            "old",
            "new",
            "weight",
            "up Mgas",
            "load",
            "ser KiB",
            "ld ns/B",
            "ld/gas"
        );
        println!(
            "{:<24} {:>7} {:>7} {:>6} {:>8} {:>6} {:>6} {:>7} {:>7} {:>11} {:>7} {:>6} {:>8} {:>7} {:>6}",
            "", "", "", "ms", "ms", "", "", "ns/gas", "ns/gas", "gas", "", "ms", "", "", "ns/gas"
        );
    }

    fn print(&self) {
        let ns = |d: Duration| d.as_nanos() as f64;
        // What an upload does: validate and instrument, compile, serialize.
        let upload = ns(self.prepare) + ns(self.compile) + ns(self.serialize);
        let flat = SCHEDULE.upload(self.bytes, 0) as f64;
        let charged = SCHEDULE.upload(self.bytes, self.weight) as f64;
        let load_gas = SCHEDULE.load(self.bytes, self.weight) as f64;
        println!(
            "{:<24} {:>7} {:>7} {:>6.1} {:>8.1} {:>6.0} {:>6.0} {:>7.2} {:>7.2} {:>11} {:>7.1} {:>6.2} {:>8} {:>7.1} {:>6.2}",
            self.name,
            self.bytes,
            self.ops,
            ns(self.prepare) / 1e6,
            ns(self.compile) / 1e6,
            ns(self.compile) / self.bytes as f64,
            ns(self.compile) / self.ops.max(1) as f64,
            upload / flat,
            upload / charged,
            self.weight,
            charged / 1e6,
            ns(self.load) / 1e6,
            self.serialized >> 10,
            ns(self.load) / self.bytes as f64,
            ns(self.load) / load_gas,
        );
    }
}

fn measure(name: &str, wasm: &[u8], engine: &Engine, linker: &Linker<HostData<TxCtx>>) -> Row {
    let build = artifacts::build_id(engine);
    let (prepare, prepared) = time(|| prepare::prepare(wasm).unwrap());
    let (compile, module) = time(|| Module::new(engine, &prepared.code).unwrap());
    let (serialize, serialized) = time(|| module.serialize().unwrap());
    let info = vm::CodeInfo::new(&prepared, wasm.len());
    let artifact = artifacts::encode(&build, &info, &serialized);
    // What a call that misses the cache does with the artifact it read.
    let (load, _) = time(|| {
        let (_, bytes) = artifacts::decode(&build, &artifact).unwrap();
        // SAFETY: `bytes` is what `Module::serialize` of this engine produced, just now.
        let module = unsafe { Module::deserialize(engine, bytes) }.unwrap();
        linker.instantiate_pre(&module).unwrap()
    });
    Row {
        name: name.to_string(),
        bytes: wasm.len(),
        ops: operators(wasm),
        prepare,
        compile,
        serialize,
        serialized: artifact.len(),
        load,
        weight: prepared.compile_weight,
    }
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut config = vm::engine_config(true, 16);
    // Experiments only (the node's settings are `engine_config`'s): `WEFT_OPT=none`,
    // `WEFT_REGALLOC=single_pass`, `WEFT_LAZY_TABLE=off`.
    if std::env::var("WEFT_OPT").is_ok_and(|v| v == "none") {
        config.cranelift_opt_level(wasmtime::OptLevel::None);
    }
    if std::env::var("WEFT_REGALLOC").is_ok_and(|v| v == "single_pass") {
        config.cranelift_regalloc_algorithm(wasmtime::RegallocAlgorithm::SinglePass);
    }
    if std::env::var("WEFT_LAZY_TABLE").is_ok_and(|v| v == "off") {
        config.table_lazy_init(false);
    }
    if std::env::var("WEFT_UNWIND").is_ok_and(|v| v == "off") {
        config.native_unwind_info(false);
    }
    let engine = Engine::new(&config).unwrap();
    let mut linker = Linker::<HostData<TxCtx>>::new(&engine);
    vm::host::link(&mut linker).unwrap();
    Row::print_header();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut examples =
        vec![("token.wat".to_string(), wat::parse_file(format!("{root}/contracts/wat/token.wat")).unwrap())];
    for dir in ["target/contracts/wasm32v1-none/contract", "target/wasm32v1-none/contract"] {
        let Ok(entries) = std::fs::read_dir(format!("{root}/{dir}")) else { continue };
        let mut found: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        found.sort();
        for path in found.into_iter().filter(|p| p.extension().is_some_and(|e| e == "wasm")) {
            let name = path.file_stem().unwrap().to_string_lossy().replace("weft_example_", "");
            examples.push((name, std::fs::read(&path).unwrap()));
        }
    }
    if let Ok(extra) = std::env::var("WEFT_EXAMPLES") {
        for path in extra.split(':').filter(|p| !p.is_empty()) {
            let name = std::path::Path::new(path)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .replace("weft_example_", "");
            examples.push((name, std::fs::read(path).unwrap()));
        }
    }
    for (name, wasm) in &examples {
        if filter.as_ref().is_none_or(|f| name.contains(f.as_str())) {
            measure(name, wasm, &engine, &linker).print();
        }
    }
    // `WEFT_BODIES=16384,1024`: each family also with bodies of at most these sizes.
    let sizes: Vec<usize> =
        std::env::var("WEFT_BODIES").unwrap_or_default().split(',').filter_map(|s| s.parse().ok()).collect();
    for mut family in families() {
        if filter.as_ref().is_some_and(|f| !family.name.contains(f.as_str())) {
            continue;
        }
        let wasm = family.largest();
        measure(family.name, &wasm, &engine, &linker).print();
        let smaller: Vec<usize> = sizes.iter().copied().filter(|&s| s < family.per_body).collect();
        for size in smaller {
            family.per_body = size;
            let wasm = family.largest();
            measure(&format!("{} /{size}", family.name), &wasm, &engine, &linker).print();
        }
    }
}
