//! Loading: the documented example, every validation rule, limits, signatures.

use serde_json::json;
use weft_abi::{Abi, AbiError, MAX_ABI_BYTES, TypeDef, TypeRef};

use crate::support::{RICH_ABI, TOKEN_ABI, rich, token};

fn invalid(doc: serde_json::Value) -> String {
    match Abi::from_json(&doc.to_string()) {
        Err(AbiError::Invalid(m)) => m,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn with_types(types: serde_json::Value) -> serde_json::Value {
    json!({"weft_abi": 1, "contract": "t", "version": "0", "constructor": null, "methods": [], "events": [], "types": types})
}

#[test]
fn the_documented_example_loads() {
    let abi = token();
    assert_eq!(abi.contract, "token");
    assert_eq!(abi.version, "0.1.0");
    let c = abi.constructor.as_ref().unwrap();
    assert_eq!(c.args[0].name, "supply");
    assert_eq!(c.args[0].ty, TypeRef::U128);
    let m = abi.method("transfer").unwrap();
    assert_eq!(
        m.args.iter().map(|a| a.ty.clone()).collect::<Vec<_>>(),
        vec![TypeRef::Address, TypeRef::U128]
    );
    assert_eq!(m.returns, TypeRef::Unit);
    assert_eq!(m.error, Some(TypeRef::Named("TokenError".into())));
    assert!(m.mutates && !m.payable);
    assert_eq!(m.docs.as_deref(), Some("Moves `amount` from the caller to `to`."));
    assert!(abi.method("mint").is_none());
    let Some(TypeDef::Enum(variants)) = abi.type_def("TokenError") else { panic!("TokenError is an enum") };
    assert_eq!(variants.len(), 2);
    assert_eq!(abi.event("Transfer").unwrap().fields.iter().filter(|f| f.indexed).count(), 2);
}

#[test]
fn every_type_form_parses_and_serializes_back() {
    let abi = rich();
    let m = abi.method("everything").unwrap();
    assert_eq!(m.args[5].ty, TypeRef::Option(Box::new(TypeRef::Hash)));
    assert_eq!(m.returns, TypeRef::Vec(Box::new(TypeRef::Named("Point".into()))));
    assert!(!m.mutates && m.payable);
    // Defaults: `mutates` true, `payable` false, `returns` unit when absent.
    let one = abi.method("one").unwrap();
    assert!(one.mutates && !one.payable && one.error.is_none() && one.docs.is_none());
    let Some(TypeDef::Struct(order)) = abi.type_def("Order") else { panic!() };
    assert_eq!(order[2].ty, TypeRef::Array(Box::new(TypeRef::U8), 4));
    assert_eq!(order[3].ty, TypeRef::Tuple(vec![TypeRef::Address, TypeRef::I128]));
    assert_eq!(abi.type_def("Wrapper"), Some(&TypeDef::Tuple(vec![TypeRef::U64])));
    // Writing the document and reading it back gives the same ABI.
    assert_eq!(Abi::from_json(&abi.to_json()).unwrap(), abi);
    assert_eq!(Abi::from_json(&token().to_json()).unwrap(), token());
    // The type expression JSON round trips exactly.
    let ty = json!({"vec": {"array": {"type": {"tuple": ["u8", {"option": "Point"}]}, "len": 3}}});
    assert_eq!(TypeRef::from_json(&ty).unwrap().to_json(), ty);
}

#[test]
fn unknown_fields_are_ignored() {
    let mut doc: serde_json::Value = serde_json::from_str(TOKEN_ABI).unwrap();
    doc["methods"][0]["selector"] = json!("0x1234");
    doc["events"][0]["anonymous"] = json!(false);
    doc["extra"] = json!([1, 2, 3]);
    doc["types"]["TokenError"]["docs"] = json!("Why a token call failed.");
    doc["types"]["TokenError"]["enum"][0]["index"] = json!(0);
    assert_eq!(Abi::from_json(&doc.to_string()).unwrap(), token());
    assert_eq!(Abi::from_json(RICH_ABI).unwrap().contract, "rich");
}

#[test]
fn version_must_be_1() {
    let doc = |v: serde_json::Value| json!({"weft_abi": v, "contract": "t"}).to_string();
    assert_eq!(Abi::from_json(&doc(json!(2))), Err(AbiError::UnsupportedVersion { found: 2, known: 1 }));
    assert_eq!(
        Abi::from_json(&doc(json!(2))).unwrap_err().to_string(),
        "unsupported ABI version 2 (this reader knows version 1)"
    );
    assert!(
        matches!(Abi::from_json(&doc(json!("1"))), Err(AbiError::Json(m)) if m.contains("must be a number"))
    );
    assert!(
        matches!(Abi::from_json(r#"{"contract": "t"}"#), Err(AbiError::Json(m)) if m.contains("weft_abi"))
    );
    let minimal = Abi::from_json(&doc(json!(1))).unwrap();
    assert!(minimal.methods.is_empty() && minimal.constructor.is_none() && minimal.types.is_empty());
}

#[test]
fn malformed_json_and_shapes_are_refused() {
    assert!(matches!(Abi::from_json("{"), Err(AbiError::Json(_))));
    assert!(matches!(Abi::from_json("[]"), Err(AbiError::Json(_))));
    let bad_type = json!({"weft_abi": 1, "methods": [{"name": "f", "args": [{"name": "x", "type": 5}]}]});
    let err = Abi::from_json(&bad_type.to_string()).unwrap_err().to_string();
    assert!(err.contains("a type must be a string or an object, got 5"), "{err}");
    let two_keys =
        json!({"weft_abi": 1, "methods": [{"name": "f", "returns": {"vec": "u8", "option": "u8"}}]});
    let err = Abi::from_json(&two_keys.to_string()).unwrap_err().to_string();
    assert!(err.contains("exactly one of option, vec, array, tuple"), "{err}");
    let two_defs = json!({"weft_abi": 1, "types": {"T": {"struct": [], "tuple": []}}});
    let err = Abi::from_json(&two_defs.to_string()).unwrap_err().to_string();
    assert!(err.contains("exactly one of struct, enum, tuple"), "{err}");
    let bad_def = json!({"weft_abi": 1, "types": {"T": {"struct": 5}}});
    let err = Abi::from_json(&bad_def.to_string()).unwrap_err().to_string();
    assert!(err.contains("`struct`: invalid type"), "{err}");
    let map = json!({"weft_abi": 1, "methods": [{"name": "f", "returns": {"map": ["u8", "u8"]}}]});
    assert!(Abi::from_json(&map.to_string()).is_err(), "an unknown type form is refused, not ignored");
    let arr = json!({"weft_abi": 1, "methods": [{"name": "f", "returns": {"array": {"type": "u8", "len": 65537}}}]});
    let err = Abi::from_json(&arr.to_string()).unwrap_err().to_string();
    assert!(err.contains("array `len` must be an integer from 0 to 65536"), "{err}");
}

#[test]
fn size_and_depth_are_bounded() {
    let big = format!(r#"{{"weft_abi": 1, "contract": "{}"}}"#, "x".repeat(MAX_ABI_BYTES));
    assert_eq!(Abi::from_json(&big), Err(AbiError::TooLarge { len: big.len(), max: MAX_ABI_BYTES }));
    let mut ty = json!("u8");
    for _ in 0..31 {
        ty = json!({ "vec": ty });
    }
    assert!(TypeRef::from_json(&ty).is_ok(), "32 levels are fine");
    let deeper = json!({ "vec": ty });
    assert_eq!(TypeRef::from_json(&deeper), Err("type nested deeper than 32 levels".into()));
    // serde_json's own recursion limit is not reached first by a moderately deep document.
    let doc = json!({"weft_abi": 1, "methods": [{"name": "f", "returns": deeper}]});
    assert!(Abi::from_json(&doc.to_string()).unwrap_err().to_string().contains("deeper than 32"));
}

#[test]
fn undefined_types_are_refused_wherever_they_are_used() {
    let m = invalid(
        json!({"weft_abi": 1, "methods": [{"name": "f", "args": [{"name": "x", "type": {"vec": "Nope"}}]}]}),
    );
    assert_eq!(m, "method `f` argument `x` refers to type `Nope`, which `types` does not define");
    let m = invalid(json!({"weft_abi": 1, "methods": [{"name": "f", "error": "Err"}]}));
    assert!(m.contains("method `f` error type refers to type `Err`"), "{m}");
    let m = invalid(json!({"weft_abi": 1, "constructor": {"args": [{"name": "a", "type": "X"}]}}));
    assert!(m.contains("constructor argument `a` refers to type `X`"), "{m}");
    let m =
        invalid(json!({"weft_abi": 1, "events": [{"name": "E", "fields": [{"name": "a", "type": "X"}]}]}));
    assert!(m.contains("event `E` field `a` refers to type `X`"), "{m}");
    let m =
        invalid(with_types(json!({"A": {"enum": [{"name": "V", "fields": [{"name": "f", "type": "B"}]}]}})));
    assert!(m.contains("type `A` variant `V` field `f` refers to type `B`"), "{m}");
}

#[test]
fn duplicate_and_bad_names_are_refused() {
    let m = invalid(json!({"weft_abi": 1, "methods": [{"name": "f"}, {"name": "f"}]}));
    assert_eq!(m, "the ABI has two methods named `f`");
    let m = invalid(
        json!({"weft_abi": 1, "methods": [{"name": "f", "args": [{"name": "a", "type": "u8"}, {"name": "a", "type": "u8"}]}]}),
    );
    assert_eq!(m, "method `f` has two arguments named `a`");
    let m = invalid(json!({"weft_abi": 1, "methods": [{"name": "1f"}]}));
    assert!(m.contains("must match [A-Za-z_][A-Za-z0-9_]*"), "{m}");
    let m = invalid(json!({"weft_abi": 1, "events": [{"name": "E"}, {"name": "E"}]}));
    assert_eq!(m, "the ABI has two events named `E`");
    let m = invalid(with_types(
        json!({"S": {"struct": [{"name": "x", "type": "u8"}, {"name": "x", "type": "u8"}]}}),
    ));
    assert_eq!(m, "type `S` has two fields named `x`");
    let m = invalid(with_types(json!({"E": {"enum": [{"name": "A"}, {"name": "A"}]}})));
    assert_eq!(m, "type `E` has two variants named `A`");
    let m = invalid(with_types(json!({"u8": {"struct": []}})));
    assert_eq!(m, "type name \"u8\" is reserved for a primitive type");
    let variants: Vec<_> = (0..257).map(|i| json!({"name": format!("V{i}")})).collect();
    let m = invalid(with_types(json!({"Big": {"enum": variants}})));
    assert_eq!(m, "type `Big` has 257 variants, at most 256 allowed");
}

#[test]
fn at_most_three_indexed_fields() {
    let field = |n: &str| json!({"name": n, "type": "u8", "indexed": true});
    let m = invalid(
        json!({"weft_abi": 1, "events": [{"name": "E", "fields": [field("a"), field("b"), field("c"), field("d")]}]}),
    );
    assert_eq!(m, "event `E` has 4 indexed fields, at most 3 allowed");
    let ok =
        json!({"weft_abi": 1, "events": [{"name": "E", "fields": [field("a"), field("b"), field("c")]}]});
    assert!(Abi::from_json(&ok.to_string()).is_ok());
}

#[test]
fn types_without_a_finite_value_are_refused() {
    let m = invalid(with_types(json!({"A": {"struct": [{"name": "a", "type": "A"}]}})));
    assert!(m.starts_with("type `A` has no finite value"), "{m}");
    let m = invalid(with_types(json!({
        "A": {"tuple": ["B"]},
        "B": {"struct": [{"name": "a", "type": {"array": {"type": "A", "len": 2}}}]}
    })));
    assert!(m.contains("has no finite value"), "{m}");
    let m =
        invalid(with_types(json!({"E": {"enum": [{"name": "V", "fields": [{"name": "e", "type": "E"}]}]}})));
    assert!(m.contains("type `E` has no finite value"), "{m}");
    // Recursion through option, vec, an empty array or another variant is fine.
    let ok = with_types(json!({
        "L": {"struct": [{"name": "next", "type": {"option": "L"}}]},
        "T": {"struct": [{"name": "kids", "type": {"vec": "T"}}]},
        "Z": {"struct": [{"name": "none", "type": {"array": {"type": "Z", "len": 0}}}]},
        "E": {"enum": [{"name": "Leaf"}, {"name": "Node", "fields": [{"name": "l", "type": "E"}, {"name": "r", "type": "E"}]}]}
    }));
    Abi::from_json(&ok.to_string()).unwrap();
}

#[test]
fn signatures_for_summaries() {
    let abi = token();
    let m = abi.method("transfer").unwrap();
    assert_eq!(m.signature(), "transfer(to: address, amount: u128) -> unit");
    assert_eq!(m.describe(), "transfer(to: address, amount: u128) -> unit ! TokenError");
    assert_eq!(abi.constructor.as_ref().unwrap().signature(), "init(supply: u128)");
    assert_eq!(
        abi.event("Transfer").unwrap().signature(),
        "Transfer(indexed from: address, indexed to: address, amount: u128)"
    );
    let rich = rich();
    assert_eq!(
        rich.method("everything").unwrap().describe(),
        "everything(a: u8, b: i64, c: u128, d: string, e: bytes, f: option<hash>) -> vec<Point> [payable] [read-only]"
    );
    let ty =
        TypeRef::from_json(&json!({"tuple": [{"array": {"type": "u8", "len": 4}}, {"tuple": ["bool"]}]}))
            .unwrap();
    assert_eq!(ty.to_string(), "([u8; 4], (bool,))");
    let summary = abi.summary();
    assert_eq!(
        summary,
        "constructor: init(supply: u128)\nmethods:\n  transfer(to: address, amount: u128) -> unit ! TokenError\n\
         events:\n  Transfer(indexed from: address, indexed to: address, amount: u128)\n"
    );
}
