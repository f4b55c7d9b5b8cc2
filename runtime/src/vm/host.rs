//! The host functions of `weft_types::abi`, linked into every contract instance, and [`Host`]:
//! what they need from the execution running the frame (state, events, block, nested calls).
//!
//! Every function follows one order: charge the base gas, check every length against its limit,
//! charge the per-byte gas, and only then touch guest memory. Guest pointers and lengths are
//! range-checked against the memory's current size; nothing here panics on guest input.

use parity_scale_codec::Encode;
use wasmtime::{Caller, Extern, Linker, ResourceLimiter};
use weft_types::{
    Address, Amount, Event, ExecError, Gas, Hash, LimitKind, TrapKind,
    abi::{IMPORT_MODULE, codes},
    limits::{
        MAX_ARGS_BYTES, MAX_EVENT_DATA_BYTES, MAX_EVENT_TOPICS, MAX_EVENTS_PER_TX, MAX_HASH_INPUT_BYTES,
        MAX_METHOD_NAME_BYTES, MAX_RETURN_DATA_BYTES, MAX_STORAGE_KEY_BYTES, MAX_STORAGE_VALUE_BYTES,
        MAX_VERIFY_MESSAGE_BYTES,
        wasm::{HOST_CALL_STACK_COST, MAX_MEMORY_PAGES, MAX_TABLE_ELEMENTS},
    },
    tx::{Signature, verify_strict},
};

use super::{frame::Frame, prepare::STACK_GLOBAL};
use crate::{
    error::RuntimeError,
    gas::{GasSchedule, SCHEDULE},
    state::StateError,
};

/// What the host functions need from the execution that runs a frame (the transaction context
/// implements it). The host functions are generic over it, so every call is static dispatch.
///
/// A frame's store owns the host as `Box<H>` and a nested call moves it into the callee's store
/// ([`Host::call`]), so exactly one frame can touch it at a time.
pub trait Host: Sized + 'static {
    /// The balance of `account`.
    fn balance(&self, account: &Address) -> Result<Amount, StateError>;
    /// `contract`'s storage entry under `key`.
    fn storage_get(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
    /// Writes (`Some`) or removes (`None`) `contract`'s storage entry under `key`, keeping its
    /// storage size exact for deposits. Returns whether an entry existed.
    fn storage_set(
        &mut self,
        contract: &Address,
        key: Vec<u8>,
        value: Option<Vec<u8>>,
    ) -> Result<bool, StateError>;
    /// Events emitted so far in this transaction.
    fn event_count(&self) -> usize;
    /// Records an event of this transaction.
    fn emit_event(&mut self, event: Event);
    /// Height of the block being built.
    fn block_height(&self) -> u64;
    /// Consensus timestamp of the block being built.
    fn block_timestamp_ms(&self) -> u64;
    /// Whether `account` exists (has ever been credited, or is a contract).
    fn account_exists(&self, account: &Address) -> Result<bool, StateError>;
    /// Moves `amount` from `from` to `to`. The outer error is a node fault; the inner one the
    /// contract's.
    fn transfer(
        &mut self,
        from: &Address,
        to: &Address,
        amount: Amount,
    ) -> Result<Result<(), ExecError>, RuntimeError>;
    /// Runs a nested call, undoing what it changed if it fails, and gives the host back.
    fn call(self: Box<Self>, req: CallRequest) -> Result<(Box<Self>, CallOutcome), RuntimeError>;
}

/// A request to run a contract method.
pub struct CallRequest {
    /// Who calls: an account or the calling contract.
    pub caller: Address,
    /// The contract called.
    pub contract: Address,
    /// Its method (an export name).
    pub method: String,
    /// The call's input bytes.
    pub input: Vec<u8>,
    /// Moved from `caller` to `contract` before the method runs.
    pub value: Amount,
    /// Gas the call may use, the callee's code charge included.
    pub gas: Gas,
    /// Frames on the call stack including this one (the outermost call is 1).
    pub depth: usize,
    /// Stack units the calling frames already use.
    pub stack_base: u32,
    /// Which kind of entry `method` is.
    pub entry: Entry,
}

/// What a call enters: a method, or one of the entries only the protocol runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// A callable method.
    Method,
    /// The constructor (`abi::CONSTRUCTOR`), run by an instantiation.
    Constructor,
    /// The migration (`abi::MIGRATE`), run by an upgrade on the new code.
    Migrate,
}

/// A call's output, or why it failed.
pub type CallResult = Result<Vec<u8>, ExecError>;

/// What a call produced.
pub struct CallOutcome {
    /// Its output, or why it failed.
    pub result: CallResult,
    /// Gas it used, never more than it was given.
    pub gas_used: Gas,
}

/// The data of one frame's store.
pub struct HostData<H> {
    /// The execution's host; `None` only while a nested call has it.
    pub(super) host: Option<Box<H>>,
    /// This frame.
    pub(super) frame: Frame,
    /// Memory limits and growth accounting.
    pub(super) limiter: Limiter,
}

/// Caps linear memory at `MAX_MEMORY_PAGES` (a refused `memory.grow` returns -1 to the guest)
/// and counts pages allocated, which the frame pays for.
#[derive(Default)]
pub struct Limiter {
    pub(super) grown_pages: u64,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > (MAX_MEMORY_PAGES as usize) << 16 {
            return Ok(false);
        }
        self.grown_pages = self.grown_pages.saturating_add((desired.saturating_sub(current) >> 16) as u64);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired as u64 <= MAX_TABLE_ELEMENTS)
    }
}

/// Why a host function stopped the guest.
#[derive(Debug, thiserror::Error)]
pub enum HostAbort {
    /// The contract reverted with this data.
    #[error("reverted")]
    Revert(Vec<u8>),
    /// A host charge did not fit in the gas left.
    #[error("out of gas")]
    OutOfGas,
    /// A limit or other execution error.
    #[error("{0}")]
    Exec(ExecError),
    /// A guest-caused trap detected by the host.
    #[error("trap: {0:?}")]
    Trap(TrapKind),
    /// The state backend failed: the node's fault.
    #[error("state backend: {0}")]
    State(String),
    /// An internal invariant broke: the node's fault.
    #[error("internal: {0}")]
    Fatal(String),
    /// A nested call failed for a reason that is the node's, not the contract's: carried
    /// through the calling frames unchanged.
    #[error("{0}")]
    Node(RuntimeError),
}

type C<'a, H> = Caller<'a, HostData<H>>;
type R<T> = wasmtime::Result<T>;

fn abort<T>(a: HostAbort) -> R<T> {
    Err(wasmtime::Error::new(a))
}

fn limit<T>(limit: LimitKind, value: usize, max: usize) -> R<T> {
    abort(HostAbort::Exec(ExecError::LimitExceeded { limit, value: value as u64, max: max as u64 }))
}

/// Refuses a guest length over `max` with the limit it breaks.
fn check_len(l: i32, kind: LimitKind, max: usize) -> R<()> {
    if len(l) > max {
        return limit(kind, len(l), max);
    }
    Ok(())
}

fn state_err(e: StateError) -> wasmtime::Error {
    wasmtime::Error::new(HostAbort::State(e.to_string()))
}

/// Fuel a frame holds on top of its gas (see [`gas_left`]).
pub(super) const FUEL_SENTINEL: u64 = 1;

/// Gas the frame has left. A frame's store holds its gas plus [`FUEL_SENTINEL`]: wasmtime checks
/// fuel only at function entries and loop headers, and reads fuel spent past zero by straight-line
/// code as 0, so a store holding exactly the gas could not tell "used all of it" from "used more".
/// With the sentinel, fuel 0 always means more than the gas was used, which is out of gas.
pub(super) fn gas_left(fuel: u64) -> Option<Gas> {
    fuel.checked_sub(FUEL_SENTINEL)
}

/// Charges `gas`, plus any memory pages allocated since the last charge.
fn charge<H>(caller: &mut C<'_, H>, gas: Gas) -> R<()> {
    let pages = std::mem::take(&mut caller.data_mut().limiter.grown_pages);
    let total = gas.saturating_add(pages.saturating_mul(SCHEDULE.memory_page));
    let left = left(caller)?;
    if total > left {
        caller.set_fuel(0)?;
        return abort(HostAbort::OutOfGas);
    }
    caller.set_fuel(left - total + FUEL_SENTINEL)
}

/// Gas the calling frame has left; out of gas if straight-line code already spent more.
fn left<H>(caller: &C<'_, H>) -> R<Gas> {
    match gas_left(caller.get_fuel()?) {
        Some(left) => Ok(left),
        None => abort(HostAbort::OutOfGas),
    }
}

fn charge_bytes<H>(caller: &mut C<'_, H>, per_byte: Gas, len: usize) -> R<()> {
    charge(caller, GasSchedule::linear(0, per_byte, len))
}

fn host<'a, H>(caller: &'a mut C<'_, H>) -> R<&'a mut H> {
    match caller.data_mut().host.as_deref_mut() {
        Some(host) => Ok(host),
        None => abort(HostAbort::Fatal("transaction context missing".into())),
    }
}

fn mem_range<H>(caller: &C<'_, H>, ptr: i32, len: usize) -> R<std::ops::Range<usize>> {
    let Some(memory) = caller.data().frame.memory else {
        return abort(HostAbort::Trap(TrapKind::HostMemoryAccess));
    };
    let start = ptr as u32 as usize;
    match start.checked_add(len) {
        Some(end) if end <= memory.data_size(caller) => Ok(start..end),
        _ => abort(HostAbort::Trap(TrapKind::HostMemoryAccess)),
    }
}

fn read<H>(caller: &C<'_, H>, ptr: i32, len: usize) -> R<Vec<u8>> {
    let range = mem_range(caller, ptr, len)?;
    let memory = caller.data().frame.memory.ok_or_else(|| wasmtime::Error::msg("no memory"))?;
    Ok(memory.data(caller)[range].to_vec())
}

fn read_array<H, const N: usize>(caller: &C<'_, H>, ptr: i32) -> R<[u8; N]> {
    let range = mem_range(caller, ptr, N)?;
    let memory = caller.data().frame.memory.ok_or_else(|| wasmtime::Error::msg("no memory"))?;
    let mut out = [0u8; N];
    out.copy_from_slice(&memory.data(caller)[range]);
    Ok(out)
}

fn write<H>(caller: &mut C<'_, H>, ptr: i32, bytes: &[u8]) -> R<()> {
    let range = mem_range(caller, ptr, bytes.len())?;
    let memory = caller.data().frame.memory.ok_or_else(|| wasmtime::Error::msg("no memory"))?;
    memory.data_mut(caller)[range].copy_from_slice(bytes);
    Ok(())
}

/// A guest length: negative values are huge, so they fail the limit checks.
fn len(l: i32) -> usize {
    l as u32 as usize
}

/// Links every host function of `weft_types::abi::HOST_FUNCTIONS` into `linker`.
pub fn link<H: Host>(linker: &mut Linker<HostData<H>>) -> R<()> {
    let m = IMPORT_MODULE;
    let base = SCHEDULE.host_base;

    linker.func_wrap(m, "input_len", move |mut c: C<'_, H>| -> R<i32> {
        charge(&mut c, base)?;
        Ok(c.data().frame.input.len() as i32)
    })?;
    linker.func_wrap(m, "input_read", move |mut c: C<'_, H>, out: i32| -> R<()> {
        charge(&mut c, base)?;
        let input = std::mem::take(&mut c.data_mut().frame.input);
        let r =
            charge_bytes(&mut c, SCHEDULE.host_byte, input.len()).and_then(|()| write(&mut c, out, &input));
        c.data_mut().frame.input = input;
        r
    })?;
    linker.func_wrap(m, "set_return", move |mut c: C<'_, H>, ptr: i32, l: i32| -> R<()> {
        charge(&mut c, base)?;
        check_len(l, LimitKind::ReturnData, MAX_RETURN_DATA_BYTES)?;
        charge_bytes(&mut c, SCHEDULE.host_byte + SCHEDULE.return_byte, len(l))?;
        c.data_mut().frame.output = read(&c, ptr, len(l))?;
        Ok(())
    })?;
    linker.func_wrap(m, "revert", move |mut c: C<'_, H>, ptr: i32, l: i32| -> R<()> {
        charge(&mut c, base)?;
        check_len(l, LimitKind::ReturnData, MAX_RETURN_DATA_BYTES)?;
        charge_bytes(&mut c, SCHEDULE.host_byte + SCHEDULE.return_byte, len(l))?;
        abort(HostAbort::Revert(read(&c, ptr, len(l))?))
    })?;
    linker.func_wrap(m, "caller", move |mut c: C<'_, H>, out: i32| -> R<()> {
        charge(&mut c, base + 32 * SCHEDULE.host_byte)?;
        let a = c.data().frame.caller;
        write(&mut c, out, &a.0)
    })?;
    linker.func_wrap(m, "self_address", move |mut c: C<'_, H>, out: i32| -> R<()> {
        charge(&mut c, base + 32 * SCHEDULE.host_byte)?;
        let a = c.data().frame.contract;
        write(&mut c, out, &a.0)
    })?;
    linker.func_wrap(m, "value", move |mut c: C<'_, H>, out: i32| -> R<()> {
        charge(&mut c, base + 16 * SCHEDULE.host_byte)?;
        let v = c.data().frame.value;
        write(&mut c, out, &v.to_le_bytes())
    })?;
    linker.func_wrap(m, "balance", move |mut c: C<'_, H>, addr: i32, out: i32| -> R<()> {
        charge(&mut c, base + SCHEDULE.storage_read)?;
        let who = Address(read_array(&c, addr)?);
        let balance = host(&mut c)?.balance(&who).map_err(state_err)?;
        write(&mut c, out, &balance.to_le_bytes())
    })?;
    linker.func_wrap(
        m,
        "storage_read",
        move |mut c: C<'_, H>, k: i32, kl: i32, out: i32, cap: i32| -> R<i32> {
            charge(&mut c, base + SCHEDULE.storage_read)?;
            check_len(kl, LimitKind::StorageKey, MAX_STORAGE_KEY_BYTES)?;
            let key = read(&c, k, len(kl))?;
            let contract = c.data().frame.contract;
            let value = host(&mut c)?.storage_get(&contract, &key).map_err(state_err)?;
            let Some(value) = value else { return Ok(-1) };
            charge_bytes(&mut c, SCHEDULE.storage_read_byte, value.len())?;
            if value.len() <= len(cap) {
                write(&mut c, out, &value)?;
            }
            Ok(value.len() as i32)
        },
    )?;
    linker.func_wrap(
        m,
        "storage_write",
        move |mut c: C<'_, H>, k: i32, kl: i32, v: i32, vl: i32| -> R<()> {
            charge(&mut c, base + SCHEDULE.storage_write)?;
            check_len(kl, LimitKind::StorageKey, MAX_STORAGE_KEY_BYTES)?;
            check_len(vl, LimitKind::StorageValue, MAX_STORAGE_VALUE_BYTES)?;
            charge_bytes(&mut c, SCHEDULE.storage_write_byte, len(kl) + len(vl))?;
            let key = read(&c, k, len(kl))?;
            let value = read(&c, v, len(vl))?;
            let contract = c.data().frame.contract;
            host(&mut c)?.storage_set(&contract, key, Some(value)).map_err(state_err)?;
            Ok(())
        },
    )?;
    linker.func_wrap(m, "storage_remove", move |mut c: C<'_, H>, k: i32, kl: i32| -> R<i32> {
        charge(&mut c, base + SCHEDULE.storage_remove)?;
        check_len(kl, LimitKind::StorageKey, MAX_STORAGE_KEY_BYTES)?;
        let key = read(&c, k, len(kl))?;
        let contract = c.data().frame.contract;
        Ok(i32::from(host(&mut c)?.storage_set(&contract, key, None).map_err(state_err)?))
    })?;
    linker.func_wrap(m, "emit_event", move |mut c: C<'_, H>, t: i32, tc: i32, d: i32, dl: i32| -> R<()> {
        charge(&mut c, base + SCHEDULE.event_base)?;
        check_len(tc, LimitKind::EventTopics, MAX_EVENT_TOPICS)?;
        check_len(dl, LimitKind::EventData, MAX_EVENT_DATA_BYTES)?;
        let count = host(&mut c)?.event_count();
        if count >= MAX_EVENTS_PER_TX {
            return limit(LimitKind::EventCount, count + 1, MAX_EVENTS_PER_TX);
        }
        charge(&mut c, SCHEDULE.event_topic * len(tc) as u64)?;
        charge_bytes(&mut c, SCHEDULE.event_byte, len(dl))?;
        let raw = read(&c, t, len(tc) * 32)?;
        let topics = raw.chunks_exact(32).map(|ch| Hash(ch.try_into().unwrap_or([0; 32]))).collect();
        let data = read(&c, d, len(dl))?;
        let contract = c.data().frame.contract;
        host(&mut c)?.emit_event(Event { contract, topics, data });
        Ok(())
    })?;
    linker.func_wrap(m, "block_height", move |mut c: C<'_, H>| -> R<i64> {
        charge(&mut c, base)?;
        Ok(host(&mut c)?.block_height() as i64)
    })?;
    linker.func_wrap(m, "block_timestamp", move |mut c: C<'_, H>| -> R<i64> {
        charge(&mut c, base)?;
        Ok(host(&mut c)?.block_timestamp_ms() as i64)
    })?;
    linker.func_wrap(m, "gas_left", move |mut c: C<'_, H>| -> R<i64> {
        charge(&mut c, base)?;
        Ok(left(&c)? as i64)
    })?;
    linker.func_wrap(m, "sha3_256", move |mut c: C<'_, H>, p: i32, l: i32, out: i32| -> R<()> {
        let data = hash_input(&mut c, p, l)?;
        write(&mut c, out, &weft_types::sha3_256(&data).0)
    })?;
    linker.func_wrap(m, "keccak_256", move |mut c: C<'_, H>, p: i32, l: i32, out: i32| -> R<()> {
        let data = hash_input(&mut c, p, l)?;
        write(&mut c, out, &weft_types::keccak_256(&data))
    })?;
    linker.func_wrap(
        m,
        "ed25519_verify",
        move |mut c: C<'_, H>, s: i32, pk: i32, msg: i32, ml: i32| -> R<i32> {
            charge(&mut c, base + SCHEDULE.ed25519_verify)?;
            check_len(ml, LimitKind::HostInput, MAX_VERIFY_MESSAGE_BYTES)?;
            charge_bytes(&mut c, SCHEDULE.ed25519_verify_byte, len(ml))?;
            let sig = Signature(read_array(&c, s)?);
            let key = Address(read_array(&c, pk)?);
            let message = read(&c, msg, len(ml))?;
            Ok(i32::from(verify_strict(&key, &message, &sig).is_ok()))
        },
    )?;
    linker.func_wrap(m, "transfer", move |mut c: C<'_, H>, to: i32, amount: i32| -> R<i32> {
        charge(&mut c, base + SCHEDULE.transfer)?;
        let to = Address(read_array(&c, to)?);
        let amount = u128::from_le_bytes(read_array(&c, amount)?);
        if !host(&mut c)?.account_exists(&to).map_err(state_err)? {
            charge(&mut c, SCHEDULE.new_account)?;
        }
        let from = c.data().frame.contract;
        let result = host(&mut c)?
            .transfer(&from, &to, amount)
            .map_err(|e| wasmtime::Error::new(HostAbort::State(e.to_string())))?;
        Ok(match result {
            Ok(()) => codes::OK,
            Err(ExecError::BalanceOverflow(_)) => codes::BALANCE_OVERFLOW,
            Err(_) => codes::INSUFFICIENT_BALANCE,
        })
    })?;
    linker.func_wrap(
        m,
        "call",
        move |mut c: C<'_, H>, a: i32, mp: i32, ml: i32, ap: i32, al: i32, vp: i32, gas: i64| -> R<i32> {
            cross_call(&mut c, a, mp, ml, ap, al, vp, gas)
        },
    )?;
    linker.func_wrap(m, "last_return_len", move |mut c: C<'_, H>| -> R<i32> {
        charge(&mut c, base)?;
        Ok(c.data().frame.last_return.len() as i32)
    })?;
    linker.func_wrap(m, "last_return_read", move |mut c: C<'_, H>, out: i32| -> R<()> {
        charge(&mut c, base)?;
        let data = std::mem::take(&mut c.data_mut().frame.last_return);
        let r = charge_bytes(&mut c, SCHEDULE.host_byte, data.len()).and_then(|()| write(&mut c, out, &data));
        c.data_mut().frame.last_return = data;
        r
    })?;
    Ok(())
}

fn hash_input<H>(c: &mut C<'_, H>, p: i32, l: i32) -> R<Vec<u8>> {
    charge(c, SCHEDULE.host_base + SCHEDULE.hash_base)?;
    check_len(l, LimitKind::HostInput, MAX_HASH_INPUT_BYTES)?;
    charge_bytes(c, SCHEDULE.hash_byte, len(l))?;
    read(c, p, len(l))
}

#[allow(clippy::too_many_arguments)]
fn cross_call<H: Host>(
    c: &mut C<'_, H>,
    a: i32,
    mp: i32,
    ml: i32,
    ap: i32,
    al: i32,
    vp: i32,
    gas: i64,
) -> R<i32> {
    charge(c, SCHEDULE.host_base)?;
    check_len(al, LimitKind::CallInput, MAX_ARGS_BYTES)?;
    if len(ml) > MAX_METHOD_NAME_BYTES {
        c.data_mut().frame.last_return.clear();
        return Ok(codes::METHOD_NOT_FOUND);
    }
    charge_bytes(c, SCHEDULE.host_byte, 32 + 16 + len(ml) + len(al))?;
    let contract = Address(read_array(c, a)?);
    let method = String::from_utf8_lossy(&read(c, mp, len(ml))?).into_owned();
    let input = read(c, ap, len(al))?;
    let value = u128::from_le_bytes(read_array(c, vp)?);

    let stack_base = match c.get_export(STACK_GLOBAL) {
        Some(Extern::Global(g)) => g.get(&mut *c).i32().unwrap_or(0) as u32,
        _ => 0,
    };
    let available = left(c)?;
    // The caller always keeps 1/64 of its gas, so it can handle a callee that runs out.
    let cap = available - available / 64;
    let given = if gas <= 0 { cap } else { (gas as u64).min(cap) };
    let Some(host) = c.data_mut().host.take() else {
        return abort(HostAbort::Fatal("transaction context missing".into()));
    };
    let req = CallRequest {
        caller: c.data().frame.contract,
        contract,
        method,
        input,
        value,
        gas: given,
        depth: c.data().frame.depth + 1,
        stack_base: stack_base.saturating_add(HOST_CALL_STACK_COST),
        entry: Entry::Method,
    };
    let (host, outcome) = host.call(req).map_err(|e| wasmtime::Error::new(HostAbort::Node(e)))?;
    c.data_mut().host = Some(host);
    c.set_fuel(available - outcome.gas_used.min(available) + FUEL_SENTINEL)?;
    let (code, output) = match outcome.result {
        Ok(out) => (codes::OK, out),
        Err(e) => {
            let code = match &e {
                ExecError::Reverted { .. } => codes::CALLEE_REVERTED,
                ExecError::Trap { .. } => codes::CALLEE_TRAPPED,
                ExecError::OutOfGas => codes::CALLEE_OUT_OF_GAS,
                ExecError::ContractNotFound(_) => codes::NOT_A_CONTRACT,
                ExecError::MethodNotFound { .. } => codes::METHOD_NOT_FOUND,
                ExecError::ReentrancyRefused(_) => codes::REENTRANCY_REFUSED,
                ExecError::LimitExceeded { limit: LimitKind::CallDepth, .. } => codes::CALL_DEPTH,
                ExecError::InsufficientBalance { .. } => codes::INSUFFICIENT_BALANCE,
                ExecError::BalanceOverflow(_) => codes::BALANCE_OVERFLOW,
                _ => codes::CALLEE_FAILED,
            };
            let output = match e {
                ExecError::Reverted { data, .. } => data,
                other => other.encode(),
            };
            (code, output)
        }
    };
    c.data_mut().frame.last_return = output;
    Ok(code)
}
