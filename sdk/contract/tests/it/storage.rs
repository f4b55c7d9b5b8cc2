//! Storage keys.

use weft_contract::prelude::*;
use weft_contract::storage::Key;

#[test]
fn keys_are_prefix_then_scale() {
    let a = Address([7; 32]);
    let key = Key::new(&[3]).with(&(a, 5u32));
    let mut expected = vec![3u8];
    expected.extend_from_slice(&[7; 32]);
    expected.extend_from_slice(&5u32.to_le_bytes());
    assert_eq!(key.as_bytes(), &expected[..]);
}

#[test]
fn a_key_of_exactly_128_bytes_is_fine() {
    let key = Key::new(&[1]).with(&[0u8; 127]);
    assert_eq!(key.as_bytes().len(), 128);
}

#[test]
#[should_panic(expected = "storage key longer than 128 bytes")]
fn longer_keys_panic() {
    let _ = Key::new(&[1]).with(&[0u8; 128]);
}

#[test]
#[should_panic(expected = "weft host functions exist only in wasm")]
fn host_functions_panic_off_wasm() {
    let _ = weft_contract::env::caller();
}
