//! WAT fixtures: small contracts written against the host ABI.

/// Imports every test contract uses.
const IMPORTS: &str = r#"
  (import "weft" "input_len" (func $ilen (result i32)))
  (import "weft" "input_read" (func $iread (param i32)))
  (import "weft" "set_return" (func $ret (param i32 i32)))
  (import "weft" "revert" (func $revert (param i32 i32)))
  (import "weft" "storage_read" (func $sread (param i32 i32 i32 i32) (result i32)))
  (import "weft" "storage_write" (func $swrite (param i32 i32 i32 i32)))
  (import "weft" "storage_remove" (func $sremove (param i32 i32) (result i32)))
  (import "weft" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (import "weft" "call" (func $call (param i32 i32 i32 i32 i32 i32 i64) (result i32)))
  (import "weft" "last_return_len" (func $lrlen (result i32)))
  (import "weft" "last_return_read" (func $lrread (param i32)))
  (import "weft" "caller" (func $caller (param i32)))
  (import "weft" "transfer" (func $transfer (param i32 i32) (result i32)))
"#;

/// Memory layout: 0..5 key "count", 16..20 "boom", 32..40 counter value, 64..96 topic,
/// 512..528 zero value, 1024.. input, 4096.. output.
const BODY: &str = r#"
  (memory (export "memory") 1)
  (data (i32.const 0) "count")
  (data (i32.const 16) "boom")
  (data (i32.const 64) "topic:incremented..............!")
  (func (export "init")
    (i64.store (i32.const 32) (i64.const 0))
    (call $swrite (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 8)))
  (func $load (result i64)
    (drop (call $sread (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 8)))
    (i64.load (i32.const 32)))
  (func $inc (export "inc")
    (i64.store (i32.const 32) (i64.add (call $load) (i64.const 1)))
    (call $swrite (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 8))
    (call $emit (i32.const 64) (i32.const 1) (i32.const 32) (i32.const 8)))
  (func (export "get")
    (drop (call $load))
    (call $ret (i32.const 32) (i32.const 8)))
  (func (export "inc_then_fail")
    (call $inc)
    (call $revert (i32.const 16) (i32.const 4)))
  (func (export "inc_then_trap")
    (call $inc)
    (unreachable))
  (func (export "clear")
    (drop (call $sremove (i32.const 0) (i32.const 5))))
  (func (export "spin") (loop $l (br $l)))
  (func $rec (param i32) (call $rec (i32.add (local.get 0) (i32.const 1))))
  (func (export "recurse") (call $rec (i32.const 0)))
  (func (export "nan_bits")
    (i32.store (i32.const 4096)
      (i32.reinterpret_f32 (f32.div (f32.const 0) (f32.const 0))))
    (call $ret (i32.const 4096) (i32.const 4)))
  (func (export "echo_caller")
    (call $caller (i32.const 4096))
    (call $ret (i32.const 4096) (i32.const 32)))
  (func (export "pay")
    ;; input: recipient (32 bytes) ‖ amount (16 bytes LE); returns the transfer code.
    (call $iread (i32.const 1024))
    (i32.store (i32.const 4096) (call $transfer (i32.const 1024) (i32.const 1056)))
    (call $ret (i32.const 4096) (i32.const 4)))
  ;; input: target (32) ‖ method length (1) ‖ method ‖ args. Calls target.method(args) with all
  ;; the gas left and returns the result code (4 bytes LE) followed by the callee's output.
  (func (export "forward")
    (local $n i32) (local $mlen i32) (local $code i32) (local $rl i32)
    (local.set $n (call $ilen))
    (call $iread (i32.const 1024))
    (local.set $mlen (i32.load8_u (i32.const 1056)))
    (local.set $code
      (call $call (i32.const 1024) (i32.const 1057) (local.get $mlen)
        (i32.add (i32.const 1057) (local.get $mlen))
        (i32.sub (i32.sub (local.get $n) (i32.const 33)) (local.get $mlen))
        (i32.const 512) (i64.const 0)))
    (i32.store (i32.const 4096) (local.get $code))
    (local.set $rl (call $lrlen))
    (call $lrread (i32.const 4100))
    (call $ret (i32.const 4096) (i32.add (i32.const 4) (local.get $rl))))
"#;

/// The test contract: a counter with failure modes and a call forwarder.
pub fn counter() -> String {
    format!("(module {IMPORTS} {BODY})")
}

/// The same contract, opted in to reentrant calls.
pub fn reentrant_counter() -> String {
    format!(r#"(module {IMPORTS} {BODY} (func (export "__weft_reentrant")))"#)
}

/// A contract with a function whose frames are large (many locals), recursing forever.
pub fn fat_recursion() -> String {
    let locals = "(local i64) ".repeat(400);
    format!(
        r#"(module (memory (export "memory") 1)
             (func $rec (param i32) {locals} (call $rec (i32.add (local.get 0) (i32.const 1))))
             (func (export "recurse") (call $rec (i32.const 0))))"#
    )
}

/// A contract recursing forever through `call_indirect`.
pub fn indirect_recursion() -> String {
    r#"(module (memory (export "memory") 1)
         (type $t (func (param i32)))
         (table 1 funcref)
         (elem (i32.const 0) $rec)
         (func $rec (param i32) (call_indirect (type $t) (i32.add (local.get 0) (i32.const 1)) (i32.const 0)))
         (func (export "recurse") (call $rec (i32.const 0))))"#
        .into()
}

/// A contract whose two functions call each other forever.
pub fn mutual_recursion() -> String {
    r#"(module (memory (export "memory") 1)
         (func $ping (param i32) (call $pong (i32.add (local.get 0) (i32.const 1))))
         (func $pong (param i32) (call $ping (i32.add (local.get 0) (i32.const 1))))
         (func (export "recurse") (call $ping (i32.const 0))))"#
        .into()
}

/// `run` calls, 10,000 times, a function that leaves by each kind of exit in turn (`return`, `br`,
/// `br_if` and `br_table` to the function's label, the end of the body), recursing 20 deep each
/// time: every exit must give its frame's units back, or the stack budget runs out.
pub fn every_exit() -> String {
    r#"(module (memory (export "memory") 1)
         (func $deep (param i32) (result i32)
           (if (local.get 0) (then (drop (call $deep (i32.sub (local.get 0) (i32.const 1))))))
           (i32.const 7))
         (func $exit (param $kind i32) (result i32)
           (drop (call $deep (i32.const 20)))
           (if (i32.eq (local.get $kind) (i32.const 0)) (then (return (i32.const 1))))
           (if (i32.eq (local.get $kind) (i32.const 1)) (then (br 1 (i32.const 2))))
           (drop (br_if 0 (i32.const 3) (i32.eq (local.get $kind) (i32.const 2))))
           (drop (block (result i32) (br_table 1 0 (i32.const 4) (i32.sub (local.get $kind) (i32.const 3)))))
           (i32.const 5))
         (func (export "run") (local $i i32) (local $sum i32)
           (loop $l
             (local.set $sum (i32.add (local.get $sum) (call $exit (i32.rem_u (local.get $i) (i32.const 5)))))
             (local.set $i (i32.add (local.get $i) (i32.const 1)))
             (br_if $l (i32.lt_u (local.get $i) (i32.const 10000))))
           (i32.store (i32.const 0) (local.get $sum))))"#
        .into()
}

/// A reentrant contract whose `nest` (input: its own address) recurses 200 wasm frames deep and
/// then calls its own `nest` again, returning the call's result code followed by the callee's
/// output: the result codes of every level, then the error of the one that failed.
pub fn nested_recursion() -> String {
    format!(
        r#"(module {IMPORTS}
             (memory (export "memory") 1)
             (data (i32.const 0) "nest")
             (func $rec (param i32) (result i32)
               (if (result i32) (local.get 0)
                 (then (call $rec (i32.sub (local.get 0) (i32.const 1))))
                 (else (call $call (i32.const 1024) (i32.const 0) (i32.const 4) (i32.const 1024)
                   (i32.const 32) (i32.const 512) (i64.const 0)))))
             (func (export "nest") (local $rl i32)
               (call $iread (i32.const 1024))
               (i32.store (i32.const 4096) (call $rec (i32.const 200)))
               (local.set $rl (call $lrlen))
               (call $lrread (i32.const 4100))
               (call $ret (i32.const 4096) (i32.add (i32.const 4) (local.get $rl))))
             (func (export "__weft_reentrant")))"#
    )
}

/// Input of `forward`: target, method and args.
pub fn forward_input(target: &weft_types::Address, method: &str, args: &[u8]) -> Vec<u8> {
    let mut v = target.0.to_vec();
    v.push(method.len() as u8);
    v.extend_from_slice(method.as_bytes());
    v.extend_from_slice(args);
    v
}

/// Host functions for hashing and signatures, and contracts that break per-call limits.
pub fn host_probe() -> String {
    r#"(module
      (import "weft" "input_len" (func $ilen (result i32)))
      (import "weft" "input_read" (func $iread (param i32)))
      (import "weft" "set_return" (func $ret (param i32 i32)))
      (import "weft" "sha3_256" (func $sha3 (param i32 i32 i32)))
      (import "weft" "keccak_256" (func $keccak (param i32 i32 i32)))
      (import "weft" "ed25519_verify" (func $verify (param i32 i32 i32 i32) (result i32)))
      (import "weft" "emit_event" (func $emit (param i32 i32 i32 i32)))
      (import "weft" "storage_write" (func $swrite (param i32 i32 i32 i32)))
      (import "weft" "block_height" (func $height (result i64)))
      (import "weft" "block_timestamp" (func $time (result i64)))
      (memory (export "memory") 1)
      (func (export "hash")
        (call $iread (i32.const 1024))
        (call $sha3 (i32.const 1024) (call $ilen) (i32.const 0))
        (call $keccak (i32.const 1024) (call $ilen) (i32.const 32))
        (call $ret (i32.const 0) (i32.const 64)))
      ;; input: signature (64) ‖ public key (32) ‖ message
      (func (export "verify")
        (call $iread (i32.const 1024))
        (i32.store (i32.const 0)
          (call $verify (i32.const 1024) (i32.const 1088) (i32.const 1120) (i32.sub (call $ilen) (i32.const 96))))
        (call $ret (i32.const 0) (i32.const 4)))
      (func (export "env")
        (i64.store (i32.const 0) (call $height))
        (i64.store (i32.const 8) (call $time))
        (call $ret (i32.const 0) (i32.const 16)))
      (func (export "out_of_bounds") (call $ret (i32.const 65500) (i32.const 100)))
      (func (export "negative_length") (call $ret (i32.const 0) (i32.const -1)))
      (func (export "event_flood")
        (loop $l (call $emit (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1)) (br $l)))
      (func (export "huge_value")
        (call $swrite (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 16385)))
      (func (export "huge_key")
        (call $swrite (i32.const 0) (i32.const 129) (i32.const 0) (i32.const 1)))
      (func (export "grow")
        (i32.store (i32.const 0) (memory.grow (i32.const 15)))
        (i32.store (i32.const 4) (memory.grow (i32.const 1)))
        (call $ret (i32.const 0) (i32.const 8)))
    )"#
    .to_owned()
}

/// A contract whose `scribble` returns what it finds in memory (the data segment at 100, zeros
/// at 200, the memory size, and a word in a page it grows past the first 256 KiB, which the pool
/// resets differently), then overwrites
/// all of it: each call must find the module's initial memory again.
pub fn scribbler() -> String {
    r#"(module
      (import "weft" "set_return" (func $ret (param i32 i32)))
      (memory (export "memory") 1)
      (data (i32.const 100) "seed")
      (func (export "scribble")
        (i32.store (i32.const 4096) (i32.load (i32.const 100)))
        (i64.store (i32.const 4100) (i64.load (i32.const 200)))
        (i32.store (i32.const 4108) (memory.size))
        (drop (memory.grow (i32.const 15)))
        (i64.store (i32.const 4112) (i64.load (i32.const 983040)))
        (i32.store (i32.const 100) (i32.const -1))
        (i64.store (i32.const 200) (i64.const -1))
        (i64.store (i32.const 983040) (i64.const -1))
        (call $ret (i32.const 4096) (i32.const 24))))"#
        .to_string()
}

/// A second version of the counter: the same storage, a new method `triple`, and a `migrate`
/// adding its input (a u64, LE; none: nothing) to the count, refusing 13 by reverting.
pub fn counter_v2() -> String {
    format!(
        r#"(module {IMPORTS}
          (memory (export "memory") 1)
          (data (i32.const 0) "count")
          (data (i32.const 16) "no13")
          (func $load (result i64)
            (drop (call $sread (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 8)))
            (i64.load (i32.const 32)))
          (func $save (param i64)
            (i64.store (i32.const 32) (local.get 0))
            (call $swrite (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 8)))
          (func (export "migrate")
            (if (i32.eq (call $ilen) (i32.const 8))
              (then
                (call $iread (i32.const 1024))
                (if (i64.eq (i64.load (i32.const 1024)) (i64.const 13))
                  (then (call $revert (i32.const 16) (i32.const 4))))
                (call $save (i64.add (call $load) (i64.load (i32.const 1024)))))))
          (func (export "get")
            (drop (call $load))
            (call $ret (i32.const 32) (i32.const 8)))
          (func (export "triple")
            (call $save (i64.mul (call $load) (i64.const 3)))))"#
    )
}
