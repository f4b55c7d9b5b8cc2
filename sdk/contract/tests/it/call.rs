//! `CallError`'s helpers: the callee's panic message, typed error and `ExecError`.

use parity_scale_codec::Encode;
use weft_contract::prelude::*;
use weft_contract::{CallError, codes};
use weft_types::ExecError;

#[derive(Encode, Decode, Debug, PartialEq)]
enum E {
    A,
    B(u32),
}

#[test]
fn a_panic_revert_gives_its_message() {
    let e = CallError { code: codes::CALLEE_REVERTED, data: b"\x00boom".to_vec() };
    assert!(e.reverted());
    assert_eq!(e.panic_message(), Some("boom"));
    assert_eq!(e.error::<E>(), None);
    assert_eq!(e.exec_error(), None);
}

#[test]
fn a_typed_revert_decodes_as_the_error_type() {
    let mut data = vec![1u8];
    data.extend(E::B(7).encode());
    let e = CallError { code: codes::CALLEE_REVERTED, data };
    assert_eq!(e.error::<E>(), Some(E::B(7)));
    assert_eq!(e.panic_message(), None);
    // Trailing bytes or another type: no value.
    let e = CallError { code: codes::CALLEE_REVERTED, data: vec![1, 0, 0] };
    assert_eq!(e.error::<E>(), None);
}

#[test]
fn other_failures_carry_the_exec_error() {
    let who = Address([4; 32]);
    let e = CallError { code: codes::NOT_A_CONTRACT, data: ExecError::ContractNotFound(who).encode() };
    assert!(!e.reverted());
    assert_eq!(e.exec_error(), Some(ExecError::ContractNotFound(who)));
    assert_eq!(e.panic_message(), None);
    // Revert data that looks like a panic is not one unless the callee reverted.
    let e = CallError { code: codes::CALLEE_TRAPPED, data: b"\x00x".to_vec() };
    assert_eq!(e.panic_message(), None);
}
