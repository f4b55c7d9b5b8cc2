//! Events: topic derivation, the three kinds of indexed field, exact matching.

use parity_scale_codec::Encode;
use serde_json::json;
use weft_abi::event_topic;
use weft_types::{Address, Event, Hash, sha3_256};

use crate::support::{addr, rich, token};

fn padded(bytes: &[u8]) -> Hash {
    let mut t = [0u8; 32];
    t[..bytes.len()].copy_from_slice(bytes);
    Hash(t)
}

#[test]
fn topic_is_sha3_of_the_name() {
    // The vector of docs/protocol.md §11.4.
    assert_eq!(
        event_topic("Transfer").to_string(),
        "0xc96cb90d94eeefb2ab13db5c8e5e78463c9b2247df2e0c4c7b6a9de9ef4c11a6"
    );
    assert_eq!(token().event("Transfer").unwrap().topic(), sha3_256(b"Transfer"));
}

#[test]
fn transfer_event_decodes() {
    let abi = token();
    let event = Event {
        contract: Address([9; 32]),
        topics: vec![event_topic("Transfer"), Hash([1; 32]), Hash([2; 32])],
        data: 500u128.encode(),
    };
    let d = abi.decode_event(&event).unwrap();
    assert_eq!(d.name, "Transfer");
    assert_eq!(d.contract, Address([9; 32]));
    assert_eq!(serde_json::Value::Object(d.fields), json!({"from": addr(1), "to": addr(2), "amount": "500"}));
    // encode_event is its inverse.
    let (topics, data) =
        abi.encode_event("Transfer", &json!({"from": addr(1), "to": addr(2), "amount": "500"})).unwrap();
    assert_eq!((topics, data), (event.topics.clone(), event.data.clone()));
}

#[test]
fn mismatching_events_are_not_decoded() {
    let abi = token();
    let good = Event {
        contract: Address([9; 32]),
        topics: vec![event_topic("Transfer"), Hash([1; 32]), Hash([2; 32])],
        data: 500u128.encode(),
    };
    let variants = [
        Event { topics: vec![event_topic("Approval"), Hash([1; 32]), Hash([2; 32])], ..good.clone() },
        Event { topics: vec![], ..good.clone() },
        Event { topics: good.topics[..2].to_vec(), ..good.clone() },
        Event { data: vec![0; 15], ..good.clone() },
        Event { data: vec![0; 17], ..good.clone() },
    ];
    for e in &variants {
        assert_eq!(abi.decode_event(e), None, "{e:?}");
    }
    assert!(abi.decode_event(&good).is_some());
}

#[test]
fn indexed_fields_padded_and_hashed() {
    let abi = rich();
    let shape = json!({"Circle": {"center": {"x": 1, "y": 2}, "r": 3}});
    let fields = json!({"who": addr(7), "flag": true, "shape": shape, "by": -4, "note": "hi"});
    let (topics, data) = abi.encode_event("Moved", &fields).unwrap();
    let shape_bytes = [vec![1u8], (1i32, 2i32, 3u16).encode()].concat();
    assert_eq!(
        topics,
        vec![event_topic("Moved"), Hash([7; 32]), padded(&[1]), sha3_256(&shape_bytes)],
        "address verbatim, bool padded, enum hashed"
    );
    assert_eq!(data, [(-4i32).encode(), "hi".encode()].concat());
    let d = abi
        .decode_event(&Event { contract: Address([0; 32]), topics: topics.clone(), data: data.clone() })
        .unwrap();
    assert_eq!(
        serde_json::Value::Object(d.fields),
        json!({"who": addr(7), "flag": true, "shape": {"hash": sha3_256(&shape_bytes).to_string()}, "by": -4, "note": "hi"})
    );
    // A padded topic with a non-zero tail or a bool byte of 2 is not this event.
    let mut bad = topics.clone();
    bad[2] = padded(&[1, 0, 1]);
    assert_eq!(
        abi.decode_event(&Event { contract: Address([0; 32]), topics: bad, data: data.clone() }),
        None
    );
    let mut bad = topics;
    bad[2] = padded(&[2]);
    assert_eq!(abi.decode_event(&Event { contract: Address([0; 32]), topics: bad, data }), None);
}

#[test]
fn integer_topics_are_scale_padded() {
    let doc = json!({"weft_abi": 1, "events": [{"name": "N", "fields": [
        {"name": "a", "type": "u128", "indexed": true},
        {"name": "b", "type": "i16", "indexed": true},
        {"name": "c", "type": "hash", "indexed": true}
    ]}]});
    let abi = weft_abi::Abi::from_json(&doc.to_string()).unwrap();
    let (topics, data) = abi.encode_event("N", &json!({"a": "258", "b": -2, "c": addr(3)})).unwrap();
    assert_eq!(topics[1], padded(&258u128.encode()));
    assert_eq!(topics[2], padded(&(-2i16).encode()));
    assert_eq!(topics[3], Hash([3; 32]));
    assert!(data.is_empty());
    let d = abi.decode_event(&Event { contract: Address([0; 32]), topics, data }).unwrap();
    assert_eq!(serde_json::Value::Object(d.fields), json!({"a": "258", "b": -2, "c": addr(3)}));
    // An event without fields.
    let plain = rich().decode_event(&Event {
        contract: Address([0; 32]),
        topics: vec![event_topic("Plain")],
        data: vec![],
    });
    assert_eq!(plain.unwrap().fields.len(), 0);
    assert!(rich().encode_event("Nope", &json!({})).is_err());
    assert_eq!(
        abi.encode_event("N", &json!({"a": "x", "b": 1, "c": addr(1)})).unwrap_err().to_string(),
        "field `a` of event `N`: expected u128 as a decimal string or number, got \"x\""
    );
}
