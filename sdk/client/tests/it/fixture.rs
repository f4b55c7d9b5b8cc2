//! Test fixtures: a dev node on an ephemeral port, and a small token contract (WAT with an ABI
//! section) that emits events and reverts with a panic message.

use weft_node::dev::{DevConfig, DevNode};

/// A token over the host ABI: `init(supply: u64)`, `transfer(to: address, amount: u64)` (emits
/// `Transfer`, panics with "insufficient balance"), `balance_of(owner: address) -> u64`.
/// Balances are u64 LE under the holder's 32-byte address.
pub const TOKEN_WAT: &str = r#"
(module
  (import "weft" "input_read" (func $iread (param i32)))
  (import "weft" "caller" (func $caller (param i32)))
  (import "weft" "storage_read" (func $sread (param i32 i32 i32 i32) (result i32)))
  (import "weft" "storage_write" (func $swrite (param i32 i32 i32 i32)))
  (import "weft" "set_return" (func $ret (param i32 i32)))
  (import "weft" "revert" (func $revert (param i32 i32)))
  (import "weft" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 300) "\00insufficient balance")
  ;; sha3_256("Transfer")
  (data (i32.const 500) "\c9\6c\b9\0d\94\ee\ef\b2\ab\13\db\5c\8e\5e\78\46\3c\9b\22\47\df\2e\0c\4c\7b\6a\9d\e9\ef\4c\11\a6")
  (func $get (param $key i32) (result i64)
    (i64.store (i32.const 100) (i64.const 0))
    (drop (call $sread (local.get $key) (i32.const 32) (i32.const 100) (i32.const 8)))
    (i64.load (i32.const 100)))
  (func $put (param $key i32) (param $v i64)
    (i64.store (i32.const 100) (local.get $v))
    (call $swrite (local.get $key) (i32.const 32) (i32.const 100) (i32.const 8)))
  (func $copy32 (param $dst i32) (param $src i32)
    (i64.store (local.get $dst) (i64.load (local.get $src)))
    (i64.store offset=8 (local.get $dst) (i64.load offset=8 (local.get $src)))
    (i64.store offset=16 (local.get $dst) (i64.load offset=16 (local.get $src)))
    (i64.store offset=24 (local.get $dst) (i64.load offset=24 (local.get $src))))
  (func (export "init")
    (call $iread (i32.const 232))
    (call $caller (i32.const 0))
    (call $put (i32.const 0) (i64.load (i32.const 232))))
  (func (export "transfer")
    (local $amount i64) (local $balance i64)
    (call $iread (i32.const 200))
    (local.set $amount (i64.load (i32.const 232)))
    (call $caller (i32.const 0))
    (local.set $balance (call $get (i32.const 0)))
    (if (i64.lt_u (local.get $balance) (local.get $amount))
      (then (call $revert (i32.const 300) (i32.const 21))))
    (call $put (i32.const 0) (i64.sub (local.get $balance) (local.get $amount)))
    (call $put (i32.const 200) (i64.add (call $get (i32.const 200)) (local.get $amount)))
    (call $copy32 (i32.const 532) (i32.const 0))
    (call $copy32 (i32.const 564) (i32.const 200))
    (i64.store (i32.const 600) (local.get $amount))
    (call $emit (i32.const 500) (i32.const 3) (i32.const 600) (i32.const 8)))
  (func (export "balance_of")
    (call $iread (i32.const 200))
    (i64.store (i32.const 400) (call $get (i32.const 200)))
    (call $ret (i32.const 400) (i32.const 8))))
"#;

/// The token's ABI document.
pub const TOKEN_ABI: &str = r#"{
  "weft_abi": 1, "contract": "wat_token", "version": "0.1.0",
  "constructor": { "args": [{ "name": "supply", "type": "u64" }], "payable": false, "error": null },
  "methods": [
    { "name": "transfer", "args": [{ "name": "to", "type": "address" }, { "name": "amount", "type": "u64" }],
      "returns": "unit", "error": null, "mutates": true, "payable": false },
    { "name": "balance_of", "args": [{ "name": "owner", "type": "address" }],
      "returns": "u64", "error": null, "mutates": false, "payable": false }
  ],
  "events": [{ "name": "Transfer", "fields": [
    { "name": "from", "type": "address", "indexed": true },
    { "name": "to", "type": "address", "indexed": true },
    { "name": "amount", "type": "u64", "indexed": false } ] }],
  "types": {}
}"#;

/// The token's wasm, with its ABI section.
pub fn token_wasm() -> Vec<u8> {
    let wasm = wat::parse_str(TOKEN_WAT).expect("the token WAT parses");
    weft_abi::with_abi_section(&wasm, TOKEN_ABI)
}

/// The token's wasm without an ABI section.
pub fn token_wasm_without_abi() -> Vec<u8> {
    wat::parse_str(TOKEN_WAT).expect("the token WAT parses")
}

/// A dev node on 127.0.0.1 with a free port and a temporary data directory.
pub async fn dev_node() -> DevNode {
    let config = DevConfig { rpc_addr: "127.0.0.1:0".parse().expect("addr"), ..DevConfig::default() };
    DevNode::start(config).await.expect("the dev node starts")
}

/// The node's WebSocket URL.
pub fn url(node: &DevNode) -> String {
    format!("ws://{}", node.rpc_addr())
}
