//! JSON → SCALE: exact bytes for every type form, the argument shapes, and every error class
//! with its message.

use parity_scale_codec::{Compact, Encode};
use serde_json::{Value, json};
use weft_abi::{Abi, AbiError, TypeRef};

use crate::support::{addr, rich, token};

fn ty(v: Value) -> TypeRef {
    TypeRef::from_json(&v).unwrap()
}

/// Encodes `value` as `t` with the rich ABI, checks the bytes, decodes them back and checks the
/// JSON is `canonical` (what a reader shows).
fn round_trip(t: Value, value: Value, bytes: &[u8], canonical: Value) {
    let abi = rich();
    let t = ty(t);
    let encoded = abi.encode_value(&t, &value).unwrap_or_else(|e| panic!("{t}: {e}"));
    assert_eq!(encoded, bytes, "encoding of {value} as {t}");
    assert_eq!(abi.decode_value(&t, &encoded).unwrap(), canonical, "decoding {t}");
}

fn value_err(abi: &Abi, t: Value, value: Value) -> String {
    abi.encode_value(&ty(t), &value).unwrap_err().to_string()
}

#[test]
fn primitives_round_trip() {
    round_trip(json!("unit"), json!(null), &[], json!(null));
    round_trip(json!("bool"), json!(true), &[1], json!(true));
    round_trip(json!("bool"), json!(false), &[0], json!(false));
    round_trip(json!("u8"), json!(255), &[255], json!(255));
    round_trip(json!("u16"), json!("513"), &513u16.encode(), json!(513));
    round_trip(json!("u32"), json!(4_000_000_000u32), &4_000_000_000u32.encode(), json!(4_000_000_000u32));
    round_trip(json!("u64"), json!(u64::MAX), &u64::MAX.encode(), json!(u64::MAX));
    round_trip(json!("u64"), json!("18446744073709551615"), &u64::MAX.encode(), json!(u64::MAX));
    round_trip(json!("i8"), json!(-128), &(-128i8).encode(), json!(-128));
    round_trip(json!("i16"), json!("-2"), &(-2i16).encode(), json!(-2));
    round_trip(json!("i32"), json!(i32::MIN), &i32::MIN.encode(), json!(i32::MIN));
    round_trip(json!("i64"), json!(i64::MIN), &i64::MIN.encode(), json!(i64::MIN));
    round_trip(json!("u128"), json!("1000"), &1000u128.encode(), json!("1000"));
    round_trip(json!("u128"), json!(1000), &1000u128.encode(), json!("1000"));
    round_trip(
        json!("u128"),
        json!(u128::MAX.to_string()),
        &u128::MAX.encode(),
        json!(u128::MAX.to_string()),
    );
    round_trip(
        json!("i128"),
        json!(i128::MIN.to_string()),
        &i128::MIN.encode(),
        json!(i128::MIN.to_string()),
    );
    round_trip(json!("i128"), json!(-5), &(-5i128).encode(), json!("-5"));
    round_trip(json!("u128"), json!("-0"), &0u128.encode(), json!("0"));
    round_trip(json!("string"), json!("héllo"), &"héllo".encode(), json!("héllo"));
    round_trip(json!("string"), json!(""), &[0], json!(""));
    round_trip(
        json!("bytes"),
        json!("0xDEADbeef"),
        &vec![0xdeu8, 0xad, 0xbe, 0xef].encode(),
        json!("0xdeadbeef"),
    );
    round_trip(json!("bytes"), json!("0x"), &[0], json!("0x"));
    round_trip(json!("address"), json!(addr(0xab)), &[0xab; 32], json!(addr(0xab)));
    round_trip(
        json!("hash"),
        json!(addr(0x01).to_uppercase().replacen("0X", "0x", 1)),
        &[1; 32],
        json!(addr(1)),
    );
}

#[test]
fn composites_round_trip() {
    round_trip(json!({"option": "u8"}), json!(null), &[0], json!(null));
    round_trip(json!({"option": "u8"}), json!(7), &[1, 7], json!(7));
    round_trip(json!({"vec": "u16"}), json!([1, 2]), &vec![1u16, 2].encode(), json!([1, 2]));
    round_trip(json!({"vec": "unit"}), json!([null, null, null]), &[12], json!([null, null, null]));
    round_trip(json!({"array": {"type": "u8", "len": 3}}), json!([1, 2, 3]), &[1, 2, 3], json!([1, 2, 3]));
    round_trip(json!({"array": {"type": "bool", "len": 0}}), json!([]), &[], json!([]));
    round_trip(json!({"tuple": ["u8", "string"]}), json!([1, "a"]), &(1u8, "a").encode(), json!([1, "a"]));
    round_trip(json!({"tuple": []}), json!([]), &[], json!([]));
    round_trip(json!("Point"), json!({"x": -1, "y": 2}), &(-1i32, 2i32).encode(), json!({"x": -1, "y": 2}));
    round_trip(json!("Wrapper"), json!([9]), &9u64.encode(), json!([9]));
    round_trip(json!("Shape"), json!("Empty"), &[0], json!("Empty"));
    // A fieldless variant is also accepted as {"Empty": {}} or {"Empty": null}.
    round_trip(json!("Shape"), json!({"Empty": {}}), &[0], json!("Empty"));
    round_trip(json!("Shape"), json!({"Empty": null}), &[0], json!("Empty"));
    let circle = json!({"Circle": {"center": {"x": 1, "y": 2}, "r": 3}});
    let mut bytes = vec![1];
    bytes.extend((1i32, 2i32, 3u16).encode());
    round_trip(json!("Shape"), circle.clone(), &bytes, circle);
    let list = json!({"head": 1, "tail": {"head": 2, "tail": null}});
    round_trip(json!("List"), list.clone(), &[1, 1, 2, 0], list);
    let tree = json!({"value": 1, "children": [{"value": 2, "children": []}]});
    round_trip(json!("Tree"), tree.clone(), &[1, 4, 2, 0], tree);
    let order = json!({
        "id": [7], "items": [{"price": "10", "qty": 2}], "tag": [1, 2, 3, 4],
        "pair": [addr(5), "-1"], "nothing": null
    });
    let mut bytes = 7u64.encode();
    bytes.extend(Compact(1u32).encode());
    bytes.extend((10u128, 2u16).encode());
    bytes.extend([1, 2, 3, 4]);
    bytes.extend([5; 32]);
    bytes.extend((-1i128).encode());
    round_trip(json!("Order"), order.clone(), &bytes, order);
}

#[test]
fn args_by_name_by_position_and_bare() {
    let abi = token();
    let args = &abi.method("transfer").unwrap().args;
    let mut expected = vec![0x11; 32];
    expected.extend(10u128.encode());
    assert_eq!(abi.encode_args(args, &json!({"to": addr(0x11), "amount": "10"})).unwrap(), expected);
    assert_eq!(abi.encode_args(args, &json!({"amount": 10, "to": addr(0x11)})).unwrap(), expected);
    assert_eq!(abi.encode_args(args, &json!([addr(0x11), "10"])).unwrap(), expected);
    assert_eq!(abi.encode_call("transfer", &json!([addr(0x11), 10])).unwrap(), expected);
    // One argument: bare scalars are accepted.
    let rich = rich();
    let one = &rich.method("one").unwrap().args;
    assert_eq!(rich.encode_args(one, &json!(5)).unwrap(), 5u32.encode());
    assert_eq!(rich.encode_args(one, &json!("5")).unwrap(), 5u32.encode());
    assert_eq!(rich.encode_args(one, &json!({"n": 5})).unwrap(), 5u32.encode());
    assert_eq!(rich.encode_args(one, &json!([5])).unwrap(), 5u32.encode());
    // One struct argument: its object is accepted bare too, since it does not name the arg;
    // the same for an array argument given as an array.
    let order = json!({"id": [1], "items": [], "tag": [0, 0, 0, 0], "pair": [addr(0), "0"], "nothing": null});
    assert_eq!(
        rich.encode_call("order", &order).unwrap(),
        rich.encode_call("order", &json!({ "order": order })).unwrap()
    );
    let vec_abi = Abi::from_json(
        r#"{"weft_abi": 1, "methods": [{"name": "f", "args": [{"name": "xs", "type": {"vec": "u8"}}]}]}"#,
    )
    .unwrap();
    let expected = vec![1u8, 2].encode();
    assert_eq!(vec_abi.encode_call("f", &json!([1, 2])).unwrap(), expected);
    assert_eq!(vec_abi.encode_call("f", &json!([[1, 2]])).unwrap(), expected);
    assert_eq!(vec_abi.encode_call("f", &json!({"xs": [1, 2]})).unwrap(), expected);
    assert_eq!(vec_abi.encode_call("f", &json!([7])).unwrap(), vec![7u8].encode());
    // No arguments: null, {} and [] all mean none.
    for none in [json!(null), json!({}), json!([])] {
        assert_eq!(rich.encode_call("none", &none).unwrap(), Vec::<u8>::new());
    }
    // The constructor.
    assert_eq!(abi.encode_constructor(&json!({"supply": "1000"})).unwrap(), 1000u128.encode());
    assert_eq!(rich.encode_constructor(&json!(null)).unwrap(), Vec::<u8>::new(), "no constructor: no args");
}

#[test]
fn argument_shape_errors() {
    let abi = token();
    let args = &abi.method("transfer").unwrap().args;
    let err = |v: Value| abi.encode_args(args, &v).unwrap_err();
    assert_eq!(err(json!({"amount": "1"})), AbiError::MissingArgument("to".into()));
    assert_eq!(err(json!({"amount": "1"})).to_string(), "missing argument `to`");
    assert_eq!(
        err(json!({"too": addr(1), "to": addr(1), "amount": "1"})).to_string(),
        "unknown argument `too`"
    );
    assert_eq!(err(json!([addr(1)])).to_string(), "expected 2 arguments, got 1");
    assert_eq!(
        err(json!("10")).to_string(),
        "arguments must be a JSON object keyed by argument name or an array in order, got \"10\""
    );
    let rich = rich();
    assert_eq!(
        rich.encode_call("one", &json!([1, 2])).unwrap_err().to_string(),
        "expected 1 arguments, got 2"
    );
    assert_eq!(rich.encode_call("one", &json!({"m": 1})).unwrap_err().to_string(), "unknown argument `m`");
    assert_eq!(
        rich.encode_call("one", &json!(true)).unwrap_err().to_string(),
        "argument `n`: expected u32 as a number or decimal string, got true"
    );
    assert_eq!(
        rich.encode_call("nope", &json!([])).unwrap_err().to_string(),
        "the contract has no method `nope`"
    );
    assert_eq!(
        rich.encode_call("none", &json!(5)).unwrap_err(),
        AbiError::ArgsShape { hint: "", got: "5".into() }
    );
}

#[test]
fn value_errors_name_the_argument_and_the_problem() {
    let abi = token();
    let e = abi.encode_call("transfer", &json!({"to": addr(1), "amount": true})).unwrap_err();
    assert_eq!(e.to_string(), "argument `amount`: expected u128 as a decimal string or number, got true");
    assert!(matches!(e, AbiError::Value { ref path, .. } if path == "argument `amount`"));
    let e = abi.encode_call("transfer", &json!({"to": "0x12", "amount": "1"})).unwrap_err();
    assert_eq!(
        e.to_string(),
        "argument `to`: address must be 0x followed by 64 hex digits, got \"0x12\" (expected 64 hex digits after 0x, found 2)"
    );
    let e = abi.encode_call("transfer", &json!({"to": 5, "amount": "1"})).unwrap_err();
    assert_eq!(e.to_string(), "argument `to`: address must be 0x followed by 64 hex digits, got 5");
    let e = abi.encode_call("transfer", &json!({"to": addr(1), "amount": "-1"})).unwrap_err();
    assert_eq!(e.to_string(), "argument `amount`: -1 is out of range for u128");
    let e = abi.encode_call(
        "transfer",
        &json!({"to": addr(1), "amount": "340282366920938463463374607431768211456"}),
    );
    assert_eq!(
        e.unwrap_err().to_string(),
        "argument `amount`: 340282366920938463463374607431768211456 is out of range for u128"
    );
    let e = abi.encode_call("transfer", &json!({"to": addr(1), "amount": 1.5})).unwrap_err();
    assert_eq!(
        e.to_string(),
        "argument `amount`: expected u128 as a decimal string or number, got 1.5 (not an integer; write large integers as decimal strings)"
    );
    let e = abi.encode_call("transfer", &json!({"to": addr(1), "amount": "1e3"})).unwrap_err();
    assert_eq!(e.to_string(), "argument `amount`: expected u128 as a decimal string or number, got \"1e3\"");
    let e = abi.encode_call("transfer", &json!({"to": addr(1), "amount": " 1"})).unwrap_err();
    assert!(e.to_string().ends_with("got \" 1\""), "{e}");

    let rich = rich();
    assert_eq!(value_err(&rich, json!("u8"), json!(256)), "value: 256 is out of range for u8");
    assert_eq!(value_err(&rich, json!("i8"), json!(-129)), "value: -129 is out of range for i8");
    assert_eq!(value_err(&rich, json!("u64"), json!(-1)), "value: -1 is out of range for u64");
    assert_eq!(
        value_err(&rich, json!("u32"), json!("x")),
        "value: expected u32 as a number or decimal string, got \"x\""
    );
    assert_eq!(value_err(&rich, json!("bool"), json!(1)), "value: expected bool (true or false), got 1");
    assert_eq!(value_err(&rich, json!("unit"), json!(0)), "value: expected null for unit, got 0");
    assert_eq!(value_err(&rich, json!("string"), json!(1)), "value: expected a string, got 1");
    assert_eq!(
        value_err(&rich, json!("bytes"), json!("abcd")),
        "value: bytes must be 0x followed by hex digits, got \"abcd\""
    );
    assert_eq!(
        value_err(&rich, json!("bytes"), json!("0xabc")),
        "value: bytes must be 0x followed by an even number of hex digits, found 3"
    );
    assert_eq!(
        value_err(&rich, json!("bytes"), json!("0xzz")),
        "value: bytes must be 0x followed by hex digits: invalid hex digit 'z' at position 2"
    );
    let e = value_err(&rich, json!("hash"), json!(format!("0x{}g", "0".repeat(63))));
    assert!(e.starts_with("value: hash must be 0x followed by 64 hex digits, got \"0x0000"), "{e}");
    assert!(
        e.ends_with("...\" (invalid hex digit 'g' at position 65)")
            || e.ends_with("... (invalid hex digit 'g' at position 65)"),
        "{e}"
    );
    assert_eq!(
        value_err(&rich, json!({"vec": "u8"}), json!(1)),
        "value: expected an array for vec<u8>, got 1"
    );
    assert_eq!(
        value_err(&rich, json!({"array": {"type": "u8", "len": 2}}), json!([1])),
        "value: expected an array of 2 items for [u8; 2], got 1 items"
    );
    assert_eq!(
        value_err(&rich, json!({"tuple": ["u8", "u8"]}), json!([1, 2, 3])),
        "value: expected an array of 2 items for (u8, u8), got 3 items"
    );
    assert_eq!(
        value_err(&rich, json!("Point"), json!([1, 2])),
        "value: expected an object for struct `Point`, got [1,2]"
    );
    assert_eq!(
        value_err(&rich, json!("Point"), json!({"x": 1})),
        "value: missing field `y` of struct `Point`"
    );
    assert_eq!(
        value_err(&rich, json!("Point"), json!({"x": 1, "y": 2, "z": 3})),
        "value: unknown field `z` of struct `Point`"
    );
    assert_eq!(
        value_err(&rich, json!("Shape"), json!("Square")),
        "value: unknown variant `Square` of enum `Shape` (expected one of Empty, Circle, Poly)"
    );
    assert_eq!(
        value_err(&rich, json!("Shape"), json!("Circle")),
        "value: variant `Circle` of enum `Shape` has fields: write {\"Circle\": {…}}"
    );
    assert_eq!(
        value_err(&rich, json!("Shape"), json!(3)),
        "value: expected a variant of enum `Shape` (\"Variant\" or {\"Variant\": {fields}}), got 3"
    );
}

#[test]
fn errors_deep_inside_give_the_path() {
    let rich = rich();
    let order = json!({
        "id": [1], "items": [{"price": "1", "qty": 1}, {"price": "1", "qty": 1}, {"price": "x", "qty": 1}],
        "tag": [0, 0, 0, 0], "pair": [addr(0), "0"], "nothing": null
    });
    assert_eq!(
        rich.encode_call("order", &json!({ "order": order })).unwrap_err().to_string(),
        "argument `order.items[2].price`: expected u128 as a decimal string or number, got \"x\""
    );
    let shape = json!({"Circle": {"center": {"x": 1, "y": "no"}, "r": 1}});
    assert_eq!(
        rich.encode_value(&ty(json!("Shape")), &shape).unwrap_err().to_string(),
        "value at `.Circle.center.y`: expected i32 as a number or decimal string, got \"no\""
    );
    let e = rich.encode_call("everything", &json!([1, 2, "3", "s", "0x", {"a": 1}])).unwrap_err();
    assert!(e.to_string().starts_with("argument `f`: hash must be 0x followed by 64 hex digits"), "{e}");
}

#[test]
fn value_depth_is_bounded() {
    // A list 40 deep exceeds the nesting bound of 32 while encoding.
    let mut list = json!({"head": 0, "tail": null});
    for _ in 0..40 {
        list = json!({"head": 0, "tail": list});
    }
    let e = rich().encode_value(&ty(json!("List")), &list).unwrap_err();
    let e = e.to_string();
    assert!(
        e.starts_with("value at `.tail.tail.tail") && e.ends_with("`: value nested deeper than 32 levels"),
        "{e}"
    );
}
