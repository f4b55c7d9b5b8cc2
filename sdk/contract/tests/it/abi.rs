//! The ABI document of a contract using every kind of type, compared with docs/abi.md.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use weft_contract::abi::{AbiType, json, json_len, topic_is_direct};
use weft_contract::prelude::*;

/// A struct with nested standard types.
#[derive(Encode, Decode, AbiType)]
pub struct Record {
    pub id: u64,
    pub tags: Vec<String>,
    pub blob: Vec<u8>,
    pub maybe: Option<[u8; 4]>,
    pub pair: (bool, i128),
    pub map: BTreeMap<u32, Address>,
    pub inner: Wrapper,
}

/// A tuple struct.
#[derive(Encode, Decode, AbiType)]
pub struct Wrapper(pub u64);

/// A unit struct.
#[derive(Encode, Decode, AbiType)]
pub struct Nothing;

/// An enum with every kind of variant.
#[derive(Encode, Decode, AbiType)]
pub enum DemoError {
    Plain,
    Named { have: u128, need: u128 },
    Tuple(u8, Wrapper),
}

#[derive(Event)]
pub struct Happened {
    #[indexed]
    pub who: Address,
    #[indexed]
    pub record: Record,
    #[indexed]
    pub flag: bool,
    pub note: String,
}

#[derive(Event)]
pub struct Empty {}

type Alias = u32;

#[storage]
pub struct DemoContract {
    value: Item<u64>,
}

#[contract(events = [Happened, Empty], reentrant)]
impl DemoContract {
    /// Starts "here".
    ///
    /// Second\tparagraph \\ end.
    #[doc = "Tab:\there."]
    #[init]
    #[payable]
    pub fn init(&mut self, start: u64) -> Result<(), DemoError> {
        self.value.set(&start);
        Ok(())
    }

    /// Reads.
    pub fn get(&self) -> u64 {
        self.helper()
    }

    pub fn put(&mut self, r#record: Record, n: Alias, h: Hash) -> Result<Option<Record>, DemoError> {
        let _ = (record, n, h);
        Err(DemoError::Plain)
    }

    /// Takes money.
    #[payable]
    pub fn pay(&mut self) {}

    pub fn unit_struct(&self, _n: Nothing) -> (u8, Vec<Wrapper>) {
        (0, Vec::new())
    }

    fn helper(&self) -> u64 {
        0
    }
}

#[storage]
pub struct NFTRegistry {}

#[contract]
impl NFTRegistry {}

fn abi() -> Value {
    serde_json::from_str(&DemoContract::abi_json()).unwrap()
}

#[test]
fn document_follows_docs_abi_md() {
    let expected = json!({
        "weft_abi": 1,
        "contract": "demo_contract",
        "version": "0.1.0",
        "constructor": {
            "args": [{"name": "start", "type": "u64"}],
            "payable": true,
            "error": "DemoError",
            "docs": "Starts \"here\".\n\nSecond\\tparagraph \\\\ end.\nTab:\there."
        },
        "methods": [
            {"name": "get", "args": [], "returns": "u64", "error": null, "mutates": false, "payable": false,
             "docs": "Reads."},
            {"name": "put",
             "args": [{"name": "record", "type": "Record"}, {"name": "n", "type": "u32"}, {"name": "h", "type": "hash"}],
             "returns": {"option": "Record"}, "error": "DemoError", "mutates": true, "payable": false},
            {"name": "pay", "args": [], "returns": "unit", "error": null, "mutates": true, "payable": true,
             "docs": "Takes money."},
            {"name": "unit_struct", "args": [{"name": "_n", "type": "Nothing"}],
             "returns": {"tuple": ["u8", {"vec": "Wrapper"}]}, "error": null, "mutates": false, "payable": false}
        ],
        "events": [
            {"name": "Happened", "fields": [
                {"name": "who", "type": "address", "indexed": true},
                {"name": "record", "type": "Record", "indexed": true},
                {"name": "flag", "type": "bool", "indexed": true},
                {"name": "note", "type": "string", "indexed": false}
            ]},
            {"name": "Empty", "fields": []}
        ],
        "types": {
            "DemoError": {"enum": [
                {"name": "Plain", "fields": []},
                {"name": "Named", "fields": [{"name": "have", "type": "u128"}, {"name": "need", "type": "u128"}]},
                {"name": "Tuple", "fields": [{"name": "0", "type": "u8"}, {"name": "1", "type": "Wrapper"}]}
            ]},
            "Wrapper": {"tuple": ["u64"]},
            "Record": {"struct": [
                {"name": "id", "type": "u64"},
                {"name": "tags", "type": {"vec": "string"}},
                {"name": "blob", "type": "bytes"},
                {"name": "maybe", "type": {"option": {"array": {"type": "u8", "len": 4}}}},
                {"name": "pair", "type": {"tuple": ["bool", "i128"]}},
                {"name": "map", "type": {"vec": {"tuple": ["u32", "address"]}}},
                {"name": "inner", "type": "Wrapper"}
            ]},
            "Nothing": {"struct": []}
        }
    });
    assert_eq!(abi(), expected);
}

#[test]
fn compile_time_and_run_time_rendering_agree() {
    const DEF: weft_contract::abi::ContractDef = <DemoContract as Contract>::ABI;
    const LEN: usize = json_len(&DEF);
    const BYTES: [u8; LEN] = json::<LEN>(&DEF);
    assert_eq!(std::str::from_utf8(&BYTES).unwrap(), DemoContract::abi_json());
}

#[test]
fn contract_without_constructor_methods_or_events() {
    let v: Value = serde_json::from_str(&NFTRegistry::abi_json()).unwrap();
    assert_eq!(
        v,
        json!({"weft_abi": 1, "contract": "nft_registry", "version": "0.1.0", "constructor": null,
               "methods": [], "events": [], "types": {}})
    );
}

#[test]
fn event_topic0_is_sha3_of_the_name() {
    assert_eq!(<Happened as Event>::TOPIC0, weft_types::sha3_256(b"Happened").0);
    assert_eq!(<Empty as Event>::TOPIC0, weft_types::sha3_256(b"Empty").0);
}

#[test]
fn event_data_holds_the_non_indexed_fields() {
    let ev = Happened {
        who: Address([1; 32]),
        record: Record {
            id: 1,
            tags: vec![],
            blob: vec![],
            maybe: None,
            pair: (true, -1),
            map: BTreeMap::new(),
            inner: Wrapper(2),
        },
        flag: true,
        note: "hi".into(),
    };
    let mut data = Vec::new();
    ev.data(&mut data);
    assert_eq!(data, "hi".to_string().encode());
}

#[test]
fn which_indexed_types_are_their_own_topic() {
    assert!(topic_is_direct(&<Address as AbiType>::TY));
    assert!(topic_is_direct(&<Hash as AbiType>::TY));
    assert!(topic_is_direct(&<bool as AbiType>::TY));
    assert!(topic_is_direct(&<u128 as AbiType>::TY));
    assert!(topic_is_direct(&<i8 as AbiType>::TY));
    assert!(topic_is_direct(&<Alias as AbiType>::TY));
    assert!(!topic_is_direct(&<String as AbiType>::TY));
    assert!(!topic_is_direct(&<Vec<u8> as AbiType>::TY));
    assert!(!topic_is_direct(&<[u8; 32] as AbiType>::TY));
    assert!(!topic_is_direct(&<Wrapper as AbiType>::TY));
    assert!(!topic_is_direct(&<Option<u8> as AbiType>::TY));
}

#[test]
fn direct_topics_are_zero_padded_scale() {
    let mut t = [0u8; 32];
    t[..16].copy_from_slice(&5u128.to_le_bytes());
    assert_eq!(weft_contract::event::topic(&5u128), t);
    let mut t = [0u8; 32];
    t[0] = 1;
    assert_eq!(weft_contract::event::topic(&true), t);
    assert_eq!(weft_contract::event::topic(&Address([9; 32])), [9; 32]);
}
