//! Example contract: hostile. Fixtures that attack the sandbox, each ending in a deterministic
//! failure that the runtime must contain: gas charged, nothing changed. Every fixture first
//! bumps a stored counter and emits an event, so a test can check both were rolled back.
//!
//! | method | attack | expected end |
//! |---|---|---|
//! | `spin` | infinite loop | out of gas |
//! | `memory_bomb` | allocates 1 MiB blocks forever | allocation fails at the 16 MiB memory cap: revert `0x00 ‖ "memory allocation of 1048576 bytes failed"` |
//! | `recurse(depth)` | unbounded recursion | trap `StackLimit` |
//! | `huge_return` | a 64 KiB `Vec<u8>` (65,540 bytes of return data) | `LimitExceeded(ReturnData)` |
//! | `event_flood` | events without end | `LimitExceeded(EventCount)` |
//! | `storage_flood` | 1 KiB values under new keys without end | out of gas |
//! | `storage_fill(count, size)` | `count` values of `size` bytes | succeeds, or (sender too poor for the deposit) `InsufficientDeposit` |
//! | `reenter` | calls its own `bump` | reentrancy refused: `HostileError::CallFailed { code: 7 }` |
//! | `bounce(via)` | `via.call_back(self)` calls back into this contract | inner call refused, outer reverts: `CallFailed { code: 2 }` |
//! | `call_missing(target)` | calls a method `target` lacks | `CallFailed { code: 6 }` |
//!
//! `crunch(rounds)` is not an attack: a bounded CPU-heavy loop (no storage, no events), the
//! compute workload of `weft bench --workload compute`.
#![cfg_attr(target_arch = "wasm32", no_std)]

use weft_contract::limits::MAX_RETURN_DATA_BYTES;
use weft_contract::prelude::*;

/// A cross-contract call made by a fixture failed.
#[derive(Encode, Decode, AbiType, Debug, PartialEq, Eq)]
pub enum HostileError {
    /// The call returned this `abi::codes` result code.
    CallFailed {
        /// The result code.
        code: i32,
    },
}

/// Emitted by every fixture before its attack (and by `event_flood`, until the limit).
#[derive(Event)]
pub struct Noise {
    /// A counter.
    #[indexed]
    pub n: u64,
}

/// The fixture's state.
#[storage]
pub struct Hostile {
    counter: Item<u64>,
    junk: Map<u32, Vec<u8>>,
}

/// Recursion that the optimizer cannot turn into a loop.
#[inline(never)]
fn deep(n: u64) -> u64 {
    if n == 0 {
        return 1;
    }
    deep(n - 1).wrapping_mul(31).wrapping_add(n)
}

#[contract(events = [Noise])]
impl Hostile {
    /// The counter.
    pub fn counter(&self) -> u64 {
        self.counter.get_or_default()
    }

    /// Adds one to the counter (a harmless method, the target of reentrant calls).
    pub fn bump(&mut self) -> u64 {
        let n = self.counter() + 1;
        self.counter.set(&n);
        self.env().emit(Noise { n });
        n
    }

    /// `rounds` passes of xorshift mixing over a 4 KiB buffer: pure computation, bounded by
    /// `rounds` (about 4,600 gas per round).
    pub fn crunch(&self, rounds: u32) -> u64 {
        let mut buf = [0u64; 512];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for r in 0..rounds {
            for slot in buf.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *slot = slot.wrapping_add(x ^ u64::from(r));
            }
            core::hint::black_box(&mut buf);
        }
        buf.iter().fold(0, |acc, v| acc ^ v)
    }

    /// Loops forever.
    pub fn spin(&mut self) {
        let mut i = self.bump();
        loop {
            i = core::hint::black_box(i.wrapping_add(1));
        }
    }

    /// Allocates 1 MiB blocks until the allocator can no longer grow memory.
    pub fn memory_bomb(&mut self) {
        self.bump();
        loop {
            let block: Vec<u8> = Vec::with_capacity(1 << 20);
            core::mem::forget(core::hint::black_box(block));
        }
    }

    /// Recurses `depth` times (use a huge depth).
    pub fn recurse(&mut self, depth: u64) -> u64 {
        self.bump();
        deep(depth)
    }

    /// Returns a `Vec<u8>` of `MAX_RETURN_DATA_BYTES` bytes, whose encoding is 4 bytes over the limit.
    pub fn huge_return(&mut self) -> Vec<u8> {
        self.bump();
        vec![7u8; MAX_RETURN_DATA_BYTES]
    }

    /// Emits events until the per-transaction limit stops it.
    pub fn event_flood(&mut self) {
        let mut n = self.bump();
        loop {
            n += 1;
            self.env().emit(Noise { n });
        }
    }

    /// Writes 1 KiB values under new keys until gas runs out.
    pub fn storage_flood(&mut self) {
        self.bump();
        let value = vec![0xabu8; 1024];
        let mut i = 0u32;
        loop {
            self.junk.insert(&i, &value);
            i = i.wrapping_add(1);
        }
    }

    /// Writes `count` values of `size` bytes (the sender pays their storage deposit).
    pub fn storage_fill(&mut self, count: u32, size: u32) {
        self.bump();
        let value = vec![0xcdu8; size as usize];
        for i in 0..count {
            self.junk.insert(&i, &value);
        }
    }

    /// Calls its own `bump`: a reentrant call, which the runtime refuses.
    pub fn reenter(&mut self) -> Result<u64, HostileError> {
        self.bump();
        let me = self.env().self_address();
        weft_contract::call(&me, "bump", &(), 0, 0).map_err(|e| HostileError::CallFailed { code: e.code })
    }

    /// Asks `via` (another instance of this contract) to call back into this one.
    pub fn bounce(&mut self, via: Address) -> Result<u64, HostileError> {
        self.bump();
        let me = self.env().self_address();
        weft_contract::call(&via, "call_back", &(me,), 0, 0)
            .map_err(|e| HostileError::CallFailed { code: e.code })
    }

    /// Calls `target.bump()`.
    pub fn call_back(&mut self, target: Address) -> Result<u64, HostileError> {
        self.bump();
        weft_contract::call(&target, "bump", &(), 0, 0).map_err(|e| HostileError::CallFailed { code: e.code })
    }

    /// Calls a method that `target` does not have.
    pub fn call_missing(&mut self, target: Address) -> Result<(), HostileError> {
        self.bump();
        weft_contract::call(&target, "no_such_method", &(), 0, 0)
            .map_err(|e| HostileError::CallFailed { code: e.code })
    }
}
