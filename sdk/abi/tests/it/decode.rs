//! SCALE → JSON: exactness, bounds on hostile input, and revert data.

use parity_scale_codec::{Compact, Encode};
use serde_json::{Value, json};
use weft_abi::{AbiError, Revert, TypeRef};

use crate::support::{rich, token};

fn ty(v: Value) -> TypeRef {
    TypeRef::from_json(&v).unwrap()
}

fn decode_err(t: Value, bytes: &[u8]) -> String {
    rich().decode_value(&ty(t), bytes).unwrap_err().to_string()
}

#[test]
fn trailing_and_missing_bytes_are_errors() {
    let abi = rich();
    assert_eq!(
        abi.decode_value(&TypeRef::U32, &[1, 0, 0, 0, 9]),
        Err(AbiError::TrailingBytes { what: "u32".into(), extra: 1 })
    );
    assert_eq!(
        abi.decode_value(&TypeRef::Unit, &[0]).unwrap_err().to_string(),
        "unit encoding has 1 trailing bytes"
    );
    assert_eq!(
        decode_err(json!("u128"), &[1, 2]),
        "cannot decode u128: input ends inside u128 (16 bytes needed, 2 left)"
    );
    assert_eq!(
        decode_err(json!("Point"), &[1, 0, 0, 0, 2]),
        "cannot decode Point.y: input ends inside i32 (4 bytes needed, 1 left)"
    );
    assert_eq!(abi.decode_return("one", &[1]).unwrap(), json!(true));
    assert_eq!(abi.decode_return("none", &[]).unwrap(), json!(null));
    assert!(matches!(abi.decode_return("zzz", &[]), Err(AbiError::UnknownMethod(_))));
}

#[test]
fn non_canonical_bytes_are_refused() {
    assert_eq!(decode_err(json!("bool"), &[2]), "cannot decode bool: invalid bool byte 0x02");
    assert_eq!(
        decode_err(json!({"option": "u8"}), &[2, 1]),
        "cannot decode option<u8>: invalid option byte 0x02"
    );
    // 1 in two-byte compact mode is not minimal.
    assert!(decode_err(json!("bytes"), &[0x05, 0x00, 0xaa]).contains("bad length prefix"));
    assert_eq!(
        decode_err(json!("string"), &[8, 0xff, 0xfe]),
        "cannot decode string: string is not UTF-8: invalid utf-8 sequence of 1 bytes from index 0"
    );
    assert_eq!(
        decode_err(json!("Shape"), &[3]),
        "cannot decode Shape: variant index 3 does not exist in enum `Shape`"
    );
    let mut poly = vec![2];
    poly.extend(Compact(2u32).encode());
    poly.extend((1i32, 2i32).encode());
    assert_eq!(
        decode_err(json!("Shape"), &poly),
        "cannot decode Shape.Poly.points[1].x: input ends inside i32 (4 bytes needed, 0 left)"
    );
}

#[test]
fn length_prefixes_are_checked_before_allocating() {
    // A vec of u64 claiming 2^30 - 1 items with 3 bytes of input is refused at once.
    let mut huge = Compact(u32::MAX >> 2).encode();
    huge.extend([1, 2, 3]);
    assert_eq!(
        decode_err(json!({"vec": "u64"}), &huge),
        "cannot decode vec<u64>: length prefix 1073741823 runs past the end of the input (3 bytes left)"
    );
    assert!(
        decode_err(json!("bytes"), &huge).contains("length prefix 1073741823 of bytes runs past the end")
    );
    assert!(decode_err(json!("Tree"), &[1, 0xfe, 0xff, 0xff, 0xff]).contains("runs past the end"));
    // Items that occupy no bytes are bounded by the value budget instead.
    let units = Compact(1_000_000u32).encode();
    assert_eq!(
        decode_err(json!({"vec": "unit"}), &units),
        "cannot decode vec<unit>[65539]: more than 65536 values beyond the input's size"
    );
    let nested = [Compact(2u32).encode(), Compact(60_000u32).encode(), Compact(60_000u32).encode()].concat();
    assert!(decode_err(json!({"vec": {"vec": {"tuple": []}}}), &nested).contains("more than 65536 values"));
    // A small vec of units is fine.
    assert_eq!(rich().decode_value(&ty(json!({"vec": "unit"})), &[8]).unwrap(), json!([null, null]));
}

#[test]
fn nesting_is_bounded_while_decoding() {
    // A list of 40 links: each `Some` adds two levels; the bound stops it.
    let mut bytes = Vec::new();
    for _ in 0..40 {
        bytes.extend([0, 1]);
    }
    bytes.extend([0, 0]);
    let e = decode_err(json!("List"), &bytes);
    assert!(e.ends_with("value nested deeper than 32 levels"), "{e}");
    // A short one decodes.
    assert_eq!(
        rich().decode_value(&ty(json!("List")), &[1, 1, 2, 0]).unwrap(),
        json!({"head": 1, "tail": {"head": 2, "tail": null}})
    );
}

#[test]
fn reverts_follow_the_tag_byte() {
    let abi = token();
    let err_ty = abi.method("transfer").unwrap().error.clone();
    let err_ty = err_ty.as_ref();
    let mut panic = vec![0];
    panic.extend(b"insufficient balance");
    assert_eq!(abi.decode_revert(err_ty, &panic), Revert::Panic("insufficient balance".into()));
    assert_eq!(abi.decode_revert(None, &panic), Revert::Panic("insufficient balance".into()));
    assert_eq!(Revert::untyped(&panic).to_string(), "panicked: insufficient balance");
    assert_eq!(Revert::untyped(&[0]), Revert::Panic(String::new()));

    let mut typed = vec![1, 0];
    typed.extend((5u128, 10u128).encode());
    let r = abi.decode_revert(err_ty, &typed);
    assert_eq!(r, Revert::Error(json!({"InsufficientBalance": {"have": "5", "need": "10"}})));
    assert_eq!(r.to_string(), r#"error: {"InsufficientBalance":{"have":"5","need":"10"}}"#);
    assert_eq!(r.error_value(), Some(&json!({"InsufficientBalance": {"have": "5", "need": "10"}})));
    assert_eq!(r.panic_message(), None);
    assert_eq!(abi.decode_revert(err_ty, &[1, 1]), Revert::Error(json!("NotOwner")));

    // Neither form: raw, shown as hex.
    assert_eq!(abi.decode_revert(None, &typed), Revert::Raw(typed.clone()), "typed error without a type");
    assert_eq!(abi.decode_revert(err_ty, &[1, 7]), Revert::Raw(vec![1, 7]), "undecodable typed error");
    assert_eq!(abi.decode_revert(err_ty, &[1, 1, 0]), Revert::Raw(vec![1, 1, 0]), "trailing bytes");
    assert_eq!(abi.decode_revert(err_ty, &[0, 0xff]), Revert::Raw(vec![0, 0xff]), "panic that is not UTF-8");
    assert_eq!(abi.decode_revert(err_ty, b"oops"), Revert::Raw(b"oops".to_vec()));
    assert_eq!(Revert::Raw(b"oops".to_vec()).to_string(), "0x6f6f7073");
    assert_eq!(abi.decode_revert(err_ty, &[]), Revert::Raw(vec![]));
    assert_eq!(Revert::Raw(vec![]).to_string(), "no revert data");
}
