//! WAT contracts with their ABIs.

use weft_abi::with_abi_section;

pub const LAB_ABI: &str = r#"{
  "weft_abi": 1, "contract": "lab", "version": "0.0.1",
  "constructor": {"args": [{"name": "start", "type": "u32"}]},
  "methods": [
    {"name": "inc", "args": [{"name": "by", "type": "u32"}], "returns": "u32"},
    {"name": "get", "returns": "u32", "mutates": false},
    {"name": "fail_panic"},
    {"name": "fail_typed", "args": [{"name": "code", "type": "u8"}], "error": "LabError"},
    {"name": "trap"},
    {"name": "spin"},
    {"name": "now", "returns": {"tuple": ["u64", "u64"]}, "mutates": false},
    {"name": "deposit", "returns": "u128", "payable": true},
    {"name": "who", "returns": "address", "mutates": false}
  ],
  "events": [{"name": "Incremented", "fields": [
    {"name": "by", "type": "u32", "indexed": true}, {"name": "value", "type": "u32"}
  ]}],
  "types": {"LabError": {"enum": [{"name": "Nope"}, {"name": "Code", "fields": [{"name": "code", "type": "u8"}]}]}}
}"#;

pub const RELAY_ABI: &str = r#"{
  "weft_abi": 1, "contract": "relay", "version": "0.0.1",
  "methods": [{"name": "relay", "args": [{"name": "target", "type": "address"}, {"name": "by", "type": "u32"}], "returns": "u32"}]
}"#;

/// contracts/wat/token.wat: u64 balances, raw-text revert.
pub const TOKEN_ABI: &str = r#"{
  "weft_abi": 1, "contract": "wat-token", "version": "0.0.1",
  "constructor": {"args": [{"name": "amount", "type": "u64"}]},
  "methods": [
    {"name": "transfer", "args": [{"name": "to", "type": "address"}, {"name": "amount", "type": "u64"}]},
    {"name": "balance_of", "args": [{"name": "who", "type": "address"}], "returns": "u64", "mutates": false}
  ]
}"#;

pub fn lab() -> Vec<u8> {
    with_abi_section(&wat::parse_str(include_str!("wat/lab.wat")).unwrap(), LAB_ABI)
}

pub fn relay() -> Vec<u8> {
    with_abi_section(&wat::parse_str(include_str!("wat/relay.wat")).unwrap(), RELAY_ABI)
}

pub fn token_raw() -> Vec<u8> {
    wat::parse_str(include_str!("../../../../contracts/wat/token.wat")).unwrap()
}

pub fn token() -> Vec<u8> {
    with_abi_section(&token_raw(), TOKEN_ABI)
}
