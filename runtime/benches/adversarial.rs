//! The adversarial gas benchmark (issue 15): worst-case contracts, one per category, run through
//! the real runtime (`BlockBuilder` over `MemoryState`, gas metered exactly as blocks meter it),
//! printing each category's nanoseconds per gas and bytes persisted per gas; then a per-operator
//! calibration of the node's engine (ns per wasm operator class), from which the operator cost
//! table of `vm::engine_config` is set.
//!
//! Run: `cargo bench -p weft-runtime --bench adversarial` (everything), or with `-- suite` or
//! `-- ops` for one half (`-- warm`: only the warm-entry rows of the suite). Timing is wall time of `BlockBuilder::push_verified` (execution: the
//! signature was checked at admission, as the node does) and, separately, of
//! `BlockBuilder::finish` (state root and receipts root), so "ns/gas" is execution and
//! "ns/gas+root" adds the block's commit work. Each row is the fastest of `REPS` runs: the
//! machine is shared, and the bound we want is the cost without interference.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::cast_precision_loss)]

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    sync::Arc,
    time::{Duration, Instant},
};

use ed25519_dalek::{Signer, SigningKey};
use parity_scale_codec::Encode;
use weft_runtime::{
    BlockBuilder, Genesis, Runtime, VerifiedTx, state::memory::MemoryState, vm::MemoryArtifacts,
};
use weft_types::{
    Action, Address, Header, MethodName, Receipt, Transaction,
    codec::BoundedBytes,
    limits::{
        MAX_BLOCK_GAS, MAX_CODE_BYTES, MAX_EVENT_DATA_BYTES, MAX_EVENT_TOPICS, MAX_EVENTS_PER_TX,
        MAX_HASH_INPUT_BYTES, MAX_RETURN_DATA_BYTES, MAX_STORAGE_KEY_BYTES, MAX_STORAGE_VALUE_BYTES,
        MAX_TX_GAS, MAX_VERIFY_MESSAGE_BYTES,
    },
    state::storage_key,
    tx::address_of,
};

const CHAIN_ID: u64 = 15;
/// Runs per row; the fastest counts.
const REPS: usize = 3;
/// Keys pre-populated in the large-state contract's storage.
const LARGE_STATE_KEYS: u64 = 1_000_000;

// ---------------------------------------------------------------------------------------------
// The chain: one sender, blocks built and committed exactly as the node builds them.
// ---------------------------------------------------------------------------------------------

struct Chain {
    rt: Runtime,
    /// Where `rt` keeps compiled code, for a restarted runtime to load from.
    artifacts: Arc<MemoryArtifacts>,
    /// Shared with each block's builder only while the block is built, so committing it after
    /// (`Arc::make_mut`) never copies the state.
    state: Arc<MemoryState>,
    head: Header,
    key: SigningKey,
    sender: Address,
    nonce: u64,
}

/// One timed block.
#[derive(Default)]
struct Timed {
    exec: Duration,
    finish: Duration,
    gas: u64,
    receipts: Vec<Receipt>,
    /// Bytes of flat state written (keys + values; a deletion counts its key).
    kv_bytes: u64,
    /// Bytes of Merkle tree nodes written.
    node_bytes: u64,
}

impl Timed {
    /// Return data + event topics and data: what receipts persist beyond their fixed fields.
    fn receipt_bytes(&self) -> u64 {
        self.receipts
            .iter()
            .map(|r| {
                r.return_data.len() as u64
                    + r.events.iter().map(|e| 32 * e.topics.len() as u64 + e.data.len() as u64).sum::<u64>()
            })
            .sum()
    }
}

impl Chain {
    fn new() -> Self {
        let key = SigningKey::from_bytes(&[15; 32]);
        let sender = address_of(&key);
        let artifacts = Arc::new(MemoryArtifacts::default());
        let rt = Runtime::with_artifacts(CHAIN_ID, 1, artifacts.clone()).unwrap();
        let mut state = MemoryState::new();
        let genesis = Genesis { timestamp_ms: 0, balances: vec![(sender, u128::MAX / 4)], validators: None };
        let out = rt.genesis(Arc::new(state.clone()), &genesis).unwrap();
        state.apply(&out.changes);
        Self { rt, artifacts, state: Arc::new(state), head: out.block.header, key, sender, nonce: 0 }
    }

    /// A signed transaction with the next nonce, admitted (decoded, signature checked) as the
    /// mempool admits it. Transactions must then be included in the order they were made.
    fn tx(&mut self, action: Action, gas_limit: u64) -> VerifiedTx {
        let tx = Transaction {
            chain_id: CHAIN_ID,
            sender: self.sender,
            nonce: self.nonce,
            gas_limit,
            gas_price: 1,
            action,
        }
        .sign(&self.key);
        self.nonce += 1;
        self.rt.admit(&tx.encode()).unwrap()
    }

    fn call(&mut self, contract: Address, method: &str, args: Vec<u8>, gas_limit: u64) -> VerifiedTx {
        let action = Action::Call {
            contract,
            method: MethodName::new(method).unwrap(),
            args: BoundedBytes::new(args).unwrap(),
            value: 0,
        };
        self.tx(action, gas_limit)
    }

    /// Builds, times and commits one block of `txs` with the chain's runtime.
    fn block(&mut self, txs: &[VerifiedTx]) -> Timed {
        let rt = self.rt.clone();
        self.block_with(&rt, txs)
    }

    /// [`Self::block`] with another runtime over the same state (a cold in-memory cache).
    fn block_with(&mut self, rt: &Runtime, txs: &[VerifiedTx]) -> Timed {
        let mut t = Timed::default();
        let mut b = BlockBuilder::new(rt, self.state.clone(), &self.head, 0, Address::default());
        for tx in txs {
            let start = Instant::now();
            let r = b.push_verified(tx).unwrap().clone();
            t.exec += start.elapsed();
            t.gas += r.gas_used;
            t.receipts.push(r);
        }
        let start = Instant::now();
        let out = b.finish().unwrap();
        t.finish = start.elapsed();
        t.kv_bytes =
            out.changes.kv.iter().map(|(k, v)| (k.len() + v.as_ref().map_or(0, Vec::len)) as u64).sum();
        t.node_bytes = out.changes.nodes.values().map(|v| v.as_ref().map_or(0, Vec::len) as u64).sum();
        Arc::make_mut(&mut self.state).apply(&out.changes);
        self.head = out.block.header;
        t
    }

    /// Uploads and instantiates `wasm` (untimed) and returns the contract's address.
    fn deploy(&mut self, wasm: Vec<u8>) -> Address {
        let code_hash = weft_types::sha3_256(&wasm);
        let upload = self.tx(Action::UploadCode { code: BoundedBytes::new(wasm).unwrap() }, MAX_TX_GAS);
        let inst = self.tx(
            Action::Instantiate {
                code_hash,
                args: BoundedBytes::new(vec![]).unwrap(),
                value: 0,
                salt: BoundedBytes::new(vec![]).unwrap(),
            },
            MAX_TX_GAS,
        );
        let t = self.block(&[upload, inst]);
        for r in &t.receipts {
            assert!(r.is_success(), "deploy: {:?}", r.status);
        }
        t.receipts[1].contract_address.unwrap()
    }

    /// Writes `count` storage entries of `contract` outside any transaction (key `key32(i)`, an
    /// 8-byte value), committed as one state version, so the contract's storage is large
    /// without a million transactions. The chain's head height follows the tree's version.
    fn populate(&mut self, contract: &Address, count: u64) {
        let kv: BTreeMap<_, _> =
            (0..count).map(|i| (storage_key(contract, &key32(i)), Some(vec![1u8; 8]))).collect();
        let state = Arc::make_mut(&mut self.state);
        let changes = state.commit(kv).unwrap();
        self.head.height = changes.version;
    }
}

/// The 32-byte storage key the kitchen contract writes for counter `i`: `i` little-endian, then
/// zeros (the tree hashes keys, so their layout does not matter for its shape).
fn key32(i: u64) -> Vec<u8> {
    let mut k = vec![0u8; 32];
    k[..8].copy_from_slice(&i.to_le_bytes());
    k
}

fn args(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

// ---------------------------------------------------------------------------------------------
// Contracts.
// ---------------------------------------------------------------------------------------------

/// `depth` i32.loads, each taking its address from the previous one: a dependent chain that
/// costs one operator per load (the cheapest pointer chase wasm can express).
fn load_chain(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "(i32.load ".repeat(depth), ")".repeat(depth))
}

/// One contract with a method per worst case. Every method reads its arguments (u64 words) from
/// the input at address 0 before using memory for anything else.
fn kitchen_wat() -> String {
    let chase = load_chain(16, "(local.get $x)");
    let divu = "local.get $y i64.div_u ".repeat(16);
    let rems = "local.get $y i64.rem_s ".repeat(16);
    format!(
        r#"
(module
  (import "weft" "input_read" (func $iread (param i32)))
  (import "weft" "input_len" (func $ilen (result i32)))
  (import "weft" "set_return" (func $ret (param i32 i32)))
  (import "weft" "storage_read" (func $sread (param i32 i32 i32 i32) (result i32)))
  (import "weft" "storage_write" (func $swrite (param i32 i32 i32 i32)))
  (import "weft" "storage_remove" (func $sremove (param i32 i32) (result i32)))
  (import "weft" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (import "weft" "sha3_256" (func $sha3 (param i32 i32 i32)))
  (import "weft" "ed25519_verify" (func $verify (param i32 i32 i32 i32) (result i32)))
  (import "weft" "call" (func $call (param i32 i32 i32 i32 i32 i32 i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 60000) "m")
  (func $arg (param $k i32) (result i64) (i64.load (i32.shl (local.get $k) (i32.const 3))))

  ;; chase(slots, rounds, sequential): grows memory to the maximum, fills `slots` (a power of
  ;; two) i32 slots from address 0 with a single cycle (slot i holds the byte address of
  ;; slot (a*i + c) mod slots, a full-period LCG; or of i+1 when sequential), then follows it
  ;; for rounds x 16 dependent loads.
  (func (export "chase") (local $n i32) (local $s i64) (local $seq i32) (local $i i32) (local $x i32) (local $mask i32)
    (call $iread (i32.const 0))
    (local.set $n (i32.wrap_i64 (call $arg (i32.const 0))))
    (local.set $s (call $arg (i32.const 1)))
    (local.set $seq (i32.wrap_i64 (call $arg (i32.const 2))))
    (drop (memory.grow (i32.const 15)))
    (local.set $mask (i32.sub (local.get $n) (i32.const 1)))
    (loop $b
      (i32.store (i32.shl (local.get $i) (i32.const 2))
        (i32.shl
          (i32.and
            (if (result i32) (local.get $seq)
              (then (i32.add (local.get $i) (i32.const 1)))
              (else (i32.add (i32.mul (local.get $i) (i32.const 1103515245)) (i32.const 12345))))
            (local.get $mask))
          (i32.const 2)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $b (i32.lt_u (local.get $i) (local.get $n))))
    (block $d (loop $l
      (br_if $d (i64.eqz (local.get $s)))
      (local.set $x {chase})
      (local.set $s (i64.sub (local.get $s) (i64.const 1)))
      (br $l)))
    (i32.store (i32.const 0) (local.get $x))
    (call $ret (i32.const 0) (i32.const 4)))

  ;; divu(rounds, y): x := x / y, 16 dependent i64.div_u per round (y = 1 keeps the quotient
  ;; at 64 bits: the slowest case of variable-latency dividers). Two operators per division.
  (func (export "divu") (local $n i64) (local $x i64) (local $y i64)
    (call $iread (i32.const 0))
    (local.set $n (call $arg (i32.const 0)))
    (local.set $y (call $arg (i32.const 1)))
    (local.set $x (i64.const -1))
    (loop $l
      local.get $x {divu} local.set $x
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0))))
    (i64.store (i32.const 0) (local.get $x))
    (call $ret (i32.const 0) (i32.const 8)))

  ;; rems(rounds, y): x := x rem_s y, 16 dependent per round (y = i64::MIN leaves x unchanged).
  (func (export "rems") (local $n i64) (local $x i64) (local $y i64)
    (call $iread (i32.const 0))
    (local.set $n (call $arg (i32.const 0)))
    (local.set $y (call $arg (i32.const 1)))
    (local.set $x (i64.const 0x7fffffffffffffff))
    (loop $l
      local.get $x {rems} local.set $x
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $l (i64.ne (local.get $n) (i64.const 0))))
    (i64.store (i32.const 0) (local.get $x))
    (call $ret (i32.const 0) (i32.const 8)))

  ;; grow(): memory.grow by one page until refused, storing to every 4 KiB of each new page.
  (func (export "grow") (local $p i32) (local $a i32) (local $end i32)
    (block $full (loop $g
      (local.set $p (memory.grow (i32.const 1)))
      (br_if $full (i32.lt_s (local.get $p) (i32.const 0)))
      (local.set $a (i32.shl (local.get $p) (i32.const 16)))
      (local.set $end (i32.add (local.get $a) (i32.const 65536)))
      (loop $t
        (i32.store (local.get $a) (local.get $a))
        (local.set $a (i32.add (local.get $a) (i32.const 4096)))
        (br_if $t (i32.lt_u (local.get $a) (local.get $end))))
      (br $g))))

  ;; sha3(n, len): hashes [0, len) n times.
  (func (export "sha3") (local $n i64) (local $l i32)
    (call $iread (i32.const 0))
    (local.set $n (call $arg (i32.const 0)))
    (local.set $l (i32.wrap_i64 (call $arg (i32.const 1))))
    (drop (memory.grow (i32.const 4)))
    (loop $h
      (call $sha3 (i32.const 0) (local.get $l) (i32.const 0))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $h (i64.ne (local.get $n) (i64.const 0)))))

  ;; verify(sig[64], pk[32], n, len): verifies sig over the `len` zero bytes at 65536, n times;
  ;; returns how many verified.
  (func (export "verify") (local $n i64) (local $l i32) (local $ok i32)
    (call $iread (i32.const 0))
    (local.set $n (i64.load (i32.const 96)))
    (local.set $l (i32.wrap_i64 (i64.load (i32.const 104))))
    (drop (memory.grow (i32.const 1)))
    (loop $v
      (local.set $ok (i32.add (local.get $ok)
        (call $verify (i32.const 0) (i32.const 64) (i32.const 65536) (local.get $l))))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $v (i64.ne (local.get $n) (i64.const 0))))
    (i32.store (i32.const 200) (local.get $ok))
    (call $ret (i32.const 200) (i32.const 4)))

  ;; swrite(n, key_len, value_len, start, stride): n writes of a value_len value (zeros) under
  ;; the key_len key whose first 8 bytes are start + i * stride.
  (func (export "swrite") (local $n i64) (local $kl i32) (local $vl i32) (local $k i64) (local $st i64)
    (call $iread (i32.const 0))
    (local.set $n (call $arg (i32.const 0)))
    (local.set $kl (i32.wrap_i64 (call $arg (i32.const 1))))
    (local.set $vl (i32.wrap_i64 (call $arg (i32.const 2))))
    (local.set $k (call $arg (i32.const 3)))
    (local.set $st (call $arg (i32.const 4)))
    (loop $w
      (i64.store (i32.const 2048) (local.get $k))
      (call $swrite (i32.const 2048) (local.get $kl) (i32.const 4096) (local.get $vl))
      (local.set $k (i64.add (local.get $k) (local.get $st)))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $w (i64.ne (local.get $n) (i64.const 0)))))

  ;; sread(n, key_len, start, stride): n reads (into a 16 KiB buffer) of the keys swrite writes.
  (func (export "sread") (local $n i64) (local $kl i32) (local $k i64) (local $st i64)
    (call $iread (i32.const 0))
    (local.set $n (call $arg (i32.const 0)))
    (local.set $kl (i32.wrap_i64 (call $arg (i32.const 1))))
    (local.set $k (call $arg (i32.const 2)))
    (local.set $st (call $arg (i32.const 3)))
    (loop $r
      (i64.store (i32.const 2048) (local.get $k))
      (drop (call $sread (i32.const 2048) (local.get $kl) (i32.const 4096) (i32.const 16384)))
      (local.set $k (i64.add (local.get $k) (local.get $st)))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $r (i64.ne (local.get $n) (i64.const 0)))))

  ;; sremove(n, key_len, start, stride): n removals of the keys swrite writes.
  (func (export "sremove") (local $n i64) (local $kl i32) (local $k i64) (local $st i64)
    (call $iread (i32.const 0))
    (local.set $n (call $arg (i32.const 0)))
    (local.set $kl (i32.wrap_i64 (call $arg (i32.const 1))))
    (local.set $k (call $arg (i32.const 2)))
    (local.set $st (call $arg (i32.const 3)))
    (loop $r
      (i64.store (i32.const 2048) (local.get $k))
      (drop (call $sremove (i32.const 2048) (local.get $kl)))
      (local.set $k (i64.add (local.get $k) (local.get $st)))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $r (i64.ne (local.get $n) (i64.const 0)))))

  ;; events(n, topics, data_len): n events, topics from address 0, data from 4096.
  (func (export "events") (local $n i64) (local $tc i32) (local $dl i32)
    (call $iread (i32.const 0))
    (local.set $n (call $arg (i32.const 0)))
    (local.set $tc (i32.wrap_i64 (call $arg (i32.const 1))))
    (local.set $dl (i32.wrap_i64 (call $arg (i32.const 2))))
    (loop $e
      (call $emit (i32.const 0) (local.get $tc) (i32.const 4096) (local.get $dl))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $e (i64.ne (local.get $n) (i64.const 0)))))

  ;; ret(n, len): sets the return data to [0, len) n times (only the last one is kept).
  (func (export "ret") (local $n i64) (local $l i32)
    (call $iread (i32.const 0))
    (local.set $n (call $arg (i32.const 0)))
    (local.set $l (i32.wrap_i64 (call $arg (i32.const 1))))
    (loop $e
      (call $ret (i32.const 0) (local.get $l))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br_if $e (i64.ne (local.get $n) (i64.const 0)))))

  ;; fanout(addresses): calls method "m" of each 32-byte address of the input, all gas allowed.
  (func (export "fanout") (local $a i32) (local $end i32)
    (local.set $end (call $ilen))
    (call $iread (i32.const 0))
    (block $d (loop $c
      (br_if $d (i32.ge_u (local.get $a) (local.get $end)))
      (drop (call $call (local.get $a) (i32.const 60000) (i32.const 1) (i32.const 0) (i32.const 0)
        (i32.const 60016) (i64.const 0)))
      (local.set $a (i32.add (local.get $a) (i32.const 32)))
      (br $c))))
)"#
    )
}

/// Category 4, warm: code a block has entered before pays only `GasSchedule::enter`
/// (instantiating, data segments copied in, the call), so the modules dearest to instantiate for
/// their size, each entered 2,048 times by each of 10 transactions of one block.
fn warm_rows(chain: &mut Chain, kitchen: Address, rows: &mut Table) {
    for (label, wasm) in warm_modules() {
        let callee = chain.deploy(wasm);
        let direct = chain.call(callee, "m", vec![], MAX_TX_GAS);
        let direct = chain.block(&[direct]).receipts.remove(0);
        assert!(direct.is_success(), "the callee runs");
        // More than a warm entry costs: a whole transaction, its load included.
        let enter = direct.gas_used;
        // As many entries as a transaction pays for (at most 1,800: `fanout` reads its input to
        // address 0 and keeps the method name at 60,000), in as many transactions as the block
        // holds (at most 10).
        let per_tx = 1800.min((MAX_TX_GAS * 9 / 10 / enter) as usize);
        let txs = 10.min(MAX_BLOCK_GAS * 9 / 10 / (per_tx as u64 * enter)) as usize;
        let input = callee.0.repeat(per_tx);
        let t = best(|_| {
            let txs: Vec<_> =
                (0..txs).map(|_| chain.call(kitchen, "fanout", input.clone(), MAX_TX_GAS)).collect();
            chain.block(&txs)
        });
        let entries = txs * per_tx;
        let us = t.exec.as_secs_f64() * 1e6 / entries as f64;
        rows.push(Row::from(
            &format!("4. enter a warm module x{entries} ({label})"),
            &t,
            format!("{us:.2} us/entry"),
        ));
    }
}

/// Modules that cost the most to instantiate for what entering them costs: the smallest
/// (entering is all fixed cost), and two at the code size limit made of what instantiation
/// initializes (data segments, a full table, globals) rather than of code: one with its data
/// packed, which the engine maps as a copy-on-write image, and one with its data spread over the
/// largest memory, which it may copy in at every instantiation instead.
fn warm_modules() -> Vec<(&'static str, Vec<u8>)> {
    let empty = r#"(module (memory (export "memory") 1) (func (export "m")))"#.to_owned();
    let full = |pages: u64, stride: u64| {
        let mut w = format!("(module (memory (export \"memory\") {pages})\n");
        for i in 0..96 {
            let _ = writeln!(w, "(data (i32.const {}) \"{}\")", i * stride, "\\ff".repeat(2500));
        }
        w.push_str("(table 4096 funcref) (elem (i32.const 0)");
        w.push_str(&" $f".repeat(4096));
        w.push_str(")\n");
        for i in 0..128 {
            let _ = write!(w, "(global (mut i64) (i64.const {i}))");
        }
        w.push_str("(func $f) (func (export \"m\")))");
        wat::parse_str(w).unwrap()
    };
    vec![
        ("empty", wat::parse_str(empty).unwrap()),
        ("240 KB data packed, 4096 table elements, 128 globals", full(4, 2600)),
        ("240 KB data spread over 1 MiB, 4096 table elements, 128 globals", full(16, 10_900)),
    ]
}

/// A tiny xorshift, for the deterministic "random" shapes of the generated modules.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Shapes of large modules, each made as compile-expensive per byte as we found.
#[derive(Clone, Copy, Debug)]
enum BigModule {
    /// Function bodies of nothing but `call $empty` (2 bytes each; every call is instrumented).
    Calls,
    /// `MAX_FUNCTIONS` small functions of i64 arithmetic.
    ManyFunctions,
    /// 60 nested blocks and a 2048-target `br_table` after each block's end.
    BrTables,
    /// Functions of 512 i64 locals combined at random (register pressure).
    Locals,
}

impl BigModule {
    const ALL: [BigModule; 4] =
        [BigModule::Calls, BigModule::ManyFunctions, BigModule::BrTables, BigModule::Locals];

    fn name(self) -> &'static str {
        match self {
            BigModule::Calls => "256 KiB of `call`",
            BigModule::ManyFunctions => "2048 functions",
            BigModule::BrTables => "br_table x 2048 targets",
            BigModule::Locals => "512 locals, random mix",
        }
    }

    /// The module's WAT with `units` of its repeated piece, made unique by `salt`. It exports
    /// memory and a method `m` that runs all of it once.
    fn wat(self, units: usize, salt: u64) -> String {
        let mut w = format!("(module (memory (export \"memory\") 1) (data (i32.const 0) \"{salt:016x}\")\n");
        match self {
            BigModule::Calls => {
                // Bodies stay under MAX_FUNCTION_BODY_BYTES (128 KiB).
                let funcs = 4;
                w.push_str("(func $e)\n");
                for _ in 0..funcs {
                    w.push_str("(func ");
                    w.push_str(&"call 0 ".repeat(units / funcs));
                    w.push_str(")\n");
                }
                w.push_str("(func (export \"m\")");
                for f in 0..funcs {
                    let _ = write!(w, " call {}", f + 1);
                }
                w.push_str("))");
            }
            BigModule::ManyFunctions => {
                let funcs = 2047;
                let per = units / funcs;
                let mut rng = Rng(salt | 1);
                for _ in 0..funcs {
                    w.push_str("(func (param i64 i64 i64 i64) (result i64)");
                    for _ in 0..per {
                        let (a, b, c) = (rng.next() % 4, rng.next() % 4, rng.next() % 4);
                        let op = ["i64.add", "i64.mul", "i64.xor", "i64.sub"][(rng.next() % 4) as usize];
                        let _ = write!(w, " local.get {a} local.get {b} {op} local.set {c}");
                    }
                    w.push_str(" local.get 0)\n");
                }
                w.push_str("(func (export \"m\") (drop (call 0 (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4))))");
                w.push(')');
            }
            BigModule::BrTables => {
                // Targets under 64 labels are one byte each: 2000 targets is ~2 KiB a table, so
                // 3 functions of up to 60 tables stay under MAX_FUNCTION_BODY_BYTES.
                let funcs = 3;
                let targets = 2000;
                let depth = (units / (funcs * targets)).clamp(1, 60);
                for _ in 0..funcs {
                    w.push_str("(func (param i32)");
                    w.push_str(&"block ".repeat(depth));
                    for d in 0..depth {
                        // Inside `depth - d` blocks: targets cycle over those labels.
                        let labels = depth - d;
                        w.push_str(" local.get 0 br_table");
                        for t in 0..targets {
                            let _ = write!(w, " {}", t % labels);
                        }
                        w.push_str(" 0 end");
                    }
                    w.push_str(")\n");
                }
                w.push_str("(func (export \"m\") (call 0 (i32.const 1)) (call 1 (i32.const 2)) (call 2 (i32.const 3))))");
            }
            BigModule::Locals => {
                // ~10 bytes a statement: 3 functions keep each body under 128 KiB.
                let funcs = 3;
                let mut rng = Rng(salt | 1);
                for _ in 0..funcs {
                    w.push_str("(func (result i64) (local");
                    w.push_str(&" i64".repeat(512));
                    w.push(')');
                    for i in 0..512 {
                        let _ = write!(w, " i64.const {} local.set {i}", rng.next() >> 1);
                    }
                    for _ in 0..units / funcs {
                        let (a, b, c) = (rng.next() % 512, rng.next() % 512, rng.next() % 512);
                        let op = ["i64.add", "i64.mul", "i64.xor", "i64.sub"][(rng.next() % 4) as usize];
                        let _ = write!(w, " local.get {a} local.get {b} {op} local.set {c}");
                    }
                    w.push_str(" local.get 0");
                    for i in 1..512 {
                        let _ = write!(w, " local.get {i} i64.add");
                    }
                    w.push_str(")\n");
                }
                w.push_str("(func (export \"m\") (drop (call 0)) (drop (call 1)) (drop (call 2))))");
            }
        }
        w
    }

    /// The largest module of this shape within `max` bytes (scaling its units until it fits;
    /// the smallest one it makes when none fits).
    fn build(self, max: usize, salt: u64) -> Vec<u8> {
        let mut units = 1000;
        let mut best = wat::parse_str(self.wat(units, salt)).unwrap();
        for _ in 0..6 {
            let per_unit = best.len() as f64 / units as f64;
            units = ((max as f64 * 0.995) / per_unit) as usize;
            let wasm = wat::parse_str(self.wat(units, salt)).unwrap();
            if wasm.len() <= max {
                best = wasm;
                if best.len() as f64 > max as f64 * 0.98 {
                    break;
                }
            } else {
                units = units * 97 / 100;
                best = wat::parse_str(self.wat(units, salt)).unwrap();
            }
        }
        best
    }
}

// ---------------------------------------------------------------------------------------------
// The suite.
// ---------------------------------------------------------------------------------------------

/// One row of the table.
struct Row {
    category: String,
    gas: u64,
    exec: Duration,
    finish: Duration,
    persisted: u64,
    nodes: u64,
    note: String,
}

impl Row {
    fn from(category: &str, t: &Timed, note: impl Into<String>) -> Self {
        Row {
            category: category.into(),
            gas: t.gas,
            exec: t.exec,
            finish: t.finish,
            persisted: t.receipt_bytes() + t.kv_bytes,
            nodes: t.node_bytes,
            note: note.into(),
        }
    }

    /// `a - b`: the marginal cost of what `a` does beyond `b`.
    fn marginal(category: &str, a: &Timed, b: &Timed, note: impl Into<String>) -> Self {
        Row {
            category: category.into(),
            gas: a.gas - b.gas,
            exec: a.exec.saturating_sub(b.exec),
            finish: a.finish.saturating_sub(b.finish),
            persisted: (a.receipt_bytes() + a.kv_bytes).saturating_sub(b.receipt_bytes() + b.kv_bytes),
            nodes: a.node_bytes.saturating_sub(b.node_bytes),
            note: note.into(),
        }
    }

    fn ns_per_gas(&self) -> f64 {
        self.exec.as_nanos() as f64 / self.gas.max(1) as f64
    }
}

/// The table, printed row by row as the suite produces it.
struct Table(Vec<Row>);

impl Table {
    fn new() -> Self {
        println!(
            "\n| category | gas | exec ms | ns/gas | root ms | ns/gas+root | persisted B | B/gas | tree B | note |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        Table(Vec::new())
    }

    fn push(&mut self, r: Row) {
        let total = (r.exec + r.finish).as_nanos() as f64 / r.gas.max(1) as f64;
        println!(
            "| {} | {} | {:.1} | {:.3} | {:.1} | {:.3} | {} | {:.4} | {} | {} |",
            r.category,
            r.gas,
            r.exec.as_secs_f64() * 1e3,
            r.ns_per_gas(),
            r.finish.as_secs_f64() * 1e3,
            total,
            r.persisted,
            r.persisted as f64 / r.gas.max(1) as f64,
            r.nodes,
            r.note
        );
        self.0.push(r);
    }
}

/// Runs `make` `REPS` times (each builds and times its own blocks) and keeps the fastest.
fn best(make: impl FnMut(usize) -> Timed) -> Timed {
    best_of(REPS, make)
}

/// [`best`] of `reps` runs, for rows whose single run takes seconds.
fn best_of(reps: usize, mut make: impl FnMut(usize) -> Timed) -> Timed {
    let mut best: Option<Timed> = None;
    for rep in 0..reps {
        let t = make(rep);
        for r in &t.receipts {
            assert!(r.is_success(), "{:?}", r.status);
        }
        if best.as_ref().is_none_or(|b| t.exec < b.exec) {
            best = Some(t);
        }
    }
    best.unwrap()
}

fn suite() -> Table {
    let mut rows = Table::new();
    let mut chain = Chain::new();
    let kitchen = chain.deploy(wat::parse_str(kitchen_wat()).unwrap());
    let g = MAX_TX_GAS;

    // Typical: token transfers, 200 in a block.
    let token_code =
        wat::parse_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../contracts/wat/token.wat")).unwrap();
    let token = {
        let code_hash = weft_types::sha3_256(&token_code);
        let up = chain.tx(Action::UploadCode { code: BoundedBytes::new(token_code).unwrap() }, g);
        let inst = chain.tx(
            Action::Instantiate {
                code_hash,
                args: BoundedBytes::new(u64::MAX.to_le_bytes().to_vec()).unwrap(),
                value: 0,
                salt: BoundedBytes::new(vec![]).unwrap(),
            },
            g,
        );
        chain.block(&[up, inst]).receipts[1].contract_address.unwrap()
    };
    let t = best(|rep| {
        let txs: Vec<_> = (0..200u64)
            .map(|i| {
                let mut input = key32(1000 * rep as u64 + i);
                input.extend_from_slice(&1u64.to_le_bytes());
                chain.call(token, "transfer", input, 1_000_000)
            })
            .collect();
        chain.block(&txs)
    });
    rows.push(Row::from("typical: token transfer x200", &t, "signature checked at admission"));

    // 1. Pointer chasing over the maximal memory.
    let chase_base = best(|_| {
        let tx = chain.call(kitchen, "chase", args(&[1 << 18, 0, 0]), g);
        chain.block(&[tx])
    });
    rows.push(Row::from(
        "1. grow to 1 MiB (the maximum) + build 256K-slot cycle",
        &chase_base,
        "the chase's setup",
    ));
    for (label, slots, seq, rounds) in [
        ("1. chase random 1 MiB (the maximum)", 1u64 << 18, 0u64, 400_000u64),
        ("1. chase random 256 KiB", 1 << 16, 0, 400_000),
        ("1. chase random 64 KiB", 1 << 14, 0, 400_000),
        ("1. chase sequential 1 MiB", 1 << 18, 1, 400_000),
    ] {
        let base = best(|_| {
            let tx = chain.call(kitchen, "chase", args(&[slots, 0, seq]), g);
            chain.block(&[tx])
        });
        let t = best(|_| {
            let tx = chain.call(kitchen, "chase", args(&[slots, rounds, seq]), g);
            chain.block(&[tx])
        });
        let loads = rounds * 16;
        let ns_per_load = t.exec.saturating_sub(base.exec).as_nanos() as f64 / loads as f64;
        rows.push(Row::marginal(label, &t, &base, format!("marginal over setup; {ns_per_load:.2} ns/load")));
    }

    // 2. Division chains.
    for (label, method, y) in
        [("2. i64.div_u chain (y=1)", "divu", 1u64), ("2. i64.rem_s chain (y=MIN)", "rems", 1 << 63)]
    {
        let t = best(|_| {
            let tx = chain.call(kitchen, method, args(&[2_000_000, y]), g);
            chain.block(&[tx])
        });
        let ns = t.exec.as_nanos() as f64 / (32e6);
        rows.push(Row::from(label, &t, format!("{ns:.2} ns/division")));
    }

    // 3. Memory growth to the maximum, touching every 4 KiB: 50 transactions.
    let t = best(|_| {
        let txs: Vec<_> = (0..50).map(|_| chain.call(kitchen, "grow", vec![], 10_000_000)).collect();
        chain.block(&txs)
    });
    let per = t.exec.as_secs_f64() * 1e6 / 50.0;
    rows.push(Row::from(
        "3. memory.grow to the maximum + touch 4 KiB pages (x50 tx)",
        &t,
        format!("{per:.0} us/tx"),
    ));

    // 8. Uploads of the largest, most compile-expensive modules (before 4, which reuses the
    // worst shape), each as large as an upload may be: at most `MAX_CODE_BYTES`, and at most
    // what `MAX_TX_GAS` pays to compile (larger ones are refused by validation). Each upload is
    // new code (salted), so nothing is cached.
    let mut worst = (BigModule::Calls, 0.0, MAX_CODE_BYTES);
    let mut salt = 0;
    for shape in BigModule::ALL {
        let size = largest_uploadable(shape);
        // One run: the worst shapes take seconds to compile.
        let mut prepare_ms = 0.0;
        let t = best_of(1, |_| {
            salt += 1;
            let wasm = shape.build(size, salt);
            let start = Instant::now();
            weft_runtime::vm::prepare::prepare(&wasm).unwrap();
            prepare_ms = start.elapsed().as_secs_f64() * 1e3;
            let tx = chain.tx(Action::UploadCode { code: BoundedBytes::new(wasm).unwrap() }, g);
            chain.block(&[tx])
        });
        let note = format!("{size} B; of which validate + instrument {prepare_ms:.1} ms, the rest compiles");
        let row = Row::from(&format!("8. upload {}", shape.name()), &t, note);
        if row.ns_per_gas() > worst.1 {
            worst = (shape, row.ns_per_gas(), size);
        }
        rows.push(row);
    }

    // 4. Calls to distinct cold modules, each of the worst shape above (2 of them: each costs
    // the seconds its upload did).
    let callees: Vec<Address> = (0..2)
        .map(|_| {
            salt += 1;
            chain.deploy(worst.0.build(worst.2, salt))
        })
        .collect();
    let input: Vec<u8> = callees.iter().flat_map(|a| a.0).collect();
    let t = best_of(1, |_| {
        // A restarted node: nothing in memory, the compiled artifacts kept (as on disk).
        let cold = Runtime::with_artifacts(CHAIN_ID, 1, chain.artifacts.clone()).unwrap();
        // The fan-out contract itself is compiled before timing, as a hot contract would be.
        let warm = chain.call(kitchen, "ret", args(&[1, 0]), g);
        let _ = chain.block_with(&cold, &[warm]);
        let tx = chain.call(kitchen, "fanout", input.clone(), g);
        chain.block_with(&cold, &[tx])
    });
    rows.push(Row::from(
        &format!("4. call 2 cold modules ({})", worst.0.name()),
        &t,
        "restarted Runtime: loaded from artifacts",
    ));
    let t = best(|_| {
        let tx = chain.call(kitchen, "fanout", input.clone(), g);
        chain.block(&[tx])
    });
    rows.push(Row::from("4. same calls, modules cached", &t, "for comparison"));

    warm_rows(&mut chain, kitchen, &mut rows);

    // 5. Host calls with maximal inputs.
    let t = best(|_| {
        let tx = chain.call(kitchen, "sha3", args(&[200, MAX_HASH_INPUT_BYTES as u64]), g);
        chain.block(&[tx])
    });
    let us = t.exec.as_secs_f64() * 1e6 / 200.0;
    rows.push(Row::from("5. sha3_256 of 256 KiB x200", &t, format!("{us:.0} us/call")));
    let t = best(|_| {
        let tx = chain.call(kitchen, "sha3", args(&[20_000, 32]), g);
        chain.block(&[tx])
    });
    let us = t.exec.as_secs_f64() * 1e6 / 20_000.0;
    rows.push(Row::from("5. sha3_256 of 32 B x20000", &t, format!("{us:.2} us/call")));
    for (label, len, n) in [
        ("5. ed25519_verify 64 KiB msg x300", MAX_VERIFY_MESSAGE_BYTES, 300u64),
        ("5. ed25519_verify 32 B msg x2000", 32, 2000),
    ] {
        let signer = SigningKey::from_bytes(&[3; 32]);
        let sig = signer.sign(&vec![0u8; len]);
        let mut input = sig.to_bytes().to_vec();
        input.extend_from_slice(&signer.verifying_key().to_bytes());
        input.extend_from_slice(&args(&[n, len as u64]));
        let t = best(|_| {
            let tx = chain.call(kitchen, "verify", input.clone(), g);
            chain.block(&[tx])
        });
        assert_eq!(t.receipts[0].return_data, (n as u32).to_le_bytes(), "every signature verifies");
        let us = t.exec.as_secs_f64() * 1e6 / n as f64;
        rows.push(Row::from(label, &t, format!("{us:.1} us/call")));
    }
    let (kmax, vmax) = (MAX_STORAGE_KEY_BYTES as u64, MAX_STORAGE_VALUE_BYTES as u64);
    let mut next_key = 1u64 << 40;
    let t = best(|_| {
        next_key += 1 << 20;
        let tx = chain.call(kitchen, "swrite", args(&[1000, kmax, vmax, next_key, 1]), g);
        chain.block(&[tx])
    });
    let us = (t.exec + t.finish).as_secs_f64() * 1e6 / 1000.0;
    rows.push(Row::from(
        "5. storage_write 128 B key + 16 KiB value, new x1000",
        &t,
        format!("{us:.1} us/write incl. root"),
    ));
    let t = best(|_| {
        let tx = chain.call(kitchen, "swrite", args(&[1000, kmax, vmax, next_key, 0]), g);
        chain.block(&[tx])
    });
    rows.push(Row::from("5. storage_write 128 B + 16 KiB, same key x1000", &t, "one entry persisted"));
    let t = best(|_| {
        let tx = chain.call(kitchen, "sread", args(&[10_000, kmax, next_key, 0]), g);
        chain.block(&[tx])
    });
    let us = t.exec.as_secs_f64() * 1e6 / 10_000.0;
    rows.push(Row::from("5. storage_read 16 KiB value x10000 (committed)", &t, format!("{us:.2} us/read")));
    let t = best(|_| {
        let tx = chain.call(kitchen, "sread", args(&[20_000, 32, 1 << 50, 1]), g);
        chain.block(&[tx])
    });
    let us = t.exec.as_secs_f64() * 1e6 / 20_000.0;
    rows.push(Row::from("5. storage_read absent 32 B keys x20000", &t, format!("{us:.2} us/read")));

    // 6. Storage writes and deletions in a large state.
    let big = chain.deploy(
        wat::parse_str(kitchen_wat().replace(
            "(data (i32.const 60000) \"m\")",
            "(data (i32.const 60000) \"m\") (data (i32.const 60100) \"big\")",
        ))
        .unwrap(),
    );
    let start = Instant::now();
    chain.populate(&big, LARGE_STATE_KEYS);
    println!("(populated {LARGE_STATE_KEYS} keys in {:.1} s)", start.elapsed().as_secs_f64());
    let n = 20_000u64;
    let mut fresh = 1u64 << 32;
    let t = best(|_| {
        fresh += n;
        let tx = chain.call(big, "swrite", args(&[n, 32, 8, fresh, 1]), g);
        chain.block(&[tx])
    });
    let us = (t.exec + t.finish).as_secs_f64() * 1e6 / n as f64;
    rows.push(Row::from(
        "6. 1M-key state: insert 32 B key + 8 B x20000",
        &t,
        format!("{us:.1} us/write incl. root"),
    ));
    let mut existing = 0u64;
    let t = best(|_| {
        existing += n;
        let tx = chain.call(big, "swrite", args(&[n, 32, 8, existing, 1]), g);
        chain.block(&[tx])
    });
    let us = (t.exec + t.finish).as_secs_f64() * 1e6 / n as f64;
    rows.push(Row::from("6. 1M-key state: overwrite x20000", &t, format!("{us:.1} us/write incl. root")));
    // Half as many removals: they cost twice a write's gas, and one transaction holds 500M.
    let t = best(|_| {
        existing += n;
        let tx = chain.call(big, "sremove", args(&[n / 2, 32, existing, 1]), g);
        chain.block(&[tx])
    });
    let us = (t.exec + t.finish).as_secs_f64() * 1e6 / (n / 2) as f64;
    rows.push(Row::from("6. 1M-key state: delete x10000", &t, format!("{us:.1} us/delete incl. root")));
    let t = best(|rep| {
        let tx = chain.call(kitchen, "swrite", args(&[n, 32, 8, (1 << 36) + n * rep as u64, 1]), g);
        chain.block(&[tx])
    });
    let us = (t.exec + t.finish).as_secs_f64() * 1e6 / n as f64;
    rows.push(Row::from(
        "6. other contract (same global tree): insert x20000",
        &t,
        format!("{us:.1} us/write incl. root"),
    ));

    // 7. Maximal events and return data.
    let t = best(|_| {
        let tx = chain.call(
            kitchen,
            "events",
            args(&[MAX_EVENTS_PER_TX as u64, MAX_EVENT_TOPICS as u64, MAX_EVENT_DATA_BYTES as u64]),
            g,
        );
        chain.block(&[tx])
    });
    rows.push(Row::from("7. 256 events x (4 topics + 4 KiB)", &t, "one tx"));
    let t = best(|_| {
        let txs: Vec<_> = (0..100)
            .map(|_| chain.call(kitchen, "ret", args(&[1, MAX_RETURN_DATA_BYTES as u64]), 2_000_000))
            .collect();
        chain.block(&txs)
    });
    rows.push(Row::from("7. 64 KiB return data (x100 tx)", &t, "whole tx gas"));
    let t = best(|_| {
        let tx = chain.call(kitchen, "ret", args(&[500, MAX_RETURN_DATA_BYTES as u64]), g);
        chain.block(&[tx])
    });
    rows.push(Row::from("7. set_return 64 KiB x500 (one kept)", &t, "host copy cost"));
    rows
}

/// The largest size (in `BigModule::build`'s terms, at most `MAX_CODE_BYTES`) of `shape` that
/// validation accepts, i.e. whose upload `MAX_TX_GAS` can pay for.
fn largest_uploadable(shape: BigModule) -> usize {
    let fits = |size: usize| {
        let wasm = shape.build(size, 0);
        wasm.len() <= size && weft_runtime::vm::prepare::prepare(&wasm).is_ok()
    };
    if fits(MAX_CODE_BYTES) {
        return MAX_CODE_BYTES;
    }
    let (mut lo, mut hi) = (1024, MAX_CODE_BYTES);
    while hi - lo > 1024 {
        let mid = (lo + hi) / 2;
        if fits(mid) { lo = mid } else { hi = mid }
    }
    lo
}

// ---------------------------------------------------------------------------------------------
// Per-operator calibration, on the node's engine (fuel on, prepared as the node prepares code).
// ---------------------------------------------------------------------------------------------

/// A kernel: a loop of `iters` (read from memory) rounds of `UNROLL` x `snippet`.
struct Kernel {
    name: &'static str,
    snippet: &'static str,
    /// Whether each round starts by pushing `$x` and ends by popping it, so that snippets
    /// chain on the operand stack (one `local.get $y` + the operator each).
    stack: bool,
    /// Initial memory pages.
    pages: u32,
}

const UNROLL: usize = 32;

fn kernel_wat(k: &Kernel) -> String {
    let body = if k.stack {
        format!("local.get $x {} local.set $x", k.snippet.repeat(UNROLL))
    } else {
        k.snippet.repeat(UNROLL)
    };
    format!(
        r#"(module
  (type $v (func))
  (memory (export "memory") {pages})
  (table 4096 funcref)
  (elem (i32.const 0) $e $e $e $e $e $e $e $e $e $e $e $e $e $e $e $e)
  (global $g (mut i64) (i64.const 1))
  (func $e)
  (func (export "run") (local $n i64) (local $x i64) (local $y i64) (local $a i32) (local $b i32)
        (local $f f64) (local $h f64) (local $i i32)
    (local.set $n (i64.load (i32.const 0)))
    (local.set $x (i64.load (i32.const 8)))
    (local.set $y (i64.load (i32.const 16)))
    (local.set $a (i32.load (i32.const 24)))
    (local.set $b (i32.load (i32.const 28)))
    (local.set $f (f64.load (i32.const 32)))
    (local.set $h (f64.load (i32.const 40)))
    (block $out (loop $l
      (br_if $out (i64.eqz (local.get $n)))
      {body}
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br $l)))
    (i64.store (i32.const 0) (local.get $x))
    (i32.store (i32.const 8) (local.get $a))
    (i32.store (i32.const 12) (local.get $b))
    (f64.store (i32.const 16) (local.get $f))))"#,
        pages = k.pages
    )
}

/// Per-kernel inputs: x, y, a, b, f, h.
fn kernel_inputs(name: &str) -> (u64, u64, u32, u32, f64, f64) {
    match name {
        n if n.contains("rem_s") => (i64::MAX as u64, 1 << 63, 7, 1, 1.0, 1.0),
        n if n.contains("div") && n.starts_with("i32") => (0, 1, u32::MAX, 1, 1.0, 1.0),
        n if n.contains("div") && n.starts_with("f64") => (u64::MAX, 1, 7, 1, 1e300, 1.000_000_1),
        n if n.contains("div") => (u64::MAX, 1, 7, 1, 1.0, 1.0),
        n if n.contains("sqrt") => (0, 1, 7, 3, 1e300, 1.0),
        _ => (u64::MAX, 3, 7, 3, 1.5, 1.000_000_1),
    }
}

fn kernels() -> Vec<Kernel> {
    let k = |name, snippet, stack, pages| Kernel { name, snippet, stack, pages };
    vec![
        k("loop overhead (empty round)", "", false, 1),
        k("i64.add (chain)", "local.get $y i64.add ", true, 1),
        k("i64.mul (chain)", "local.get $y i64.mul ", true, 1),
        k("i64.div_u (chain, y=1)", "local.get $y i64.div_u ", true, 1),
        k("i64.rem_s (chain, y=MIN)", "local.get $y i64.rem_s ", true, 1),
        k("i32.div_u (chain, y=1)", "(local.set $a (i32.div_u (local.get $a) (local.get $b))) ", false, 1),
        k("i32.add (chain)", "(local.set $a (i32.add (local.get $a) (local.get $b))) ", false, 1),
        k("i32.mul (chain)", "(local.set $a (i32.mul (local.get $a) (local.get $b))) ", false, 1),
        k(
            "i64.xor/shl/rotl mix (chain)",
            "local.get $y i64.rotl local.get $y i64.xor local.get $y i64.shl ",
            true,
            1,
        ),
        k("local.get/set shuffle", "(local.set $y (local.get $x)) (local.set $x (local.get $y)) ", false, 1),
        k("global.get/add/set", "(global.set $g (i64.add (global.get $g) (i64.const 1))) ", false, 1),
        k(
            "i64.load+store same slot",
            "(i64.store (i32.const 64) (i64.add (i64.load (i32.const 64)) (local.get $y))) ",
            false,
            1,
        ),
        k(
            "random i32.store 16 MiB (LCG)",
            "(i32.store (i32.and (local.tee $a (i32.add (i32.mul (local.get $a) (i32.const 1103515245)) (i32.const 12345))) (i32.const 0xfffffc)) (local.get $b)) ",
            false,
            256,
        ),
        k(
            "random i32.store 1 MiB (LCG)",
            "(i32.store (i32.and (local.tee $a (i32.add (i32.mul (local.get $a) (i32.const 1103515245)) (i32.const 12345))) (i32.const 0xffffc)) (local.get $b)) ",
            false,
            256,
        ),
        k(
            "LCG only (store's address math)",
            "(local.set $b (i32.and (local.tee $a (i32.add (i32.mul (local.get $a) (i32.const 1103515245)) (i32.const 12345))) (i32.const 0xfffffc))) ",
            false,
            256,
        ),
        k("br (to next)", "(block (br 0)) ", false, 1),
        k(
            "br_if random (LCG bit 16)",
            "(block (br_if 0 (i32.and (i32.shr_u (local.tee $a (i32.add (i32.mul (local.get $a) (i32.const 1103515245)) (i32.const 12345))) (i32.const 16)) (i32.const 1))) (local.set $b (i32.add (local.get $b) (i32.const 1)))) ",
            false,
            1,
        ),
        k(
            "br_table random of 8 (LCG)",
            "(block (block (block (block (block (block (block (block (br_table 0 1 2 3 4 5 6 7 (i32.and (i32.shr_u (local.tee $a (i32.add (i32.mul (local.get $a) (i32.const 1103515245)) (i32.const 12345))) (i32.const 16)) (i32.const 7)))) (local.set $b (i32.const 1))) (local.set $b (i32.const 2))) (local.set $b (i32.const 3))) (local.set $b (i32.const 4))) (local.set $b (i32.const 5))) (local.set $b (i32.const 6))) (local.set $b (i32.const 7))) (local.set $b (i32.const 8)) ",
            false,
            1,
        ),
        k("call (empty callee, instrumented)", "(call $e) ", false, 1),
        k(
            "call_indirect (empty callee)",
            "(call_indirect (type $v) (i32.and (local.get $a) (i32.const 15))) ",
            false,
            1,
        ),
        k("memory.grow 0", "(drop (memory.grow (i32.const 0))) ", false, 1),
        k("memory.size", "(local.set $b (i32.add (local.get $b) (memory.size))) ", false, 1),
        k("f64.add (chain)", "(local.set $f (f64.add (local.get $f) (local.get $h))) ", false, 1),
        k("f64.mul (chain)", "(local.set $f (f64.mul (local.get $f) (local.get $h))) ", false, 1),
        k("f64.div (chain)", "(local.set $f (f64.div (local.get $f) (local.get $h))) ", false, 1),
        k("f64.sqrt (chain)", "(local.set $f (f64.sqrt (local.get $f))) ", false, 1),
        k(
            "f64.nearest (chain)",
            "(local.set $f (f64.add (f64.nearest (local.get $f)) (local.get $h))) ",
            false,
            1,
        ),
        k(
            "i64.trunc_f64_s + convert (chain)",
            "(local.set $f (f64.convert_i64_s (i64.trunc_f64_s (local.get $f)))) ",
            false,
            1,
        ),
    ]
}

/// Measures every kernel: (name, gas per snippet, ns per snippet, ns per gas).
fn operators() -> Vec<(String, f64, f64, f64)> {
    use wasmtime::{Engine, Linker, Module, Store};
    let engine = Engine::new(&weft_runtime::vm::engine_config(true, 16)).unwrap();
    let mut out = Vec::new();
    let mut overhead = (0.0, 0.0);
    for k in kernels() {
        // Kernels over a memory larger than contracts may have (measured to set that limit)
        // are left out: validation refuses them.
        let prepared = match weft_runtime::vm::prepare::prepare(&wat::parse_str(kernel_wat(&k)).unwrap()) {
            Ok(prepared) => prepared,
            Err(e) => {
                println!("({}: left out: {e})", k.name);
                continue;
            }
        };
        let module = Module::new(&engine, &prepared.code).unwrap();
        let pre = Linker::<()>::new(&engine).instantiate_pre(&module).unwrap();
        let (x, y, a, b, f, h) = kernel_inputs(k.name);
        let run = |iters: u64| -> (Duration, u64) {
            let mut store = Store::new(&engine, ());
            store.set_fuel(u64::MAX / 2).unwrap();
            store.set_epoch_deadline(u64::MAX / 2);
            let instance = pre.instantiate(&mut store).unwrap();
            let memory = instance.get_memory(&mut store, "memory").unwrap();
            let mut init = Vec::new();
            init.extend_from_slice(&iters.to_le_bytes());
            init.extend_from_slice(&x.to_le_bytes());
            init.extend_from_slice(&y.to_le_bytes());
            init.extend_from_slice(&a.to_le_bytes());
            init.extend_from_slice(&b.to_le_bytes());
            init.extend_from_slice(&f.to_le_bytes());
            init.extend_from_slice(&h.to_le_bytes());
            memory.write(&mut store, 0, &init).unwrap();
            let func = instance.get_typed_func::<(), ()>(&mut store, "run").unwrap();
            let start = Instant::now();
            func.call(&mut store, ()).unwrap();
            let elapsed = start.elapsed();
            (elapsed, u64::MAX / 2 - store.get_fuel().unwrap())
        };
        // Size the run to ~150 ms from a short probe, then keep the fastest of three.
        let (probe, _) = run(2000);
        let iters = ((0.15 / probe.as_secs_f64().max(1e-6)) * 2000.0).clamp(2000.0, 5e7) as u64;
        let (mut time, mut fuel) = run(iters);
        for _ in 0..2 {
            let (t, f2) = run(iters);
            if t < time {
                (time, fuel) = (t, f2);
            }
        }
        let rounds = iters as f64;
        let (ns_round, gas_round) = (time.as_nanos() as f64 / rounds, fuel as f64 / rounds);
        if k.snippet.is_empty() {
            overhead = (ns_round, gas_round);
            out.push((k.name.to_string(), gas_round, ns_round, ns_round / gas_round));
            continue;
        }
        let per = UNROLL as f64;
        let ns = (ns_round - overhead.0).max(0.0) / per;
        let gas = (gas_round - overhead.1) / per;
        out.push((k.name.to_string(), gas, ns, ns / gas.max(1e-9)));
    }
    out
}

fn main() {
    let what: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let all = what.is_empty();
    if all || what.iter().any(|w| w == "suite") {
        let start = Instant::now();
        let rows = suite();
        println!("({} rows)", rows.0.len());
        println!("(suite took {:.0} s)", start.elapsed().as_secs_f64());
    }
    if what.iter().any(|w| w == "warm") {
        let mut chain = Chain::new();
        let kitchen = chain.deploy(wat::parse_str(kitchen_wat()).unwrap());
        warm_rows(&mut chain, kitchen, &mut Table::new());
    }
    if all || what.iter().any(|w| w == "ops") {
        println!("\n| operator kernel | gas/snippet | ns/snippet | ns/gas |");
        println!("|---|---:|---:|---:|");
        for (name, gas, ns, per) in operators() {
            println!("| {name} | {gas:.2} | {ns:.3} | {per:.3} |");
        }
    }
}
