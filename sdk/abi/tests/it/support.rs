//! Shared fixtures: the example document of docs/abi.md and a document using every type form.

use weft_abi::Abi;

/// The example document of docs/abi.md, verbatim.
pub const TOKEN_ABI: &str = r#"{
  "weft_abi": 1,
  "contract": "token",
  "version": "0.1.0",
  "constructor": { "args": [{ "name": "supply", "type": "u128" }], "payable": false, "error": null },
  "methods": [
    {
      "name": "transfer",
      "args": [{ "name": "to", "type": "address" }, { "name": "amount", "type": "u128" }],
      "returns": "unit",
      "error": "TokenError",
      "mutates": true,
      "payable": false,
      "docs": "Moves `amount` from the caller to `to`."
    }
  ],
  "events": [
    {
      "name": "Transfer",
      "fields": [
        { "name": "from", "type": "address", "indexed": true },
        { "name": "to", "type": "address", "indexed": true },
        { "name": "amount", "type": "u128", "indexed": false }
      ]
    }
  ],
  "types": {
    "TokenError": { "enum": [
      { "name": "InsufficientBalance", "fields": [{ "name": "have", "type": "u128" }, { "name": "need", "type": "u128" }] },
      { "name": "NotOwner", "fields": [] }
    ] }
  }
}"#;

/// A document whose types cover every form of the table, including recursion through `option`
/// and `vec`.
pub const RICH_ABI: &str = r#"{
  "weft_abi": 1,
  "contract": "rich",
  "version": "1.2.3",
  "future_field": {"ignored": true},
  "constructor": null,
  "methods": [
    { "name": "everything", "args": [
        { "name": "a", "type": "u8" }, { "name": "b", "type": "i64" }, { "name": "c", "type": "u128" },
        { "name": "d", "type": "string" }, { "name": "e", "type": "bytes" }, { "name": "f", "type": {"option": "hash"} }
      ], "returns": {"vec": "Point"}, "error": null, "mutates": false, "payable": true },
    { "name": "one", "args": [{ "name": "n", "type": "u32" }], "returns": "bool" },
    { "name": "none", "args": [], "returns": "unit" },
    { "name": "order", "args": [{ "name": "order", "type": "Order" }], "returns": "Shape" }
  ],
  "events": [
    { "name": "Moved", "fields": [
        { "name": "who", "type": "address", "indexed": true },
        { "name": "flag", "type": "bool", "indexed": true },
        { "name": "shape", "type": "Shape", "indexed": true },
        { "name": "by", "type": "i32" },
        { "name": "note", "type": "string" }
    ] },
    { "name": "Plain", "fields": [] }
  ],
  "types": {
    "Point": { "struct": [{ "name": "x", "type": "i32" }, { "name": "y", "type": "i32" }] },
    "Wrapper": { "tuple": ["u64"] },
    "Shape": { "enum": [
      { "name": "Empty", "fields": [] },
      { "name": "Circle", "fields": [{ "name": "center", "type": "Point" }, { "name": "r", "type": "u16" }] },
      { "name": "Poly", "fields": [{ "name": "points", "type": {"vec": "Point"} }] }
    ] },
    "Order": { "struct": [
      { "name": "id", "type": "Wrapper" },
      { "name": "items", "type": {"vec": "Item"} },
      { "name": "tag", "type": {"array": {"type": "u8", "len": 4}} },
      { "name": "pair", "type": {"tuple": ["address", "i128"]} },
      { "name": "nothing", "type": "unit" }
    ] },
    "Item": { "struct": [{ "name": "price", "type": "u128" }, { "name": "qty", "type": "u16" }] },
    "Tree": { "struct": [{ "name": "value", "type": "u8" }, { "name": "children", "type": {"vec": "Tree"} }] },
    "List": { "struct": [{ "name": "head", "type": "u8" }, { "name": "tail", "type": {"option": "List"} }] }
  }
}"#;

pub fn token() -> Abi {
    Abi::from_json(TOKEN_ABI).unwrap()
}

pub fn rich() -> Abi {
    Abi::from_json(RICH_ABI).unwrap()
}

/// An address with every byte `b`, in text form.
pub fn addr(b: u8) -> String {
    weft_types::hex::encode(&[b; 32])
}
