//! The codec: round trips, arbitrary input, and every decode limit of `docs/protocol.md` §10.

use parity_scale_codec::{Compact, Encode};
use proptest::{collection::vec, prelude::*, sample::select};
use weft_types::{
    Address, Block, DecodeError, Event, ExecError, ExecStatus, Hash, Header, MethodName, Receipt, Signature,
    SignedTransaction, Transaction,
    codec::{ArgsLimit, BoundedBytes, BoundedVec, CodeLimit, Limit, SaltLimit},
    limits::{
        MAX_ARGS_BYTES, MAX_BLOCK_BYTES, MAX_BLOCK_TXS, MAX_CODE_BYTES, MAX_EVENT_DATA_BYTES,
        MAX_EVENT_TOPICS, MAX_EVENTS_PER_TX, MAX_METHOD_NAME_BYTES, MAX_RECEIPT_BYTES, MAX_RETURN_DATA_BYTES,
        MAX_SALT_BYTES, MAX_TX_BYTES,
    },
    tx::Action,
};

use crate::{
    call_tx,
    layout::{LIMIT_KINDS, TRAP_KINDS, exec_error_samples},
    signed_call,
};

// ---- Strategies ----

fn address() -> impl Strategy<Value = Address> {
    any::<[u8; 32]>().prop_map(Address)
}

fn hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

fn bytes<L: Limit>(max: usize) -> impl Strategy<Value = BoundedBytes<L>> {
    vec(any::<u8>(), 0..=max).prop_map(|v| BoundedBytes::new(v).expect("within the limit"))
}

fn method() -> impl Strategy<Value = MethodName> {
    "[A-Za-z_][A-Za-z0-9_]{0,63}".prop_map(|s| MethodName::new(&s).expect("matches the rule"))
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (address(), any::<u128>()).prop_map(|(to, amount)| Action::Transfer { to, amount }),
        // Up to 300 bytes, so both one- and two-byte compact lengths occur.
        bytes::<CodeLimit>(300).prop_map(|code| Action::UploadCode { code }),
        (hash(), bytes::<ArgsLimit>(100), any::<u128>(), bytes::<SaltLimit>(MAX_SALT_BYTES))
            .prop_map(|(code_hash, args, value, salt)| Action::Instantiate { code_hash, args, value, salt }),
        (address(), method(), bytes::<ArgsLimit>(100), any::<u128>())
            .prop_map(|(contract, method, args, value)| Action::Call { contract, method, args, value }),
        (address(), hash(), bytes::<ArgsLimit>(100))
            .prop_map(|(contract, code_hash, args)| Action::Upgrade { contract, code_hash, args }),
        (address(), proptest::option::of(address()))
            .prop_map(|(contract, admin)| Action::SetAdmin { contract, admin }),
    ]
}

fn signed_tx() -> impl Strategy<Value = SignedTransaction> {
    ((any::<u64>(), address(), any::<u64>(), any::<u64>(), any::<u128>()), action(), vec(any::<u8>(), 64))
        .prop_map(|((chain_id, sender, nonce, gas_limit, gas_price), action, sig)| SignedTransaction {
            tx: Transaction { chain_id, sender, nonce, gas_limit, gas_price, action },
            signature: Signature(sig.try_into().expect("64 bytes")),
        })
}

fn header() -> impl Strategy<Value = Header> {
    (any::<u64>(), hash(), any::<u64>(), address(), hash(), hash(), hash(), any::<u64>()).prop_map(
        |(height, parent_hash, timestamp_ms, proposer, tx_root, receipts_root, state_root, gas_used)| {
            Header {
                height,
                parent_hash,
                timestamp_ms,
                proposer,
                tx_root,
                receipts_root,
                state_root,
                gas_used,
            }
        },
    )
}

fn block() -> impl Strategy<Value = Block> {
    (header(), vec(signed_tx(), 0..4))
        .prop_map(|(header, txs)| Block { header, txs: BoundedVec::new(txs).expect("few txs") })
}

fn exec_error() -> impl Strategy<Value = ExecError> {
    prop_oneof![
        Just(ExecError::OutOfGas),
        (address(), vec(any::<u8>(), 0..64))
            .prop_map(|(contract, data)| ExecError::Reverted { contract, data }),
        (address(), select(TRAP_KINDS.to_vec()))
            .prop_map(|(contract, kind)| ExecError::Trap { contract, kind }),
        (address(), any::<u128>(), any::<u128>()).prop_map(|(account, needed, available)| {
            ExecError::InsufficientBalance { account, needed, available }
        }),
        (any::<u128>(), any::<u128>())
            .prop_map(|(needed, available)| ExecError::InsufficientDeposit { needed, available }),
        hash().prop_map(ExecError::CodeNotFound),
        address().prop_map(ExecError::ContractNotFound),
        address().prop_map(ExecError::ContractExists),
        (address(), ".{0,20}").prop_map(|(contract, method)| ExecError::MethodNotFound { contract, method }),
        address().prop_map(ExecError::ReentrancyRefused),
        (select(LIMIT_KINDS.to_vec()), any::<u64>(), any::<u64>())
            .prop_map(|(limit, value, max)| ExecError::LimitExceeded { limit, value, max }),
        ".{0,40}".prop_map(ExecError::InvalidCode),
        hash().prop_map(ExecError::CodeExists),
        address().prop_map(ExecError::BalanceOverflow),
        (address(), proptest::option::of(address()))
            .prop_map(|(contract, admin)| ExecError::NotAdmin { contract, admin }),
        hash().prop_map(ExecError::NoMigrate),
    ]
}

fn status() -> impl Strategy<Value = ExecStatus> {
    prop_oneof![Just(ExecStatus::Success), exec_error().prop_map(ExecStatus::Failed)]
}

fn event() -> impl Strategy<Value = Event> {
    (address(), vec(hash(), 0..=MAX_EVENT_TOPICS), vec(any::<u8>(), 0..80))
        .prop_map(|(contract, topics, data)| Event { contract, topics, data })
}

fn receipt() -> impl Strategy<Value = Receipt> {
    (
        (hash(), status(), any::<u64>(), any::<u128>(), any::<u128>(), any::<u128>()),
        (vec(event(), 0..4), vec(any::<u8>(), 0..80), proptest::option::of(address())),
    )
        .prop_map(
            |(
                (tx_hash, status, gas_used, fee, deposit_charged, deposit_refunded),
                (events, return_data, contract_address),
            )| Receipt {
                tx_hash,
                status,
                gas_used,
                fee,
                deposit_charged,
                deposit_refunded,
                events,
                return_data,
                contract_address,
            },
        )
}

/// A change to a valid encoding.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Flip(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut bytes: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let n = bytes.len().max(1);
    match *m {
        Mutation::Set(i, b) if !bytes.is_empty() => bytes[i % n] = b,
        Mutation::Flip(i, bit) if !bytes.is_empty() => bytes[i % n] ^= 1 << bit,
        Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
        Mutation::Remove(i) if !bytes.is_empty() => {
            bytes.remove(i % n);
        }
        Mutation::Truncate(i) => bytes.truncate(i % n),
        _ => {}
    }
    bytes
}

/// Decoding never panics, and whatever decodes re-encodes to the same bytes (§1.8).
fn check_canonical<T: Encode + std::fmt::Debug>(bytes: &[u8], decode: fn(&[u8]) -> Result<T, DecodeError>) {
    if let Ok(value) = decode(bytes) {
        assert_eq!(value.encode(), bytes, "{value:?} has a second encoding");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn signed_transactions_round_trip(tx in signed_tx()) {
        let bytes = tx.encode();
        prop_assert_eq!(SignedTransaction::decode_bounded(&bytes), Ok(tx.clone()));
        prop_assert_eq!(tx.hash(), weft_types::sha3_256(&bytes));
    }

    #[test]
    fn blocks_round_trip(block in block()) {
        let bytes = block.encode();
        prop_assert_eq!(Block::decode_bounded(&bytes), Ok(block.clone()));
        prop_assert_eq!(block.hash(), block.header.hash());
    }

    #[test]
    fn receipts_round_trip(receipt in receipt()) {
        let bytes = receipt.encode();
        prop_assert_eq!(Receipt::decode_bounded(&bytes), Ok(receipt));
    }

    #[test]
    fn mutated_transactions_decode_canonically_or_not_at_all(tx in signed_tx(), m in vec(mutation(), 1..4)) {
        let bytes = m.iter().fold(tx.encode(), mutate);
        check_canonical(&bytes, SignedTransaction::decode_bounded);
    }

    #[test]
    fn mutated_blocks_decode_canonically_or_not_at_all(block in block(), m in vec(mutation(), 1..4)) {
        let bytes = m.iter().fold(block.encode(), mutate);
        check_canonical(&bytes, Block::decode_bounded);
    }

    #[test]
    fn mutated_receipts_decode_canonically_or_not_at_all(receipt in receipt(), m in vec(mutation(), 1..4)) {
        let bytes = m.iter().fold(receipt.encode(), mutate);
        check_canonical(&bytes, Receipt::decode_bounded);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..2048)) {
        check_canonical(&bytes, SignedTransaction::decode_bounded);
        check_canonical(&bytes, Block::decode_bounded);
        check_canonical(&bytes, Receipt::decode_bounded);
    }

    #[test]
    fn arbitrary_bytes_after_a_valid_prefix_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        // Past the fixed parts, so that the variable-length decoders see the random bytes.
        let tx = [&call_tx().encode()[..72], &bytes].concat();
        check_canonical(&tx, SignedTransaction::decode_bounded);
        let block = [&[0u8; 184][..], &bytes].concat();
        check_canonical(&block, Block::decode_bounded);
        let receipt = [&[0u8; 32][..], &bytes].concat();
        check_canonical(&receipt, Receipt::decode_bounded);
    }
}

#[test]
fn every_exec_error_round_trips_in_a_receipt() {
    let samples = exec_error_samples();
    assert_eq!(samples.len(), 14);
    for (error, _) in samples {
        let receipt = Receipt {
            tx_hash: Hash([1; 32]),
            status: ExecStatus::Failed(error),
            gas_used: 2,
            fee: 3,
            deposit_charged: 4,
            deposit_refunded: 5,
            events: vec![],
            return_data: vec![],
            contract_address: None,
        };
        assert_eq!(Receipt::decode_bounded(&receipt.encode()), Ok(receipt));
    }
}

// ---- Decode limits (§10) ----

/// Asserts `result` is `Malformed` for `what` with a reason containing `needle`.
#[track_caller]
fn assert_malformed<T: std::fmt::Debug>(result: Result<T, DecodeError>, what: &str, needle: &str) {
    match &result {
        Err(e @ DecodeError::Malformed { what: w, reason }) if *w == what => {
            assert!(reason.contains(needle), "reason {reason:?} should contain {needle:?}");
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("invalid {what} encoding: ")), "{shown}");
        }
        other => panic!("expected a malformed {what} naming {needle:?}, got {other:?}"),
    }
}

fn compact(n: usize) -> Vec<u8> {
    Compact(u32::try_from(n).expect("a u32 length")).encode()
}

/// The 72-byte fixed part of the vector's transaction.
fn tx_head() -> Vec<u8> {
    call_tx().encode()[..72].to_vec()
}

/// A signed transaction with a hand-built action (the signature is all zero).
fn tx_with_action(action: &[u8]) -> Vec<u8> {
    [&tx_head()[..], action, &[0; 64]].concat()
}

fn call_action(method: &[u8], args: &[u8]) -> Vec<u8> {
    [&[3u8][..], &[0x11; 32], &compact(method.len()), method, &compact(args.len()), args, &[0; 16]].concat()
}

const CODE_ERR: &str = "code is longer than MAX_CODE_BYTES (262144)";
const ARGS_ERR: &str = "args are longer than MAX_ARGS_BYTES (65536)";
const SALT_ERR: &str = "salt is longer than MAX_SALT_BYTES (32)";
const METHOD_LEN_ERR: &str = "method name is longer than MAX_METHOD_NAME_BYTES (64)";
const METHOD_CHARSET_ERR: &str = "method name must match [A-Za-z_][A-Za-z0-9_]* (1 to 64 bytes)";
const PAST_END: &str = "length prefix runs past the end of the input";

#[test]
fn every_limit_message_is_in_the_document() {
    let doc = crate::vector::protocol_doc();
    for msg in [
        CODE_ERR,
        ARGS_ERR,
        SALT_ERR,
        METHOD_LEN_ERR,
        METHOD_CHARSET_ERR,
        "method name is not UTF-8",
        PAST_END,
        "block has more than MAX_BLOCK_TXS (10000) transactions",
        "event has more than MAX_EVENT_TOPICS (4) topics",
        "event data is longer than MAX_EVENT_DATA_BYTES (4096)",
        "receipt has more than MAX_EVENTS_PER_TX (256) events",
        "return data is longer than MAX_RETURN_DATA_BYTES (65536)",
    ] {
        assert!(doc.contains(msg), "§10.2 should quote {msg:?}");
    }
    for err in [
        DecodeError::TooLarge { what: "transaction", len: MAX_TX_BYTES + 1, max: MAX_TX_BYTES },
        DecodeError::TrailingBytes { what: "transaction", extra: 1 },
    ] {
        assert!(doc.contains(&err.to_string()), "§10.1 should quote {err}");
    }
    // The documented limit values.
    assert_eq!(
        (MAX_TX_BYTES, MAX_BLOCK_BYTES, MAX_RECEIPT_BYTES, MAX_BLOCK_TXS),
        (307_200, 8_388_608, 8_388_608, 10_000)
    );
    assert_eq!(
        (MAX_CODE_BYTES, MAX_ARGS_BYTES, MAX_SALT_BYTES, MAX_METHOD_NAME_BYTES),
        (262_144, 65_536, 32, 64)
    );
    assert_eq!(
        (MAX_EVENT_TOPICS, MAX_EVENT_DATA_BYTES, MAX_EVENTS_PER_TX, MAX_RETURN_DATA_BYTES),
        (4, 4096, 256, 65_536)
    );
}

#[test]
fn oversized_inputs_are_refused_before_decoding() {
    let tx = vec![0u8; MAX_TX_BYTES + 1];
    let err = SignedTransaction::decode_bounded(&tx).expect_err("too large");
    assert_eq!(err, DecodeError::TooLarge { what: "transaction", len: MAX_TX_BYTES + 1, max: MAX_TX_BYTES });
    assert_eq!(err.to_string(), "transaction is 307201 bytes, over the limit of 307200 bytes");
    // At the limit it is decoded (and these zeros are a transfer followed by trailing bytes).
    assert!(matches!(
        SignedTransaction::decode_bounded(&tx[..MAX_TX_BYTES]),
        Err(DecodeError::TrailingBytes { what: "transaction", .. })
    ));

    let block = vec![0u8; MAX_BLOCK_BYTES + 1];
    let err = Block::decode_bounded(&block).expect_err("too large");
    assert_eq!(err, DecodeError::TooLarge { what: "block", len: MAX_BLOCK_BYTES + 1, max: MAX_BLOCK_BYTES });
    assert!(err.to_string().starts_with("block is"), "{err}");

    let receipt = vec![0u8; MAX_RECEIPT_BYTES + 1];
    let err = Receipt::decode_bounded(&receipt).expect_err("too large");
    assert_eq!(
        err,
        DecodeError::TooLarge { what: "receipt", len: MAX_RECEIPT_BYTES + 1, max: MAX_RECEIPT_BYTES }
    );
    assert!(err.to_string().starts_with("receipt is"), "{err}");
}

#[test]
fn code_over_the_limit_is_refused() {
    let over = MAX_CODE_BYTES + 1;
    let action = [&[1u8][..], &compact(over), &vec![0; over]].concat();
    assert_malformed(SignedTransaction::decode_bounded(&tx_with_action(&action)), "transaction", CODE_ERR);
    // The prefix alone is enough: nothing after it is read.
    let prefix_only = [&tx_head()[..], &[1], &compact(over)].concat();
    assert_malformed(SignedTransaction::decode_bounded(&prefix_only), "transaction", CODE_ERR);
    let at_limit = [&[1u8][..], &compact(MAX_CODE_BYTES), &vec![0; MAX_CODE_BYTES]].concat();
    assert!(SignedTransaction::decode_bounded(&tx_with_action(&at_limit)).is_ok());
}

#[test]
fn args_over_the_limit_are_refused() {
    let over = vec![0; MAX_ARGS_BYTES + 1];
    let call = call_action(b"run", &over);
    assert_malformed(SignedTransaction::decode_bounded(&tx_with_action(&call)), "transaction", ARGS_ERR);
    let instantiate = [&[2u8][..], &[0x22; 32], &compact(over.len()), &over, &[0; 16], &[0]].concat();
    assert_malformed(
        SignedTransaction::decode_bounded(&tx_with_action(&instantiate)),
        "transaction",
        ARGS_ERR,
    );
    let at_limit = call_action(b"run", &over[1..]);
    assert!(SignedTransaction::decode_bounded(&tx_with_action(&at_limit)).is_ok());
}

#[test]
fn salt_over_the_limit_is_refused() {
    let instantiate = |salt: &[u8]| {
        let action = [&[2u8][..], &[0x22; 32], &[0], &[0; 16], &compact(salt.len()), salt].concat();
        SignedTransaction::decode_bounded(&tx_with_action(&action))
    };
    assert_malformed(instantiate(&[7; MAX_SALT_BYTES + 1]), "transaction", SALT_ERR);
    assert!(instantiate(&[7; MAX_SALT_BYTES]).is_ok());
    assert!(instantiate(&[]).is_ok());
}

#[test]
fn bad_method_names_are_refused() {
    let decode =
        |method: &[u8]| SignedTransaction::decode_bounded(&tx_with_action(&call_action(method, &[])));
    assert_malformed(decode(&[b'a'; MAX_METHOD_NAME_BYTES + 1]), "transaction", METHOD_LEN_ERR);
    assert!(decode(&[b'a'; MAX_METHOD_NAME_BYTES]).is_ok());
    for bad in [&b""[..], b"1abc", b"a-b", b"a b", b"caf\xc3\xa9", b"\xe2\x80\x8brun"] {
        assert_malformed(decode(bad), "transaction", METHOD_CHARSET_ERR);
    }
    for bad in [&b"\xff"[..], b"run\xc3", b"\xc0\xaf"] {
        assert_malformed(decode(bad), "transaction", "method name is not UTF-8");
    }
    for good in [&b"_"[..], b"A", b"transfer", b"_9", b"balance_of2"] {
        assert!(decode(good).is_ok(), "{:?}", String::from_utf8_lossy(good));
    }
    // The derived decoders name the path to the failing field (§10.3).
    let err = decode(&[b'a'; 65]).expect_err("refused").to_string();
    for step in ["Could not decode `SignedTransaction::tx`", "Could not decode `Action::Call::method`"] {
        assert!(err.contains(step), "{err}");
    }
}

#[test]
fn too_many_block_transactions_are_refused_on_the_prefix() {
    let header = [0u8; 184];
    let over = [&header[..], &compact(MAX_BLOCK_TXS + 1)].concat();
    assert_malformed(
        Block::decode_bounded(&over),
        "block",
        "block has more than MAX_BLOCK_TXS (10000) transactions",
    );
    let way_over = [&header[..], &Compact(u32::MAX).encode()].concat();
    assert_malformed(Block::decode_bounded(&way_over), "block", "MAX_BLOCK_TXS (10000)");
    // Within the limit but with no bytes for the items.
    let at_limit = [&header[..], &compact(MAX_BLOCK_TXS)].concat();
    assert_malformed(Block::decode_bounded(&at_limit), "block", PAST_END);
    let empty = [&header[..], &[0]].concat();
    assert!(Block::decode_bounded(&empty).is_ok());
}

#[test]
fn length_prefixes_past_the_end_are_refused() {
    let upload = [&tx_head()[..], &[1], &compact(200_000), &[0; 10]].concat();
    assert_malformed(SignedTransaction::decode_bounded(&upload), "transaction", PAST_END);
    let call =
        [&tx_head()[..], &[3], &[0x11; 32], &compact(3), b"run", &compact(60_000), &[1, 2, 3]].concat();
    assert_malformed(SignedTransaction::decode_bounded(&call), "transaction", PAST_END);
    let method = [&tx_head()[..], &[3], &[0x11; 32], &compact(40), b"abc"].concat();
    assert_malformed(SignedTransaction::decode_bounded(&method), "transaction", PAST_END);
    // A prefix over the limit is named as such even when it also runs past the end.
    let huge = [&tx_head()[..], &[1], &Compact(u32::MAX).encode()].concat();
    assert_malformed(SignedTransaction::decode_bounded(&huge), "transaction", CODE_ERR);
}

#[test]
fn unknown_variant_indices_are_refused() {
    for index in [6u8, 7, 0x80, 0xff] {
        let bytes = tx_with_action(&[index; 60]);
        assert_malformed(
            SignedTransaction::decode_bounded(&bytes),
            "transaction",
            "Could not decode `Action`, variant doesn't exist",
        );
    }
    let receipt = |status: &[u8], tail: &[u8]| {
        let bytes = [&[0u8; 32][..], status, &[0; 8], &[0; 48], &[0, 0], tail].concat();
        Receipt::decode_bounded(&bytes)
    };
    assert!(receipt(&[0], &[0]).is_ok());
    assert_malformed(receipt(&[2], &[0]), "receipt", "Could not decode `ExecStatus`, variant doesn't exist");
    assert_malformed(
        receipt(&[1, 16], &[0]),
        "receipt",
        "Could not decode `ExecError`, variant doesn't exist",
    );
    assert_malformed(
        receipt(&[&[1u8, 2][..], &[0xa1; 32], &[10]].concat(), &[0]),
        "receipt",
        "Could not decode `TrapKind`, variant doesn't exist",
    );
    assert_malformed(receipt(&[0], &[2]), "receipt", "unexpected first byte decoding Option");
    // The input ends where an index byte should be.
    assert_malformed(
        SignedTransaction::decode_bounded(&tx_head()),
        "transaction",
        "Could not decode `Action`, failed to read variant byte",
    );
}

#[test]
fn trailing_bytes_are_refused() {
    let tx = signed_call().encode();
    for extra in [1usize, 2, 64] {
        let bytes = [&tx[..], &vec![0; extra]].concat();
        let err = SignedTransaction::decode_bounded(&bytes).expect_err("trailing");
        assert_eq!(err, DecodeError::TrailingBytes { what: "transaction", extra });
        assert_eq!(err.to_string(), format!("transaction encoding has {extra} trailing bytes"));
    }
    let block = Block {
        header: Header {
            height: 0,
            parent_hash: Hash::ZERO,
            timestamp_ms: 0,
            proposer: Address::default(),
            tx_root: Hash::ZERO,
            receipts_root: Hash::ZERO,
            state_root: Hash::ZERO,
            gas_used: 0,
        },
        txs: BoundedVec::new(vec![signed_call()]).expect("one tx"),
    };
    let bytes = [block.encode(), vec![0]].concat();
    assert_eq!(Block::decode_bounded(&bytes), Err(DecodeError::TrailingBytes { what: "block", extra: 1 }));
    let receipt = [&[0u8; 32][..], &[0], &[0; 8], &[0; 48], &[0, 0, 0], &[7]].concat();
    assert_eq!(
        Receipt::decode_bounded(&receipt),
        Err(DecodeError::TrailingBytes { what: "receipt", extra: 1 })
    );
}

#[test]
fn non_canonical_length_prefixes_are_refused() {
    let good = signed_call().encode();
    assert!(SignedTransaction::decode_bounded(&good).is_ok());
    // Offsets of §11.2: the method length at 105 (`20`), the args length at 114 (`10`).
    assert_eq!((good[105], good[114]), (0x20, 0x10));
    let respell = |at: usize, with: &[u8]| [&good[..at], with, &good[at + 1..]].concat();
    for (at, n) in [(105usize, 8u32), (114, 4)] {
        for with in [
            (((n << 2) | 1) as u16).to_le_bytes().to_vec(),
            ((n << 2) | 2).to_le_bytes().to_vec(),
            [&[3u8][..], &n.to_le_bytes()].concat(),
        ] {
            assert_malformed(
                SignedTransaction::decode_bounded(&respell(at, &with)),
                "transaction",
                "out of range decoding Compact<u32>",
            );
        }
    }
    // The same for a vector: a block's transaction count of 0 in two-byte mode.
    let block = [&[0u8; 184][..], &[1, 0]].concat();
    assert_malformed(Block::decode_bounded(&block), "block", "out of range decoding Compact<u32>");
}

#[test]
fn receipt_limits_are_refused() {
    let head = |events: &[u8]| [&[0u8; 32][..], &[0], &[0; 8], &[0; 48], events].concat();
    let event = |topics: usize, data: usize| {
        [&[0x11u8; 32][..], &compact(topics), &vec![0x22; 32 * topics], &compact(data), &vec![0x33; data]]
            .concat()
    };
    let with_events = |events: &[Vec<u8>]| {
        let bytes = [head(&[&compact(events.len())[..], &events.concat()].concat()), vec![0, 0]].concat();
        Receipt::decode_bounded(&bytes)
    };
    assert!(with_events(&[event(MAX_EVENT_TOPICS, MAX_EVENT_DATA_BYTES)]).is_ok());
    assert_malformed(
        with_events(&[event(MAX_EVENT_TOPICS + 1, 0)]),
        "receipt",
        "event has more than MAX_EVENT_TOPICS (4) topics",
    );
    assert_malformed(
        with_events(&[event(0, MAX_EVENT_DATA_BYTES + 1)]),
        "receipt",
        "event data is longer than MAX_EVENT_DATA_BYTES (4096)",
    );
    // Too many events: the prefix alone is refused.
    let bytes = head(&compact(MAX_EVENTS_PER_TX + 1));
    assert_malformed(
        Receipt::decode_bounded(&bytes),
        "receipt",
        "receipt has more than MAX_EVENTS_PER_TX (256) events",
    );
    // Return data.
    let ret = |len: usize| {
        let bytes = [head(&[0]), compact(len), vec![0; len], vec![0]].concat();
        Receipt::decode_bounded(&bytes)
    };
    assert!(ret(MAX_RETURN_DATA_BYTES).is_ok());
    assert_malformed(
        ret(MAX_RETURN_DATA_BYTES + 1),
        "receipt",
        "return data is longer than MAX_RETURN_DATA_BYTES (65536)",
    );
}

#[test]
fn exec_error_strings_must_be_utf8() {
    // InvalidCode with the byte ff as its message.
    let bytes = [&[0u8; 32][..], &[1, 11, 4, 0xff], &[0; 8], &[0; 48], &[0, 0, 0]].concat();
    assert_malformed(Receipt::decode_bounded(&bytes), "receipt", "Invalid utf8 sequence");
}
