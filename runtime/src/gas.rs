//! The gas schedule (versioned: changing a number is a protocol change) and the per-transaction
//! gas meter. One unit of gas is one unit of the VM's fuel (see `vm`), so instructions and host
//! calls are priced on one scale; roughly one gas per nanosecond of work on the reference machine.

use weft_types::{Amount, Gas};

/// Prices of everything a transaction can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GasSchedule {
    /// Schedule version, recorded so that a change is visible in review and in receipts' gas.
    pub version: u32,
    /// Every transaction: signature check, nonce and fee bookkeeping.
    pub tx_base: Gas,
    /// Per byte of the encoded signed transaction.
    pub tx_byte: Gas,
    /// Per byte of uploaded code: validation, instrumentation and permanent storage, charged
    /// before the code is read. Compiling it is charged on top, by what it contains
    /// ([`GasSchedule::compile`]).
    pub upload_byte: Gas,
    /// Compiling uploaded code: the terms of its compile weight
    /// (`vm::prepare::PreparedCode::compile_weight`), charged after validation and before the
    /// compiler runs.
    pub compile: CompileCosts,
    /// Creating a contract account.
    pub instantiate_base: Gas,
    /// Entering a contract (instantiating its module for one call frame), and the fixed part of
    /// loading a module not in memory (reading and checking its artifact: ~90 µs for the
    /// smallest contracts).
    pub call_base: Gas,
    /// Per byte of a contract's code, paid by every entry into it: its data segments are copied
    /// into the instance's memory (3.3 ns per byte), and a module not yet loaded is read and
    /// checked.
    pub call_code_byte: Gas,
    /// Entering code whose module the block has not loaded yet pays its compile weight divided
    /// by this on top ([`GasSchedule::load`]): loading a compiled module from its artifact
    /// (checksum, deserialization, linking) costs about 1/100 of compiling it (1/25 for the
    /// smallest modules, whose fixed costs dominate, which the compile weight's `module` term
    /// covers). Charged whether the module happens to be in this node's cache or not, so no
    /// charge depends on a cache.
    pub call_load_divisor: Gas,
    /// Bytes of code (as uploaded) a block keeps loaded once entered, in the order first
    /// entered: entering such code again in the same block pays only [`GasSchedule::enter`].
    /// Which code is warm depends only on the block's transactions, so every validator charges
    /// the same; the bound caps the compiled modules a block pins in memory (compiled code is a
    /// few times its wasm size).
    pub warm_code_bytes: u64,
    /// Every host function call.
    pub host_base: Gas,
    /// Per byte a host function copies into or out of guest memory.
    pub host_byte: Gas,
    /// A storage read.
    pub storage_read: Gas,
    /// Per byte of the value read.
    pub storage_read_byte: Gas,
    /// A storage write.
    pub storage_write: Gas,
    /// Per byte of key and value written.
    pub storage_write_byte: Gas,
    /// A storage removal.
    pub storage_remove: Gas,
    /// Emitting an event.
    pub event_base: Gas,
    /// Per event topic.
    pub event_topic: Gas,
    /// Per byte of event data.
    pub event_byte: Gas,
    /// A hash call.
    pub hash_base: Gas,
    /// Per byte hashed.
    pub hash_byte: Gas,
    /// An ed25519 signature verification.
    pub ed25519_verify: Gas,
    /// Per byte of the verified message.
    pub ed25519_verify_byte: Gas,
    /// A native transfer (account reads and writes).
    pub transfer: Gas,
    /// Per 64 KiB page of linear memory an instance starts with or grows to.
    pub memory_page: Gas,
    /// Per byte of return or revert data, which receipts keep forever (on top of `host_byte`).
    pub return_byte: Gas,
    /// A transfer (native or from a contract) to an account that does not exist yet: the new
    /// account record, written into the state and its Merkle tree.
    pub new_account: Gas,
    /// Storage deposit per byte of contract storage (key + value), in the native token.
    pub deposit_per_byte: Amount,
    /// Deposit every account created by a transaction holds for its record (its key and
    /// encoded `Account`, about 120 bytes, at `deposit_per_byte`), in the native token: paid by
    /// the transaction's sender, on top of storage deposits. Accounts in the genesis state hold
    /// none.
    pub account_deposit: Amount,
}

/// What compiling code costs: a module's compile weight is the sum of these over what it
/// defines and every operator of every function body (see `vm::prepare::compile_weight`). Each
/// term is, in gas, about the Cranelift compile time of what it counts on the reference machine
/// (1 gas ≈ 1 ns), measured on modules made of nothing else (`benches/compile.rs`), set so that
/// every family it generates costs at most 2 ns per gas and real contracts about 0.6. Integers
/// only, so the weight is the same on every machine.
///
/// What set them (reference machine, Cranelift of wasmtime 48, fuel on; per operator in
/// functions of 4 KiB, where the square term is small): a defined function 64 µs, a `call`
/// 3.6 µs, a `call_indirect` 16 µs with its index, a `br_if` 10 µs with its condition, an `if`
/// with its `else` and `end` 18 µs, a chain of `i32.const`/`i32.add` 2.8 µs per add, a load
/// 2.4–4 µs, a `br_table` target 0.85 µs, and a fixed 1.7 ms for a 511-byte module. The same
/// code in 128 KiB functions takes 2–15 times longer (a `br_if` 110 µs, a `call_indirect`
/// 145 µs, nested loops 150 µs per operator), which the square term covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompileCosts {
    /// Per module: the engine's fixed work (module environment, linking, serialization).
    pub module: Gas,
    /// Per defined function: its prologue, epilogue, trampolines and per-function passes.
    pub function: Gas,
    /// Per local a function declares (parameters included).
    pub local: Gas,
    /// Per `nop`, `drop`, `local.get`, `local.set`, `local.tee` or integer constant: they only
    /// rename values, and compile to nothing of their own.
    pub plain: Gas,
    /// Per operator not priced elsewhere: integer arithmetic and comparisons, `select`.
    pub op: Gas,
    /// Per `block`, `else`, `end` or `unreachable`: structure, which alone makes no branch.
    pub block: Gas,
    /// Per `if`, `loop`, `br`, `br_if` or `return`: a branch or a loop header, whose edges and
    /// merges the optimizer and the register allocator pay for (deeply nested loops most).
    pub branch: Gas,
    /// Per `br_table`, and per target of it.
    pub br_table: Gas,
    /// Per target of a `br_table`. Cheap when the targets share a label (0.85 µs each), up to
    /// 20 µs each when they spread over many nested labels (every distinct edge is split and
    /// allocated): 60 tables of 2,000 targets over 60 labels took 7.2 s to compile.
    pub br_table_target: Gas,
    /// Per `call`: saving and reloading the fuel counter and the clobbered registers.
    pub call: Gas,
    /// Per `call_indirect`: a `call` plus the table bounds, null and signature checks.
    pub call_indirect: Gas,
    /// Per load or store: the bounds check and the access.
    pub memory: Gas,
    /// Per `memory.grow` or `memory.size` (a call into the runtime).
    pub memory_grow: Gas,
    /// Per integer division or remainder (the zero and overflow traps).
    pub div: Gas,
    /// Per float operator: arithmetic with NaN canonicalization, comparisons, rounding.
    pub float: Gas,
    /// Per conversion that traps or saturates (float to integer) or is lowered to a sequence.
    pub float_conv: Gas,
    /// Per `global.get` or `global.set`.
    pub global: Gas,
    /// A function whose terms above sum to `w` costs `w + w² / superlinear`: register
    /// allocation and the optimizer take time superlinear in a function's size (branches and
    /// calls above all), so a large function costs more than the same code split in small ones.
    pub superlinear: Gas,
}

/// The schedule in force. Every price is the worst case measured on the reference machine (2
/// cores) at ≤ 2 ns per gas, with `benches/adversarial.rs`; docs/performance.md has the table.
pub const SCHEDULE: GasSchedule = GasSchedule {
    // 3: operators weighted (`vm::operator_cost`), storage and memory priced with the state
    // root's work, return data and new accounts priced; 4: uploads priced by compile weight,
    // calls by the code's load cost; 5: code entered again in the same block pays no load, and
    // accounts a transaction creates hold a deposit.
    version: 5,
    tx_base: 20_000,
    tx_byte: 10,
    upload_byte: 200,
    compile: CompileCosts {
        module: 3_000_000,
        function: 60_000,
        local: 50,
        plain: 500,
        op: 6_000,
        block: 1_000,
        branch: 20_000,
        br_table: 20_000,
        br_table_target: 20_000,
        call: 4_500,
        call_indirect: 30_000,
        memory: 6_000,
        memory_grow: 6_000,
        div: 8_000,
        float: 6_000,
        float_conv: 6_000,
        global: 3_000,
        superlinear: 60_000_000,
    },
    instantiate_base: 20_000,
    call_base: 20_000,
    call_code_byte: 4,
    call_load_divisor: 128,
    warm_code_bytes: 4 << 20,
    host_base: 50,
    host_byte: 1,
    storage_read: 2_000,
    storage_read_byte: 2,
    // An insert into a 1M-key state costs 20–24 µs with its share of the state root, an
    // overwrite 24–29 µs, a removal 52–57 µs.
    storage_write: 14_000,
    storage_write_byte: 20,
    storage_remove: 28_000,
    event_base: 1_000,
    event_topic: 500,
    event_byte: 10,
    hash_base: 300,
    hash_byte: 4,
    ed25519_verify: 40_000,
    ed25519_verify_byte: 4,
    transfer: 4_000,
    // A page grown and touched: 21–23 µs (page faults of fresh memory).
    memory_page: 12_000,
    // Returned bytes cost 2.5–3.8 ns each in the receipts root; priced like event data.
    return_byte: 10,
    new_account: 25_000,
    deposit_per_byte: 1_000,
    account_deposit: 120_000,
};

impl GasSchedule {
    /// What entering code of `code_len` bytes and compile weight `compile_weight` costs when the
    /// block has not loaded it yet: entering plus loading its module.
    pub fn load(&self, code_len: usize, compile_weight: u64) -> Gas {
        self.enter(code_len).saturating_add(compile_weight / self.call_load_divisor.max(1))
    }

    /// What entering code of `code_len` bytes costs when the block keeps its module loaded
    /// (see [`GasSchedule::warm_code_bytes`]).
    pub fn enter(&self, code_len: usize) -> Gas {
        Self::linear(self.call_base, self.call_code_byte, code_len)
    }

    /// What uploading code of `code_len` bytes and compile weight `compile_weight` costs.
    pub fn upload(&self, code_len: usize, compile_weight: u64) -> Gas {
        Self::linear(0, self.upload_byte, code_len).saturating_add(compile_weight)
    }

    /// Gas charged before execution, from the encoded size alone.
    pub fn intrinsic(&self, encoded_len: usize) -> Gas {
        self.tx_base.saturating_add(self.tx_byte.saturating_mul(encoded_len as u64))
    }

    /// `base + per_byte × len`, saturating (a saturated charge simply runs out of gas).
    pub fn linear(base: Gas, per_byte: Gas, len: usize) -> Gas {
        base.saturating_add(per_byte.saturating_mul(len as u64))
    }
}

/// Out of gas: the charge was larger than what is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("out of gas")]
pub struct OutOfGas;

/// Gas of one transaction: a limit and what has been used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GasMeter {
    limit: Gas,
    used: Gas,
}

impl GasMeter {
    /// A meter with nothing used.
    pub fn new(limit: Gas) -> Self {
        Self { limit, used: 0 }
    }

    /// Gas left.
    pub fn remaining(&self) -> Gas {
        self.limit - self.used
    }

    /// Gas used so far.
    pub fn used(&self) -> Gas {
        self.used
    }

    /// Charges `amount`; when it does not fit, uses everything and fails.
    pub fn charge(&mut self, amount: Gas) -> Result<(), OutOfGas> {
        if amount > self.remaining() {
            self.used = self.limit;
            return Err(OutOfGas);
        }
        self.used += amount;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_charges_and_exhausts() {
        let mut m = GasMeter::new(100);
        assert_eq!(m.charge(60), Ok(()));
        assert_eq!(m.remaining(), 40);
        assert_eq!(m.charge(41), Err(OutOfGas));
        assert_eq!(m.used(), 100, "a failed charge uses everything, as running out of fuel does");
    }

    #[test]
    fn linear_saturates() {
        assert_eq!(GasSchedule::linear(1, u64::MAX, 2), u64::MAX);
        assert_eq!(SCHEDULE.intrinsic(100), 21_000);
    }
}
