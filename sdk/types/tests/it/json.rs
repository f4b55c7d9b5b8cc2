//! serde (feature `serde`): hashes and addresses as strict `0x` hex strings.

use weft_types::{Address, Hash, hash::sha3_256};

#[test]
fn hash_and_address_round_trip_as_hex_strings() {
    let h = sha3_256(b"weft");
    let json = serde_json::to_string(&h).unwrap();
    assert_eq!(json, format!("\"{h}\""));
    assert_eq!(serde_json::from_str::<Hash>(&json).unwrap(), h);
    let a = Address([7; 32]);
    assert_eq!(serde_json::from_str::<Address>(&serde_json::to_string(&a).unwrap()).unwrap(), a);
}

#[test]
fn malformed_hex_is_refused_with_the_reason() {
    let err = serde_json::from_str::<Address>("\"0x1234\"").unwrap_err().to_string();
    assert!(err.contains("64"), "{err}");
    assert!(serde_json::from_str::<Hash>("42").is_err());
}
