//! Property tests: JSON → SCALE → JSON is the identity on canonical values, and any bytes that
//! decode re-encode to themselves (the encoding is a bijection, as docs/protocol.md §1.8 says
//! of the protocol's own types).

use proptest::{collection::vec, prelude::*};
use serde_json::{Value, json};
use weft_abi::TypeRef;

use crate::support::rich;

fn arb_type() -> impl Strategy<Value = TypeRef> {
    let leaf = prop_oneof![
        Just(TypeRef::Unit),
        Just(TypeRef::Bool),
        Just(TypeRef::U8),
        Just(TypeRef::U16),
        Just(TypeRef::U32),
        Just(TypeRef::U64),
        Just(TypeRef::U128),
        Just(TypeRef::I8),
        Just(TypeRef::I16),
        Just(TypeRef::I32),
        Just(TypeRef::I64),
        Just(TypeRef::I128),
        Just(TypeRef::String),
        Just(TypeRef::Bytes),
        Just(TypeRef::Address),
        Just(TypeRef::Hash),
        Just(TypeRef::Named("Point".into())),
        Just(TypeRef::Named("Shape".into())),
        Just(TypeRef::Named("Wrapper".into())),
        Just(TypeRef::Named("List".into())),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            // `option<unit>` and `option<option<T>>` are not representable in JSON (both `Some`
            // and `None` can be `null`), so the inner type of an option is never nullable.
            inner.clone().prop_map(|t| match t {
                TypeRef::Unit | TypeRef::Option(_) => TypeRef::Option(Box::new(TypeRef::Bool)),
                t => TypeRef::Option(Box::new(t)),
            }),
            inner.clone().prop_map(|t| TypeRef::Vec(Box::new(t))),
            (inner.clone(), 0u32..4).prop_map(|(t, n)| TypeRef::Array(Box::new(t), n)),
            vec(inner, 0..4).prop_map(TypeRef::Tuple),
        ]
    })
}

fn hex_of(bytes: Vec<u8>) -> Value {
    Value::String(weft_types::hex::encode(&bytes))
}

fn point() -> BoxedStrategy<Value> {
    (any::<i32>(), any::<i32>()).prop_map(|(x, y)| json!({"x": x, "y": y})).boxed()
}

/// A canonical JSON value of type `t` (what a reader shows for it).
fn arb_value(t: &TypeRef) -> BoxedStrategy<Value> {
    match t {
        TypeRef::Unit => Just(Value::Null).boxed(),
        TypeRef::Bool => any::<bool>().prop_map(Value::from).boxed(),
        TypeRef::U8 => any::<u8>().prop_map(Value::from).boxed(),
        TypeRef::U16 => any::<u16>().prop_map(Value::from).boxed(),
        TypeRef::U32 => any::<u32>().prop_map(Value::from).boxed(),
        TypeRef::U64 => any::<u64>().prop_map(Value::from).boxed(),
        TypeRef::U128 => any::<u128>().prop_map(|n| Value::String(n.to_string())).boxed(),
        TypeRef::I8 => any::<i8>().prop_map(Value::from).boxed(),
        TypeRef::I16 => any::<i16>().prop_map(Value::from).boxed(),
        TypeRef::I32 => any::<i32>().prop_map(Value::from).boxed(),
        TypeRef::I64 => any::<i64>().prop_map(Value::from).boxed(),
        TypeRef::I128 => any::<i128>().prop_map(|n| Value::String(n.to_string())).boxed(),
        TypeRef::String => ".{0,8}".prop_map(Value::String).boxed(),
        TypeRef::Bytes => vec(any::<u8>(), 0..8).prop_map(hex_of).boxed(),
        TypeRef::Address | TypeRef::Hash => any::<[u8; 32]>().prop_map(|b| hex_of(b.to_vec())).boxed(),
        TypeRef::Option(inner) => prop_oneof![Just(Value::Null), arb_value(inner)].boxed(),
        TypeRef::Vec(inner) => vec(arb_value(inner), 0..4).prop_map(Value::Array).boxed(),
        TypeRef::Array(inner, n) => vec(arb_value(inner), *n as usize).prop_map(Value::Array).boxed(),
        TypeRef::Tuple(items) => {
            items.iter().map(arb_value).collect::<Vec<_>>().prop_map(Value::Array).boxed()
        }
        TypeRef::Named(name) => match name.as_str() {
            "Point" => point(),
            "Wrapper" => any::<u64>().prop_map(|n| json!([n])).boxed(),
            "List" => vec(any::<u8>(), 1..5)
                .prop_map(|heads| {
                    heads.iter().rev().fold(Value::Null, |tail, h| json!({"head": h, "tail": tail}))
                })
                .boxed(),
            _ => prop_oneof![
                Just(json!("Empty")),
                (point(), any::<u16>()).prop_map(|(c, r)| json!({"Circle": {"center": c, "r": r}})),
                vec(point(), 0..3).prop_map(|ps| json!({"Poly": {"points": ps}})),
            ]
            .boxed(),
        },
    }
}

fn typed_value() -> impl Strategy<Value = (TypeRef, Value)> {
    arb_type().prop_flat_map(|t| {
        let v = arb_value(&t);
        (Just(t), v)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn json_scale_json_round_trips((t, v) in typed_value()) {
        let abi = rich();
        let bytes = abi.encode_value(&t, &v).map_err(|e| TestCaseError::fail(format!("{t}: {e}")))?;
        let back = abi.decode_value(&t, &bytes).map_err(|e| TestCaseError::fail(format!("{t}: {e}")))?;
        prop_assert_eq!(back, v);
    }

    #[test]
    fn decodable_bytes_re_encode_to_themselves(t in arb_type(), bytes in vec(any::<u8>(), 0..48)) {
        let abi = rich();
        if let Ok(v) = abi.decode_value(&t, &bytes) {
            prop_assert_eq!(abi.encode_value(&t, &v).unwrap(), bytes);
        }
    }

    #[test]
    fn decoding_never_panics_on_any_type_in_the_abi(bytes in vec(any::<u8>(), 0..64)) {
        let abi = rich();
        for name in ["Order", "Shape", "Tree", "List", "Point", "Wrapper", "Item"] {
            let _ = abi.decode_value(&TypeRef::Named(name.into()), &bytes);
        }
        for m in &abi.methods {
            let _ = abi.decode_value(&m.returns, &bytes);
            let _ = abi.decode_revert(m.error.as_ref(), &bytes);
        }
    }
}
