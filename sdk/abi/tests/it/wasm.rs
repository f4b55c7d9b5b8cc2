//! The `weft:abi` custom section: present, absent, duplicated, broken.

use weft_abi::{Abi, AbiError, abi_section, with_abi_section};

use crate::support::{TOKEN_ABI, token};

fn module() -> Vec<u8> {
    wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "f")))"#).unwrap()
}

#[test]
fn section_is_found_when_present() {
    let wasm = with_abi_section(&module(), TOKEN_ABI);
    assert_eq!(Abi::from_wasm(&wasm).unwrap(), Some(token()));
    assert_eq!(abi_section(&wasm).unwrap(), Some(TOKEN_ABI.as_bytes()));
    // The module is still a valid module with the section appended.
    wasmparser::Validator::new().validate_all(&wasm).unwrap();
}

#[test]
fn absent_section_is_none() {
    assert_eq!(Abi::from_wasm(&module()).unwrap(), None);
    // Another custom section is not the ABI.
    let mut other = module();
    wasm_encoder::Section::append_to(
        &wasm_encoder::CustomSection { name: "name".into(), data: b"\0".as_slice().into() },
        &mut other,
    );
    assert_eq!(Abi::from_wasm(&other).unwrap(), None);
}

#[test]
fn broken_sections_and_modules_are_errors() {
    let twice = with_abi_section(&with_abi_section(&module(), TOKEN_ABI), TOKEN_ABI);
    assert_eq!(Abi::from_wasm(&twice), Err(AbiError::DuplicateSection(2)));
    let garbage = with_abi_section(&module(), "{not json");
    assert!(matches!(Abi::from_wasm(&garbage), Err(AbiError::Json(_))));
    let v2 = with_abi_section(&module(), r#"{"weft_abi": 2}"#);
    assert_eq!(Abi::from_wasm(&v2), Err(AbiError::UnsupportedVersion { found: 2, known: 1 }));
    let mut not_utf8 = module();
    wasm_encoder::Section::append_to(
        &wasm_encoder::CustomSection { name: "weft:abi".into(), data: [0xff, 0xfe].as_slice().into() },
        &mut not_utf8,
    );
    assert_eq!(Abi::from_wasm(&not_utf8), Err(AbiError::NotUtf8));
    assert!(matches!(Abi::from_wasm(b"not wasm"), Err(AbiError::Wasm(_))));
    let mut truncated = with_abi_section(&module(), TOKEN_ABI);
    truncated.truncate(truncated.len() - 10);
    assert!(matches!(Abi::from_wasm(&truncated), Err(AbiError::Wasm(_))));
}
