//! The byte layouts of `docs/protocol.md` §1–§9, checked against hand-built bytes.

use parity_scale_codec::{Compact, Decode, Encode};
use weft_types::{
    Account, Address, Event, ExecError, ExecStatus, Hash, Header, LimitKind, ParseHexError, Receipt,
    TrapKind,
    codec::{BoundedBytes, CodeLimit},
    hash::{merkle_root, sha3_256_parts},
    limits::{MAX_ARGS_BYTES, MAX_CODE_BYTES, MAX_EVENT_DATA_BYTES, MAX_EVENT_TOPICS, MAX_EVENTS_PER_TX},
    sha3_256,
    state::{account_key, code_key, storage_key},
    tx::{Action, domain, domain_payload},
};

use crate::{call_tx, signed_call, vector::protocol_doc, vector_key};

/// `compact(n)` bytes of §1.2, as a helper for hand-built encodings.
fn compact(n: usize) -> Vec<u8> {
    Compact(u32::try_from(n).expect("a u32 length")).encode()
}

#[test]
fn compact_examples_match_the_document() {
    let doc = protocol_doc();
    let examples: [(u32, &str); 8] = [
        (0, "00"),
        (1, "04"),
        (63, "fc"),
        (64, "0101"),
        (16383, "fdff"),
        (16384, "02000100"),
        ((1 << 30) - 1, "feffffff"),
        (1 << 30, "0300000040"),
    ];
    for (n, hex) in examples {
        assert_eq!(hex::encode(Compact(n).encode()), hex, "compact({n})");
        assert_eq!(<Compact<u32>>::decode(&mut &hex::decode(hex).expect("hex")[..]).map(|c| c.0), Ok(n));
        assert!(doc.contains(&format!("→ `{hex}`")), "§1.2 should show {n} → {hex}");
    }
    // Non-minimal forms are refused, as are big-integer prefixes other than 03.
    for bad in
        ["0100", "fd00", "02000000", "0300000000", "03ffffff3f", "0700000000ff", "13000000000000000001"]
    {
        let bytes = hex::decode(bad).expect("hex");
        assert!(<Compact<u32>>::decode(&mut &bytes[..]).is_err(), "{bad} must be refused");
    }
}

#[test]
fn integers_and_options() {
    assert_eq!(hex::encode(5u128.encode()), "05000000000000000000000000000000");
    assert_eq!(hex::encode(1_000_000u64.encode()), "40420f0000000000");
    assert_eq!(None::<Address>.encode(), [0]);
    let some = Some(Address([7; 32])).encode();
    assert_eq!((some[0], some.len()), (1, 33));
    assert!(Option::<Address>::decode(&mut &[2u8; 33][..]).is_err());
}

#[test]
fn action_variants() {
    let to = Address([0x42; 32]);
    let transfer = Action::Transfer { to, amount: 9 };
    assert_eq!(transfer.encode(), [&[0u8][..], &to.0, &9u128.to_le_bytes()].concat());

    let code = vec![0xaa; 100];
    let upload = Action::UploadCode { code: code.clone().try_into().expect("small") };
    assert_eq!(upload.encode(), [&[1u8][..], &compact(100), &code].concat());

    let code_hash = Hash([3; 32]);
    let instantiate = Action::Instantiate {
        code_hash,
        args: vec![1, 2].try_into().expect("small"),
        value: 7,
        salt: vec![9; 32].try_into().expect("32 bytes"),
    };
    let expected =
        [&[2u8][..], &code_hash.0, &[8, 1, 2], &7u128.to_le_bytes(), &compact(32), &[9; 32]].concat();
    assert_eq!(instantiate.encode(), expected);

    let Action::Call { contract, .. } = call_tx().action else { panic!("a Call") };
    let call = call_tx().action.encode();
    let expected = [
        &[3u8][..],
        &contract.0,
        &[8 << 2],
        b"transfer",
        &[4 << 2, 0xde, 0xad, 0xbe, 0xef],
        &5u128.to_le_bytes(),
    ]
    .concat();
    assert_eq!(call, expected);
}

#[test]
fn transaction_fixed_part_is_72_bytes() {
    let tx = call_tx();
    let bytes = tx.encode();
    assert_eq!(bytes[72..], tx.action.encode()[..]);
    let signed = signed_call().encode();
    assert_eq!(signed[..signed.len() - 64], bytes[..]);
    assert_eq!(signed[signed.len() - 64..], signed_call().signature.0);
}

#[test]
fn largest_transaction_fits_max_tx_bytes() {
    let mut tx = call_tx();
    tx.action = Action::UploadCode { code: vec![0; MAX_CODE_BYTES].try_into().expect("at the limit") };
    let signed = tx.sign(&vector_key());
    let len = signed.encode().len();
    assert_eq!(len, 262_285);
    assert!(len < weft_types::limits::MAX_TX_BYTES);
    assert_eq!(weft_types::SignedTransaction::decode_bounded(&signed.encode()), Ok(signed));
    // Call with args at the limit is smaller.
    let mut tx = call_tx();
    if let Action::Call { args, .. } = &mut tx.action {
        *args = vec![0; MAX_ARGS_BYTES].try_into().expect("at the limit");
    }
    assert!(tx.sign(&vector_key()).encode().len() < 262_285);
}

#[test]
fn header_is_184_bytes_in_field_order() {
    let header = Header {
        height: 1,
        parent_hash: Hash([2; 32]),
        timestamp_ms: 3,
        proposer: Address([4; 32]),
        tx_root: Hash([5; 32]),
        receipts_root: Hash([6; 32]),
        state_root: Hash([7; 32]),
        gas_used: 8,
    };
    let expected = [
        &1u64.to_le_bytes()[..],
        &[2; 32],
        &3u64.to_le_bytes(),
        &[4; 32],
        &[5; 32],
        &[6; 32],
        &[7; 32],
        &8u64.to_le_bytes(),
    ]
    .concat();
    assert_eq!(header.encode(), expected);
    assert_eq!(expected.len(), 184);
    assert_eq!(header.hash(), sha3_256(&expected));
}

/// One value of every `ExecError` variant, in index order, with its hand-built encoding.
pub fn exec_error_samples() -> Vec<(ExecError, Vec<u8>)> {
    let a = Address([0xa1; 32]);
    let hh = Hash([0xb2; 32]);
    let string = |s: &str| [compact(s.len()), s.as_bytes().to_vec()].concat();
    vec![
        (ExecError::OutOfGas, vec![]),
        (ExecError::Reverted { contract: a, data: vec![1, 2, 3] }, [&a.0[..], &[12, 1, 2, 3]].concat()),
        (ExecError::Trap { contract: a, kind: TrapKind::StackLimit }, [&a.0[..], &[7]].concat()),
        (
            ExecError::InsufficientBalance { account: a, needed: 10, available: 3 },
            [&a.0[..], &10u128.to_le_bytes(), &3u128.to_le_bytes()].concat(),
        ),
        (
            ExecError::InsufficientDeposit { needed: 10, available: 3 },
            [10u128.to_le_bytes(), 3u128.to_le_bytes()].concat(),
        ),
        (ExecError::CodeNotFound(hh), hh.0.to_vec()),
        (ExecError::ContractNotFound(a), a.0.to_vec()),
        (ExecError::ContractExists(a), a.0.to_vec()),
        (
            ExecError::MethodNotFound { contract: a, method: "no such".into() },
            [a.0.to_vec(), string("no such")].concat(),
        ),
        (ExecError::ReentrancyRefused(a), a.0.to_vec()),
        (
            ExecError::LimitExceeded { limit: LimitKind::CallDepth, value: 9, max: 8 },
            [&[6u8][..], &9u64.to_le_bytes(), &8u64.to_le_bytes()].concat(),
        ),
        (ExecError::InvalidCode("too many functions".into()), string("too many functions")),
        (ExecError::CodeExists(hh), hh.0.to_vec()),
        (ExecError::BalanceOverflow(a), a.0.to_vec()),
    ]
}

#[test]
fn exec_error_indices_and_fields() {
    for (index, (error, fields)) in exec_error_samples().into_iter().enumerate() {
        let expected = [vec![index as u8], fields].concat();
        assert_eq!(error.encode(), expected, "{error:?}");
        let status = ExecStatus::Failed(error.clone()).encode();
        assert_eq!(status, [vec![1], expected].concat());
        assert_eq!(ExecError::decode(&mut &error.encode()[..]), Ok(error));
    }
    assert_eq!(ExecStatus::Success.encode(), [0]);
    assert!(ExecError::decode(&mut &[14u8][..]).is_err());
    assert!(ExecStatus::decode(&mut &[2u8][..]).is_err());
}

/// Every `TrapKind`, in index order.
pub const TRAP_KINDS: [TrapKind; 10] = [
    TrapKind::Unreachable,
    TrapKind::MemoryOutOfBounds,
    TrapKind::IntegerDivisionByZero,
    TrapKind::IntegerOverflow,
    TrapKind::BadConversionToInteger,
    TrapKind::IndirectCall,
    TrapKind::BadSignature,
    TrapKind::StackLimit,
    TrapKind::HostMemoryAccess,
    TrapKind::Other,
];

/// Every `LimitKind`, in index order.
pub const LIMIT_KINDS: [LimitKind; 10] = [
    LimitKind::StorageKey,
    LimitKind::StorageValue,
    LimitKind::EventTopics,
    LimitKind::EventData,
    LimitKind::EventCount,
    LimitKind::ReturnData,
    LimitKind::CallDepth,
    LimitKind::CallInput,
    LimitKind::HostInput,
    LimitKind::Memory,
];

#[test]
fn trap_and_limit_kind_indices() {
    for (i, kind) in TRAP_KINDS.iter().enumerate() {
        assert_eq!(kind.encode(), [i as u8]);
    }
    for (i, kind) in LIMIT_KINDS.iter().enumerate() {
        assert_eq!(kind.encode(), [i as u8]);
    }
    assert!(TrapKind::decode(&mut &[10u8][..]).is_err());
    assert!(LimitKind::decode(&mut &[10u8][..]).is_err());
}

/// A successful receipt with fixed scalar fields and the given events and return data.
fn receipt_with(events: Vec<Event>, return_data: Vec<u8>) -> Receipt {
    Receipt {
        tx_hash: Hash([9; 32]),
        status: ExecStatus::Success,
        gas_used: 1,
        fee: 2,
        deposit_charged: 3,
        deposit_refunded: 4,
        events,
        return_data,
        contract_address: Some(Address([8; 32])),
    }
}

#[test]
fn receipt_and_event_field_order() {
    let event = Event { contract: Address([1; 32]), topics: vec![Hash([2; 32])], data: vec![3] };
    assert_eq!(event.encode(), [&[1u8; 32][..], &[4], &[2; 32], &[4, 3]].concat());
    let receipt = receipt_with(vec![event.clone()], vec![5, 6]);
    let expected = [
        &[9u8; 32][..],
        &[0],
        &1u64.to_le_bytes(),
        &2u128.to_le_bytes(),
        &3u128.to_le_bytes(),
        &4u128.to_le_bytes(),
        &[4],
        &event.encode(),
        &[8, 5, 6],
        &[1],
        &[8; 32],
    ]
    .concat();
    assert_eq!(receipt.encode(), expected);
    assert_eq!(receipt.hash(), sha3_256(&expected));
    assert_eq!(Receipt::decode_bounded(&expected), Ok(receipt));
}

#[test]
fn largest_receipt_is_as_documented() {
    let event = Event {
        contract: Address([1; 32]),
        topics: vec![Hash([2; 32]); MAX_EVENT_TOPICS],
        data: vec![3; MAX_EVENT_DATA_BYTES],
    };
    let receipt =
        receipt_with(vec![event; MAX_EVENTS_PER_TX], vec![5; weft_types::limits::MAX_RETURN_DATA_BYTES]);
    let bytes = receipt.encode();
    assert_eq!(bytes.len(), 1_155_968);
    assert!(bytes.len() < weft_types::limits::MAX_RECEIPT_BYTES);
    assert_eq!(Receipt::decode_bounded(&bytes), Ok(receipt));
}

#[test]
fn account_sizes_and_state_keys() {
    let key_account = Account { balance: 1, nonce: 2, code_hash: None, storage_bytes: 3, deposit: 4 };
    assert_eq!(key_account.encode().len(), 49);
    assert_eq!(
        key_account.encode(),
        [&1u128.to_le_bytes()[..], &2u64.to_le_bytes(), &[0], &3u64.to_le_bytes(), &4u128.to_le_bytes()]
            .concat()
    );
    let a = Address([0xaa; 32]);
    let hh = Hash([0xbb; 32]);
    assert_eq!(account_key(&a), [&[0u8][..], &a.0].concat());
    assert_eq!(code_key(&hh), [&[1u8][..], &hh.0].concat());
    assert_eq!(storage_key(&a, b"k"), [&[2u8][..], &a.0, b"k"].concat());
    assert_eq!(storage_key(&a, b"").len(), 33);
}

#[test]
fn domain_tags_and_payload() {
    assert_eq!((domain::TX, domain::TX.encode()[0]), (&b"weft:tx:v1"[..], 0x28));
    assert_eq!((domain::VOTE, domain::VOTE.encode()[0]), (&b"weft:vote:v1"[..], 0x30));
    assert_eq!((domain::PROPOSAL, domain::PROPOSAL.encode()[0]), (&b"weft:proposal:v1"[..], 0x40));
    assert_eq!(
        domain_payload(domain::VOTE, 7, &[0xab]),
        [&[0x30u8][..], b"weft:vote:v1", &7u64.to_le_bytes(), &[0xab]].concat()
    );
    assert_eq!(weft_types::address::CONTRACT_ADDRESS_TAG, b"weft:contract:v1");
}

#[test]
fn merkle_root_shapes() {
    let leaf = |x: Hash| sha3_256_parts(&[&[0], &x.0]);
    let node = |a: Hash, b: Hash| sha3_256_parts(&[&[1], &a.0, &b.0]);
    let [a, b, c, d, e] = [b"a", b"b", b"c", b"d", b"e"].map(|x| sha3_256(x));
    assert_eq!(merkle_root(&[]), sha3_256(b""));
    assert_eq!(merkle_root(&[a]), leaf(a));
    assert_eq!(merkle_root(&[a, b]), node(leaf(a), leaf(b)));
    // An odd node is carried up unchanged, not hashed and not duplicated.
    assert_eq!(merkle_root(&[a, b, c]), node(node(leaf(a), leaf(b)), leaf(c)));
    assert_eq!(
        merkle_root(&[a, b, c, d, e]),
        node(node(node(leaf(a), leaf(b)), node(leaf(c), leaf(d))), leaf(e))
    );
}

#[test]
fn text_form_is_strict() {
    let hex64 = "ab".repeat(32);
    let a: Address = format!("0x{hex64}").parse().expect("valid");
    assert_eq!(a, Address([0xab; 32]));
    assert_eq!(format!("0x{}", hex64.to_uppercase()).parse::<Address>(), Ok(a));
    assert_eq!(a.to_string(), format!("0x{hex64}"));
    assert_eq!(format!("0X{hex64}").parse::<Address>(), Err(ParseHexError::MissingPrefix));
    assert_eq!(hex64.parse::<Hash>(), Err(ParseHexError::MissingPrefix));
    assert_eq!(
        format!("0x{}", &hex64[..62]).parse::<Hash>(),
        Err(ParseHexError::WrongLength { expected: 64, found: 62 })
    );
    assert_eq!(
        format!("0x{hex64}00").parse::<Hash>(),
        Err(ParseHexError::WrongLength { expected: 64, found: 66 })
    );
    assert_eq!(
        format!("0x {}", &hex64[1..]).parse::<Hash>(),
        Err(ParseHexError::InvalidDigit { ch: ' ', position: 2 })
    );
    assert_eq!(
        format!("0x0x{}", &hex64[2..]).parse::<Hash>(),
        Err(ParseHexError::InvalidDigit { ch: 'x', position: 3 })
    );
    let doc = protocol_doc();
    for msg in [
        ParseHexError::MissingPrefix.to_string(),
        ParseHexError::InvalidDigit { ch: 'g', position: 65 }.to_string(),
        ParseHexError::WrongLength { expected: 64, found: 4 }.to_string(),
    ] {
        assert!(doc.contains(&msg), "§9 should quote {msg:?}");
    }
}

#[test]
fn bounded_bytes_encode_like_byte_strings() {
    let b: BoundedBytes<CodeLimit> = vec![1, 2, 3].try_into().expect("small");
    assert_eq!(b.encode(), vec![1u8, 2, 3].encode());
    assert_eq!(b.encode(), [12, 1, 2, 3]);
}
