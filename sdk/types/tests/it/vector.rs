//! The test vectors of `docs/protocol.md` §11, rebuilt from their inputs, and the signature rule
//! of §8.3 on them.

use ed25519_dalek::{SigningKey, Verifier};
use parity_scale_codec::Encode;
use weft_types::{
    Account, Address, Block, BoundedVec, DecodeError, Event, ExecError, ExecStatus, Hash, Header, Receipt,
    Signature, SignatureError, SignedTransaction, Transaction, block, hash, sha3_256,
    tx::{Action, address_of, domain, domain_payload, verify_strict},
};

use crate::{EMPTY_WASM, VECTOR_SALT, call_tx, signed_call, transfer_tx, unhex, vector_contract, vector_key};

const SECRET_KEY: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
const PUBLIC_KEY: &str = "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664";

const CODE_HASH: &str = "76fcc948d12ff9ec24dcedd5e76c8fac29cfa916ecc2e1fd73e9d99cadb633ab";
const CONTRACT_PREIMAGE: &str = "40776566743a636f6e74726163743a763179b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad04966476fcc948d12ff9ec24dcedd5e76c8fac29cfa916ecc2e1fd73e9d99cadb633ab1001020304";
const CONTRACT: &str = "3cabfe77f03e46ff49b564848ecbd2eac7a12ba91cc7d15f671cd4b449a40e5b";

const CALL_TX: &str = "070000000000000079b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664030000000000000040420f000000000002000000000000000000000000000000033cabfe77f03e46ff49b564848ecbd2eac7a12ba91cc7d15f671cd4b449a40e5b207472616e7366657210deadbeef05000000000000000000000000000000";
/// The field-by-field rows of the annotated table of §11.2, in order.
const CALL_TX_FIELDS: [&str; 12] = [
    "0700000000000000",
    "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664",
    "0300000000000000",
    "40420f0000000000",
    "02000000000000000000000000000000",
    "03",
    "3cabfe77f03e46ff49b564848ecbd2eac7a12ba91cc7d15f671cd4b449a40e5b",
    "20",
    "7472616e73666572",
    "10",
    "deadbeef",
    "05000000000000000000000000000000",
];
const CALL_PAYLOAD: &str = "28776566743a74783a76310700000000000000070000000000000079b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664030000000000000040420f000000000002000000000000000000000000000000033cabfe77f03e46ff49b564848ecbd2eac7a12ba91cc7d15f671cd4b449a40e5b207472616e7366657210deadbeef05000000000000000000000000000000";
const CALL_SIGNATURE: &str = "46f0e902f78297fad3f7cc61116f1092ffa1769bde87852179ab8e39d8ec3228a6964984dd9b344387c6d5eb502b0484ee6958a15de4d5163a83ab3bd384890f";
const CALL_SIGNED: &str = "070000000000000079b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664030000000000000040420f000000000002000000000000000000000000000000033cabfe77f03e46ff49b564848ecbd2eac7a12ba91cc7d15f671cd4b449a40e5b207472616e7366657210deadbeef0500000000000000000000000000000046f0e902f78297fad3f7cc61116f1092ffa1769bde87852179ab8e39d8ec3228a6964984dd9b344387c6d5eb502b0484ee6958a15de4d5163a83ab3bd384890f";
const CALL_HASH: &str = "26feb556b8cd4e6e804e0f61ec148ccd6cf35cadec90d07b2c69330a77436542";

const TRANSFER_TX: &str = "070000000000000079b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496640400000000000000085200000000000001000000000000000000000000000000004242424242424242424242424242424242424242424242424242424242424242000064a7b3b6e00d0000000000000000";
const TRANSFER_PAYLOAD: &str = "28776566743a74783a76310700000000000000070000000000000079b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496640400000000000000085200000000000001000000000000000000000000000000004242424242424242424242424242424242424242424242424242424242424242000064a7b3b6e00d0000000000000000";
const TRANSFER_SIGNATURE: &str = "c0beadadf3d712ae301c618c1f8cf3729b9882233ee92ffce7eae6ed6c324cef488a1421055f1edfb6eeb703b0746b1fd0e63dd64b0d395ea98e1d7032255f00";
const TRANSFER_SIGNED: &str = "070000000000000079b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad0496640400000000000000085200000000000001000000000000000000000000000000004242424242424242424242424242424242424242424242424242424242424242000064a7b3b6e00d0000000000000000c0beadadf3d712ae301c618c1f8cf3729b9882233ee92ffce7eae6ed6c324cef488a1421055f1edfb6eeb703b0746b1fd0e63dd64b0d395ea98e1d7032255f00";
const TRANSFER_HASH: &str = "13531f37ce6401ba44e8815d8e04e156f8ea0622e48daedc541aa552979d0d5a";

const CALL_RECEIPT: &str = "26feb556b8cd4e6e804e0f61ec148ccd6cf35cadec90d07b2c69330a774365420020cb000000000000409601000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000043cabfe77f03e46ff49b564848ecbd2eac7a12ba91cc7d15f671cd4b449a40e5b04c96cb90d94eeefb2ab13db5c8e5e78463c9b2247df2e0c4c7b6a9de9ef4c11a604010000";
const CALL_RECEIPT_HASH: &str = "70120d16a58c9628202ca8ee9289e8f0d4d1e4fdedc05da48215cfcf55b20fe1";
const TRANSFER_RECEIPT: &str = "13531f37ce6401ba44e8815d8e04e156f8ea0622e48daedc541aa552979d0d5a010379b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664000064a7b3b6e00d0000000000000000e70300000000000000000000000000000852000000000000085200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";
const TRANSFER_RECEIPT_HASH: &str = "f312ebb18f1781ca5ffd79d86bd510d69d0ecfca93da901504bb4c85ff5238a9";
const TX_ROOT: &str = "b8352814c9e613d66f50c8001b4980bd55bf84805ec9b514e07516f3b43c86da";
const RECEIPTS_ROOT: &str = "63863039d13fe39daace4211b5d31e38c8bbc2fd58317cb93c0783a26d155f2f";
const HEADER: &str = "010000000000000000000000000000000000000000000000000000000000000000000000000000000068e5cf8b01000079b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664b8352814c9e613d66f50c8001b4980bd55bf84805ec9b514e07516f3b43c86da63863039d13fe39daace4211b5d31e38c8bbc2fd58317cb93c0783a26d155f2f1111111111111111111111111111111111111111111111111111111111111111281d010000000000";
const BLOCK_HASH: &str = "f8d2c3630795b1a4a5a6ff75a101dcebae982df9333642586c093f0a33318c69";

const ACCOUNT: &str = "e803000000000000000000000000000005000000000000000176fcc948d12ff9ec24dcedd5e76c8fac29cfa916ecc2e1fd73e9d99cadb633ab400000000000000080020000000000000000000000000000";
const EMPTY_ROOT: &str = "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";

/// Every hex string above: each must appear verbatim in the document.
const ALL: &[(&str, &str)] = &[
    ("SECRET_KEY", SECRET_KEY),
    ("PUBLIC_KEY", PUBLIC_KEY),
    ("CODE_HASH", CODE_HASH),
    ("CONTRACT_PREIMAGE", CONTRACT_PREIMAGE),
    ("CONTRACT", CONTRACT),
    ("CALL_TX", CALL_TX),
    ("CALL_PAYLOAD", CALL_PAYLOAD),
    ("CALL_SIGNATURE", CALL_SIGNATURE),
    ("CALL_SIGNED", CALL_SIGNED),
    ("CALL_HASH", CALL_HASH),
    ("TRANSFER_TX", TRANSFER_TX),
    ("TRANSFER_PAYLOAD", TRANSFER_PAYLOAD),
    ("TRANSFER_SIGNATURE", TRANSFER_SIGNATURE),
    ("TRANSFER_SIGNED", TRANSFER_SIGNED),
    ("TRANSFER_HASH", TRANSFER_HASH),
    ("CALL_RECEIPT", CALL_RECEIPT),
    ("CALL_RECEIPT_HASH", CALL_RECEIPT_HASH),
    ("TRANSFER_RECEIPT", TRANSFER_RECEIPT),
    ("TRANSFER_RECEIPT_HASH", TRANSFER_RECEIPT_HASH),
    ("TX_ROOT", TX_ROOT),
    ("RECEIPTS_ROOT", RECEIPTS_ROOT),
    ("HEADER", HEADER),
    ("BLOCK_HASH", BLOCK_HASH),
    ("ACCOUNT", ACCOUNT),
    ("EMPTY_ROOT", EMPTY_ROOT),
];

pub fn protocol_doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn h(bytes: impl AsRef<[u8]>) -> String {
    hex::encode(bytes)
}

fn transfer_signed() -> SignedTransaction {
    transfer_tx().sign(&vector_key())
}

fn call_receipt() -> Receipt {
    Receipt {
        tx_hash: signed_call().hash(),
        status: ExecStatus::Success,
        gas_used: 52_000,
        fee: 104_000,
        deposit_charged: 0,
        deposit_refunded: 0,
        events: vec![Event {
            contract: vector_contract(),
            topics: vec![sha3_256(b"Transfer")],
            data: vec![0x01],
        }],
        return_data: vec![],
        contract_address: None,
    }
}

fn transfer_receipt() -> Receipt {
    Receipt {
        tx_hash: transfer_signed().hash(),
        status: ExecStatus::Failed(ExecError::InsufficientBalance {
            account: address_of(&vector_key()),
            needed: 1_000_000_000_000_000_000,
            available: 999,
        }),
        gas_used: 21_000,
        fee: 21_000,
        deposit_charged: 0,
        deposit_refunded: 0,
        events: vec![],
        return_data: vec![],
        contract_address: None,
    }
}

#[test]
fn key_and_contract_address_vector() {
    let key = vector_key();
    assert_eq!(h(key.to_bytes()), SECRET_KEY);
    let sender = address_of(&key);
    assert_eq!(h(sender.0), PUBLIC_KEY);
    assert_eq!(sender.to_string(), format!("0x{PUBLIC_KEY}"));

    let code_hash = sha3_256(&EMPTY_WASM);
    assert_eq!(h(code_hash.0), CODE_HASH);
    // The preimage as the document spells it out, hashed by hand.
    let mut preimage = vec![16 << 2];
    preimage.extend_from_slice(b"weft:contract:v1");
    preimage.extend_from_slice(&sender.0);
    preimage.extend_from_slice(&code_hash.0);
    preimage.push((VECTOR_SALT.len() as u8) << 2);
    preimage.extend_from_slice(&VECTOR_SALT);
    assert_eq!(h(&preimage), CONTRACT_PREIMAGE);
    assert_eq!(h(sha3_256(&preimage).0), CONTRACT);
    assert_eq!(h(Address::contract(&sender, &code_hash, &VECTOR_SALT).0), CONTRACT);
    assert_eq!(h(vector_contract().0), CONTRACT);
}

#[test]
fn call_vector() {
    let tx = call_tx();
    assert_eq!(h(tx.encode()), CALL_TX);
    assert_eq!(CALL_TX_FIELDS.concat(), CALL_TX, "the annotated rows add up to the encoding");
    assert_eq!(tx.encode().len(), 135);
    assert_eq!(h(tx.signing_payload()), CALL_PAYLOAD);
    assert_eq!(h(domain_payload(domain::TX, 7, &tx.encode())), CALL_PAYLOAD);
    assert!(CALL_PAYLOAD.starts_with(&format!("28{}0700000000000000", h(domain::TX))));
    assert!(CALL_PAYLOAD.ends_with(CALL_TX));

    let signed = tx.sign(&vector_key());
    assert_eq!(h(signed.signature.0), CALL_SIGNATURE);
    assert_eq!(h(signed.encode()), CALL_SIGNED);
    assert_eq!(signed.encode().len(), 199);
    assert_eq!(h(signed.hash().0), CALL_HASH);
    assert_eq!(h(sha3_256(&unhex(CALL_SIGNED)).0), CALL_HASH);

    assert_eq!(signed.verify_signature(), Ok(()));
    assert_eq!(SignedTransaction::decode_bounded(&unhex(CALL_SIGNED)), Ok(signed));
}

#[test]
fn transfer_vector() {
    let tx = transfer_tx();
    assert_eq!(h(tx.encode()), TRANSFER_TX);
    assert_eq!(tx.encode().len(), 121);
    assert_eq!(h(tx.signing_payload()), TRANSFER_PAYLOAD);
    let signed = transfer_signed();
    assert_eq!(h(signed.signature.0), TRANSFER_SIGNATURE);
    assert_eq!(h(signed.encode()), TRANSFER_SIGNED);
    assert_eq!(signed.encode().len(), 185);
    assert_eq!(h(signed.hash().0), TRANSFER_HASH);
    assert_eq!(signed.verify_signature(), Ok(()));
    assert_eq!(SignedTransaction::decode_bounded(&unhex(TRANSFER_SIGNED)), Ok(signed));
}

#[test]
fn receipts_roots_and_header_vector() {
    let (r1, r2) = (call_receipt(), transfer_receipt());
    assert_eq!(h(r1.encode()), CALL_RECEIPT);
    assert_eq!(h(r1.hash().0), CALL_RECEIPT_HASH);
    assert_eq!(h(r2.encode()), TRANSFER_RECEIPT);
    assert_eq!(h(r2.hash().0), TRANSFER_RECEIPT_HASH);
    assert_eq!(Receipt::decode_bounded(&unhex(CALL_RECEIPT)), Ok(r1.clone()));
    assert_eq!(Receipt::decode_bounded(&unhex(TRANSFER_RECEIPT)), Ok(r2.clone()));

    let txs = [signed_call(), transfer_signed()];
    let tx_root = block::tx_root(&txs);
    assert_eq!(h(tx_root.0), TX_ROOT);
    // §7.3 by hand: two leaves, one inner node.
    let leaf = |x: Hash| hash::sha3_256_parts(&[&[0], &x.0]);
    let by_hand = hash::sha3_256_parts(&[&[1], &leaf(txs[0].hash()).0, &leaf(txs[1].hash()).0]);
    assert_eq!(tx_root, by_hand);
    let receipts_root = block::receipts_root(&[r1, r2]);
    assert_eq!(h(receipts_root.0), RECEIPTS_ROOT);
    assert_eq!(h(hash::merkle_root(&[]).0), EMPTY_ROOT);
    assert_eq!(h(sha3_256(b"").0), EMPTY_ROOT);

    let header = Header {
        height: 1,
        parent_hash: Hash::ZERO,
        timestamp_ms: 1_700_000_000_000,
        proposer: address_of(&vector_key()),
        tx_root,
        receipts_root,
        state_root: Hash([0x11; 32]),
        gas_used: 73_000,
    };
    assert_eq!(h(header.encode()), HEADER);
    assert_eq!(header.encode().len(), 184);
    assert_eq!(h(header.hash().0), BLOCK_HASH);

    // The block as §11.4 describes it.
    let block = Block { header, txs: BoundedVec::new(txs.to_vec()).expect("two txs") };
    let bytes = unhex(&format!("{HEADER}08{CALL_SIGNED}{TRANSFER_SIGNED}"));
    assert_eq!(block.encode(), bytes);
    assert_eq!(h(block.hash().0), BLOCK_HASH);
    assert_eq!(Block::decode_bounded(&bytes), Ok(block));
}

#[test]
fn account_vector() {
    let account = Account {
        balance: 1000,
        nonce: 5,
        code_hash: Some(sha3_256(&EMPTY_WASM)),
        storage_bytes: 64,
        deposit: 640,
    };
    assert_eq!(h(account.encode()), ACCOUNT);
    assert_eq!(account.encode().len(), 81);
}

#[test]
fn document_shows_every_vector_verbatim() {
    let doc = protocol_doc();
    for (name, hex) in ALL {
        assert!(doc.contains(hex), "docs/protocol.md does not contain {name} = {hex}");
    }
    for row in CALL_TX_FIELDS {
        assert!(doc.contains(&format!("`{row}`")), "docs/protocol.md lacks the row `{row}` of §11.2");
    }
}

// ---- The signature rule (§8.3) ----

fn verify(signer: &Address, payload: &[u8], sig: &Signature) -> Result<(), SignatureError> {
    verify_strict(signer, payload, sig)
}

#[test]
fn a_signature_is_bound_to_its_chain_id() {
    let signed = signed_call();
    let sender = signed.tx.sender;

    // The same transaction for chain 8, carrying the chain-7 signature.
    let mut other = signed.clone();
    other.tx.chain_id = 8;
    assert_eq!(other.verify_signature(), Err(SignatureError::Invalid(sender)));

    // The chain id of the prefix counts on its own: chain 8 in the prefix, 7 in the body.
    let payload = domain_payload(domain::TX, 8, &signed.tx.encode());
    assert_eq!(verify(&sender, &payload, &signed.signature), Err(SignatureError::Invalid(sender)));

    // Properly signed for chain 8, it verifies there, with another signature.
    let resigned = other.tx.clone().sign(&vector_key());
    assert_eq!(resigned.verify_signature(), Ok(()));
    assert_ne!(resigned.signature, signed.signature);
}

#[test]
fn a_signature_is_bound_to_its_domain() {
    let signed = signed_call();
    let sender = signed.tx.sender;
    let body = signed.tx.encode();
    for tag in [domain::VOTE, domain::PROPOSAL] {
        let payload = domain_payload(tag, 7, &body);
        assert_eq!(
            verify(&sender, &payload, &signed.signature),
            Err(SignatureError::Invalid(sender)),
            "a tx signature must not verify under {:?}",
            String::from_utf8_lossy(tag)
        );
    }
    // And the other way round: a vote over the same bytes is not a transaction signature.
    use ed25519_dalek::Signer;
    let vote = Signature(vector_key().sign(&domain_payload(domain::VOTE, 7, &body)).to_bytes());
    let forged = SignedTransaction { tx: signed.tx.clone(), signature: vote };
    assert_eq!(forged.verify_signature(), Err(SignatureError::Invalid(sender)));
    // The tags' encodings are not prefixes of one another.
    let tags = [domain::TX, domain::VOTE, domain::PROPOSAL].map(|t| t.encode());
    for (i, a) in tags.iter().enumerate() {
        for (j, b) in tags.iter().enumerate() {
            assert!(i == j || !b.starts_with(a), "tag {i} is a prefix of tag {j}");
        }
    }
}

#[test]
fn flipping_a_bit_anywhere_breaks_the_transaction() {
    let bytes = unhex(CALL_SIGNED);
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 1 << (i % 8);
        match SignedTransaction::decode_bounded(&bad) {
            // The flip broke the encoding (an enum index, a length, the method name): refused.
            Err(_) => {}
            Ok(tx) => {
                let err = tx.verify_signature().expect_err("a flipped bit must not verify");
                let sender = tx.tx.sender;
                assert!(
                    err == SignatureError::Invalid(sender) || err == SignatureError::BadPublicKey(sender),
                    "byte {i}: {err}"
                );
            }
        }
    }
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let tx = call_tx();
    let sender = tx.sender;
    let other = SigningKey::from_bytes(&[9; 32]);
    let signed = tx.sign(&other);
    assert_eq!(signed.verify_signature(), Err(SignatureError::Invalid(sender)));
}

/// The group order L, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

#[test]
fn a_non_canonical_s_is_refused() {
    let signed = signed_call();
    let mut sig = signed.signature.0;
    // S + L: the same scalar mod L, not reduced. S < L < 2^253, so S + L < 2^254 fits.
    let mut carry = 0u16;
    for (s, l) in sig[32..].iter_mut().zip(L) {
        let sum = u16::from(*s) + u16::from(l) + carry;
        *s = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    assert_ne!(sig, signed.signature.0);
    let bad = SignedTransaction { tx: signed.tx.clone(), signature: Signature(sig) };
    assert_eq!(bad.verify_signature(), Err(SignatureError::Invalid(signed.tx.sender)));

    // S = L itself (that is, 0 mod L) and S = 2^256 − 1 are refused too.
    for s in [L, [0xff; 32]] {
        let mut sig = signed.signature.0;
        sig[32..].copy_from_slice(&s);
        let bad = SignedTransaction { tx: signed.tx.clone(), signature: Signature(sig) };
        assert!(bad.verify_signature().is_err());
    }
}

/// The eight small-order points' canonical encodings (the torsion subgroup).
const SMALL_ORDER: [&str; 8] = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
];

/// The base point B, compressed.
const BASEPOINT: &str = "5866666666666666666666666666666666666666666666666666666666666666";

#[test]
fn a_small_order_public_key_is_refused() {
    // With A the identity, [S]B − [k]A = [S]B for every message, so (R = B, S = 1) is a valid
    // cofactorless signature of anything: the plain RFC 8032 check accepts it, verify_strict
    // must not.
    let identity = Address(unhex(SMALL_ORDER[0]).try_into().expect("32 bytes"));
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&unhex(BASEPOINT));
    sig[32] = 1;
    let mut tx = call_tx();
    tx.sender = identity;
    let payload = tx.signing_payload();

    let weak = ed25519_dalek::VerifyingKey::from_bytes(&identity.0).expect("the identity decodes");
    assert!(weak.is_weak());
    assert!(
        weak.verify(&payload, &ed25519_dalek::Signature::from_bytes(&sig)).is_ok(),
        "the forgery is valid under the non-strict rule"
    );
    let forged = SignedTransaction { tx, signature: Signature(sig) };
    assert!(matches!(
        forged.verify_signature(),
        Err(SignatureError::Invalid(a) | SignatureError::BadPublicKey(a)) if a == identity
    ));
    assert_eq!(forged.verify_signature(), Err(SignatureError::Invalid(identity)));

    // Every small-order key is refused, whatever the signature.
    for enc in SMALL_ORDER {
        let key = Address(unhex(enc).try_into().expect("32 bytes"));
        assert!(
            ed25519_dalek::VerifyingKey::from_bytes(&key.0).expect("a curve point").is_weak(),
            "{enc} is small-order"
        );
        let mut tx = call_tx();
        tx.sender = key;
        for signature in [Signature(sig), signed_call().signature, Signature([0; 64])] {
            let forged = SignedTransaction { tx: tx.clone(), signature };
            assert!(forged.verify_signature().is_err(), "key {enc}");
        }
    }
}

#[test]
fn a_small_order_r_is_refused() {
    // R of small order with S = 0 would satisfy [S]B − [k]A = R only if [k]A were small-order;
    // whatever the equation says, a small-order R is refused.
    let signed = signed_call();
    for enc in SMALL_ORDER {
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&unhex(enc));
        let bad = SignedTransaction { tx: signed.tx.clone(), signature: Signature(sig) };
        assert_eq!(bad.verify_signature(), Err(SignatureError::Invalid(signed.tx.sender)), "R = {enc}");
    }
}

#[test]
fn a_sender_that_is_not_a_point_is_a_bad_public_key() {
    // y = 2 is not the y-coordinate of a curve point.
    let mut bytes = [0u8; 32];
    bytes[0] = 2;
    let sender = Address(bytes);
    assert!(ed25519_dalek::VerifyingKey::from_bytes(&bytes).is_err());
    let mut tx = call_tx();
    tx.sender = sender;
    let signed = SignedTransaction { tx, signature: signed_call().signature };
    assert_eq!(signed.verify_signature(), Err(SignatureError::BadPublicKey(sender)));
}

#[test]
fn a_non_canonical_key_is_checked_not_refused() {
    // y = 3 + p: the same point as y = 3, not of small order (protocol.md §8.3, note on step 1).
    let mut bytes = [0xff; 32];
    (bytes[0], bytes[31]) = (0xf0, 0x7f);
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).expect("decodes, reduced mod p");
    assert!(!key.is_weak());
    let mut canonical = [0u8; 32];
    canonical[0] = 3;
    let same = ed25519_dalek::VerifyingKey::from_bytes(&canonical).expect("a curve point");
    assert_eq!(key.to_montgomery(), same.to_montgomery(), "the same point");
    let sender = Address(bytes);
    let mut tx = call_tx();
    tx.sender = sender;
    let signed = SignedTransaction { tx, signature: signed_call().signature };
    assert_eq!(signed.verify_signature(), Err(SignatureError::Invalid(sender)));
}

#[test]
fn an_all_zero_signature_is_refused() {
    let signed = SignedTransaction { tx: call_tx(), signature: Signature([0; 64]) };
    assert_eq!(signed.verify_signature(), Err(SignatureError::Invalid(signed.tx.sender)));
}

#[test]
fn a_signature_of_the_wrong_length_does_not_decode() {
    let bytes = unhex(CALL_SIGNED);
    // 63 signature bytes: the input ends inside the signature.
    let short = &bytes[..bytes.len() - 1];
    match SignedTransaction::decode_bounded(short) {
        Err(DecodeError::Malformed { what: "transaction", reason }) => {
            assert!(reason.contains("Not enough data"), "{reason}")
        }
        other => panic!("63-byte signature: {other:?}"),
    }
    // 65 signature bytes: one trailing byte.
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(
        SignedTransaction::decode_bounded(&long),
        Err(DecodeError::TrailingBytes { what: "transaction", extra: 1 })
    );
    // No signature at all.
    assert!(SignedTransaction::decode_bounded(&unhex(CALL_TX)).is_err());
}

#[test]
fn decoded_vectors_verify() {
    for hex in [CALL_SIGNED, TRANSFER_SIGNED] {
        let tx = SignedTransaction::decode_bounded(&unhex(hex)).expect("the vector decodes");
        assert_eq!(tx.verify_signature(), Ok(()));
    }
    let tx = SignedTransaction::decode_bounded(&unhex(CALL_SIGNED)).expect("decodes");
    let Action::Call { method, args, value, .. } = &tx.tx.action else { panic!("a Call") };
    assert_eq!((method.as_str(), &args[..], *value), ("transfer", &[0xde, 0xad, 0xbe, 0xef][..], 5));
    let _: Transaction = tx.tx;
}
