;; Calls `inc` on another contract and returns what it returned.
;;   relay(target: address, by: u32) -> u32   reverts with 0x00 ‖ "callee failed" if the call fails
(module
  (import "weft" "input_read" (func $input_read (param i32)))
  (import "weft" "call" (func $call (param i32 i32 i32 i32 i32 i32 i64) (result i32)))
  (import "weft" "last_return_len" (func $lrl (result i32)))
  (import "weft" "last_return_read" (func $lrr (param i32)))
  (import "weft" "set_return" (func $ret (param i32 i32)))
  (import "weft" "revert" (func $revert (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 700) "inc")
  (data (i32.const 720) "\00callee failed")
  (func (export "relay")
    (call $input_read (i32.const 200))
    (if (call $call (i32.const 200) (i32.const 700) (i32.const 3) (i32.const 232) (i32.const 4)
                    (i32.const 800) (i64.const 0))
      (then (call $revert (i32.const 720) (i32.const 14))))
    (call $lrr (i32.const 500))
    (call $ret (i32.const 500) (call $lrl))))
