//! One call frame: its own store and instance, the method run with the frame's gas, and how the
//! frame ended (output, revert, trap, out of gas or node fault) in the runtime's own types.

use wasmtime::{Store, Trap, Val, WasmBacktrace};
use weft_types::{Address, Amount, ExecError, Gas, TrapKind, abi::MEMORY_EXPORT};

use super::{
    LoadedCode,
    host::{CallResult, FUEL_SENTINEL, Host, HostAbort, HostData, Limiter, gas_left},
    prepare::{STACK_EXCEEDED_GLOBAL, STACK_GLOBAL},
};
use crate::{error::RuntimeError, gas::SCHEDULE};

/// One call frame's own data, which the host functions read and write.
pub struct Frame {
    pub(super) contract: Address,
    pub(super) caller: Address,
    pub(super) value: Amount,
    pub(super) input: Vec<u8>,
    pub(super) output: Vec<u8>,
    pub(super) last_return: Vec<u8>,
    /// The instance's memory, set once it is instantiated.
    pub(super) memory: Option<wasmtime::Memory>,
    pub(super) depth: usize,
}

impl Frame {
    /// A frame of `contract` called by `caller` with `value` and `input`, `depth` frames deep
    /// (the outermost call is 1).
    pub fn new(contract: Address, caller: Address, value: Amount, input: Vec<u8>, depth: usize) -> Self {
        Self {
            contract,
            caller,
            value,
            input,
            output: Vec::new(),
            last_return: Vec::new(),
            memory: None,
            depth,
        }
    }
}

/// How a frame ended.
pub struct FrameEnd<H> {
    /// The host, given back.
    pub host: Box<H>,
    /// The method's output, or why it failed.
    pub result: CallResult,
    /// Gas the frame used, never more than it was given.
    pub gas_used: Gas,
    /// When the frame trapped: its wasm backtrace, one line per frame, innermost first. For
    /// diagnostics only, never part of a result.
    pub backtrace: Option<Vec<String>>,
}

impl<H: Host> LoadedCode<H> {
    /// Instantiates this code in a fresh store owning `host` and `frame`, and runs `method` with
    /// `gas`. `stack` is the stack units the calling frames use, which the instrumentation counts
    /// on from (the entered export adds its own cost). `ticks` is how many of its VM's ticks the
    /// frame may still run for (`Vm::execution_deadline`); `None`, always the case in block
    /// execution, for no limit.
    pub fn run(
        &self,
        host: Box<H>,
        frame: Frame,
        method: &str,
        gas: Gas,
        stack: u32,
        ticks: Option<u64>,
    ) -> Result<FrameEnd<H>, RuntimeError> {
        let contract = frame.contract;
        let data = HostData { host: Some(host), frame, limiter: Limiter::default() };
        let mut store = Store::new(self.pre.module().engine(), data);
        store.limiter(|data| &mut data.limiter);
        store.set_fuel(gas.saturating_add(FUEL_SENTINEL)).map_err(engine_error)?;
        // A store's deadline is its engine's epoch plus this; a block VM's epoch never moves.
        store.set_epoch_deadline(ticks.unwrap_or(NO_DEADLINE));

        let mut instance = None;
        let run = (|| -> wasmtime::Result<()> {
            let inst = self.pre.instantiate(&mut store)?;
            instance = Some(inst);
            let memory = inst
                .get_memory(&mut store, MEMORY_EXPORT)
                .ok_or_else(|| wasmtime::Error::msg("validated module lacks its memory export"))?;
            store.data_mut().frame.memory = Some(memory);
            if let Some(global) = inst.get_global(&mut store, STACK_GLOBAL) {
                global.set(&mut store, Val::I32(stack as i32))?;
            }
            let func = inst.get_typed_func::<(), ()>(&mut store, method)?;
            func.call(&mut store, ())
        })();

        let stack_exceeded = instance
            .and_then(|inst| inst.get_global(&mut store, STACK_EXCEEDED_GLOBAL))
            .is_some_and(|g| g.get(&mut store).i32() == Some(1));
        let mut backtrace = None;
        let mut result = match run {
            Ok(()) => Ok(()),
            Err(err) => {
                backtrace = err.downcast_ref::<WasmBacktrace>().map(describe_backtrace);
                Err(classify(err, contract, stack_exceeded)?)
            }
        };
        // Memory the instance started with or grew to is paid at the end of the frame (or
        // earlier, at its next host call); the amount does not depend on when it is charged.
        let remaining = match gas_left(store.get_fuel().map_err(engine_error)?) {
            Some(left) => left.min(gas),
            None => {
                result = Err(ExecError::OutOfGas);
                0
            }
        };
        let pages = std::mem::take(&mut store.data_mut().limiter.grown_pages);
        let memory_gas = pages.saturating_mul(SCHEDULE.memory_page);
        let remaining = match remaining.checked_sub(memory_gas) {
            Some(r) => r,
            None => {
                result = Err(ExecError::OutOfGas);
                0
            }
        };
        let gas_used = gas
            .checked_sub(remaining)
            .ok_or_else(|| RuntimeError::Engine("a frame ended with more gas than it was given".into()))?;
        let data = store.into_data();
        let host =
            data.host.ok_or_else(|| RuntimeError::Engine("transaction context lost by a frame".into()))?;
        let backtrace = if matches!(result, Err(ExecError::Trap { .. })) { backtrace } else { None };
        Ok(FrameEnd { host, result: result.map(|()| data.frame.output), gas_used, backtrace })
    }
}

/// One line per frame, innermost first: `func[3] name @ 0x1a2`, the name when the module has a
/// name section.
fn describe_backtrace(bt: &WasmBacktrace) -> Vec<String> {
    bt.frames()
        .iter()
        .map(|f| {
            let name = f.func_name().map(|n| format!(" {n}")).unwrap_or_default();
            match f.module_offset() {
                Some(at) => format!("func[{}]{name} @ {at:#x}", f.func_index()),
                None => format!("func[{}]{name}", f.func_index()),
            }
        })
        .collect()
}

/// Epoch ticks past the current one that mean "no deadline": far beyond any epoch a VM reaches
/// (one tick per 10 ms is 2^60 years), and no overflow when added to it.
const NO_DEADLINE: u64 = u64::MAX / 2;

fn engine_error(e: wasmtime::Error) -> RuntimeError {
    RuntimeError::Engine(e.to_string())
}

/// Maps how the guest stopped to the contract's `ExecError`, or to a node fault.
fn classify(
    err: wasmtime::Error,
    contract: Address,
    stack_exceeded: bool,
) -> Result<ExecError, RuntimeError> {
    let err = match err.downcast::<HostAbort>() {
        Ok(abort) => {
            return match abort {
                HostAbort::Revert(data) => Ok(ExecError::Reverted { contract, data }),
                HostAbort::OutOfGas => Ok(ExecError::OutOfGas),
                HostAbort::Exec(e) => Ok(e),
                HostAbort::Trap(kind) => Ok(ExecError::Trap { contract, kind }),
                HostAbort::Fatal(msg) => Err(RuntimeError::Engine(msg)),
                HostAbort::State(msg) => Err(RuntimeError::State(crate::state::StateError::Backend(msg))),
                HostAbort::Node(e) => Err(e),
            };
        }
        Err(err) => err,
    };
    let Some(trap) = err.downcast_ref::<Trap>() else {
        return Err(RuntimeError::Engine(format!("{err:?}")));
    };
    let kind = match trap {
        Trap::OutOfFuel => return Ok(ExecError::OutOfGas),
        Trap::Interrupt => return Err(RuntimeError::Interrupted),
        Trap::UnreachableCodeReached if stack_exceeded => TrapKind::StackLimit,
        Trap::UnreachableCodeReached => TrapKind::Unreachable,
        Trap::MemoryOutOfBounds | Trap::HeapMisaligned => TrapKind::MemoryOutOfBounds,
        Trap::IntegerDivisionByZero => TrapKind::IntegerDivisionByZero,
        Trap::IntegerOverflow => TrapKind::IntegerOverflow,
        Trap::BadConversionToInteger => TrapKind::BadConversionToInteger,
        Trap::IndirectCallToNull | Trap::TableOutOfBounds => TrapKind::IndirectCall,
        Trap::BadSignature => TrapKind::BadSignature,
        // Instrumentation keeps the wasm stack far below the native limit; reaching it anyway
        // is still reported as the stack limit rather than as a node fault.
        Trap::StackOverflow => TrapKind::StackLimit,
        _ => TrapKind::Other,
    };
    Ok(ExecError::Trap { contract, kind })
}
