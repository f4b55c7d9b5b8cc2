//! Consensus wire types: byte layouts, round trips, bounded decoding, signature domain
//! separation, quorum arithmetic, certificate and evidence checks.

use ed25519_dalek::SigningKey;
use parity_scale_codec::{Compact, Decode, Encode};
use weft_types::{
    Address, Block, BoundedVec, DecodeError, Hash, Header, Signature,
    consensus::{
        BlockRef, Certificate, CertificateError, ConsensusMessage, Evidence, EvidenceError,
        FinalityCertificate, MAX_CONSENSUS_MESSAGE_BYTES, MAX_VALIDATORS, Proposal, SIGNED_PROPOSAL_BYTES,
        SignedVote, Validator, ValidatorSet, ValidatorSetError, ValidatorSignature, Vote,
    },
    limits::MAX_BLOCK_BYTES,
    tx::{address_of, domain, domain_payload, verify_strict},
};

use crate::{unhex, vector_key};

fn key(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i; 32])
}

/// Four validators of power 1 and their keys, in address order.
fn four() -> (Vec<SigningKey>, ValidatorSet) {
    let mut keys: Vec<SigningKey> = (1..=4).map(key).collect();
    keys.sort_by_key(address_of);
    let set =
        ValidatorSet::new(keys.iter().map(|k| Validator { address: address_of(k), power: 1 }).collect())
            .unwrap();
    (keys, set)
}

fn block_ref() -> BlockRef {
    BlockRef { view: 7, height: 5, hash: Hash([0xab; 32]) }
}

fn sig(vote: Vote, k: &SigningKey) -> ValidatorSignature {
    ValidatorSignature { validator: address_of(k), signature: vote.sign(7, k).signature }
}

fn block() -> Block {
    Block {
        header: Header {
            height: 5,
            parent_hash: Hash([1; 32]),
            timestamp_ms: 1_700_000_000_000,
            proposer: address_of(&vector_key()),
            tx_root: Hash([2; 32]),
            receipts_root: Hash([3; 32]),
            state_root: Hash([4; 32]),
            gas_used: 0,
        },
        txs: BoundedVec::new(vec![]).unwrap(),
    }
}

#[test]
fn vote_and_proposal_layouts() {
    let b = block_ref();
    let mut notarize = vec![0u8];
    notarize.extend_from_slice(&7u64.to_le_bytes());
    notarize.extend_from_slice(&5u64.to_le_bytes());
    notarize.extend_from_slice(&[0xab; 32]);
    assert_eq!(Vote::Notarize(b).encode(), notarize);
    let mut finalize = notarize.clone();
    finalize[0] = 2;
    assert_eq!(Vote::Finalize(b).encode(), finalize);
    assert_eq!(Vote::Nullify(7).encode(), unhex("010700000000000000"));

    let p = Proposal { view: 7, parent_view: 6, height: 5, block_hash: Hash([0xab; 32]) };
    let signed = p.sign(7, &vector_key());
    assert_eq!(signed.encode().len(), SIGNED_PROPOSAL_BYTES);
    assert_eq!(&signed.encode()[..24], &unhex("070000000000000006000000000000000500000000000000")[..]);
}

#[test]
fn signing_payloads_are_domain_separated() {
    let k = vector_key();
    let vote = Vote::Nullify(7);
    // compact(12) ‖ "weft:vote:v1" ‖ chain id 7 ‖ SCALE(vote)
    assert_eq!(
        vote.signing_payload(7),
        unhex("30776566743a766f74653a76310700000000000000010700000000000000")
    );
    let p = Proposal { view: 7, parent_view: 6, height: 5, block_hash: Hash::ZERO };
    assert_eq!(p.signing_payload(7), domain_payload(domain::PROPOSAL, 7, &p.encode()));
    assert_eq!(p.signing_payload(7)[0], 0x40);

    let signed = vote.sign(7, &k);
    assert_eq!(signed.signer, address_of(&k));
    assert!(signed.verify(7).is_ok());
    // Another chain id.
    assert!(signed.verify(8).is_err());
    // The same body signed as another kind of message never verifies as a vote.
    for tag in [domain::TX, domain::PROPOSAL] {
        let other = ed25519_dalek::Signer::sign(&k, &domain_payload(tag, 7, &vote.encode()));
        let forged = SignedVote { signature: Signature(other.to_bytes()), ..signed };
        assert!(forged.verify(7).is_err(), "a {tag:?} signature verified as a vote");
    }
    // And a vote signature is no proposal signature, even over the same bytes.
    assert!(
        verify_strict(
            &signed.signer,
            &domain_payload(domain::PROPOSAL, 7, &vote.encode()),
            &signed.signature
        )
        .is_err()
    );
    let sp = p.sign(7, &k);
    assert!(sp.verify(7).is_ok());
    assert!(sp.verify(6).is_err());
}

#[test]
fn messages_round_trip() {
    let (keys, _) = four();
    let b = block_ref();
    let vote = Vote::Notarize(b);
    let cert = Certificate::new(vote, keys.iter().take(3).map(|k| sig(vote, k))).unwrap();
    let fin =
        Certificate::new(Vote::Finalize(b), keys.iter().take(3).map(|k| sig(Vote::Finalize(b), k))).unwrap();
    let p =
        Proposal { view: 7, parent_view: 6, height: 5, block_hash: block().hash() }.sign(7, &vector_key());
    let messages = [
        ConsensusMessage::Vote(vote.sign(7, &keys[0])),
        ConsensusMessage::Vote(Vote::Nullify(u64::MAX).sign(7, &keys[1])),
        ConsensusMessage::Certificate(cert.clone()),
        ConsensusMessage::Certificate(fin.clone()),
        ConsensusMessage::Proposal { proposal: p, block: Box::new(block()) },
        ConsensusMessage::BlockRequest(Hash([9; 32])),
        ConsensusMessage::CertificateRequest(42),
    ];
    for m in messages {
        let bytes = m.encode();
        assert_eq!(ConsensusMessage::decode_bounded(&bytes).unwrap(), m);
        // Trailing bytes and truncation are refused.
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(ConsensusMessage::decode_bounded(&longer), Err(DecodeError::TrailingBytes { .. })));
        assert!(ConsensusMessage::decode_bounded(&bytes[..bytes.len() - 1]).is_err());
    }
    assert_eq!(Certificate::decode_bounded(&cert.encode()).unwrap(), cert);

    // A finality certificate encodes exactly as its certificate, and only a Finalize decodes.
    let fc = FinalityCertificate::new(fin.clone()).unwrap();
    assert_eq!(fc.encode(), fin.encode());
    assert_eq!(FinalityCertificate::decode_bounded(&fin.encode()).unwrap(), fc);
    assert_eq!(fc.block(), b);
    assert_eq!(fc.clone().into_certificate(), fin);
    assert!(FinalityCertificate::decode_bounded(&cert.encode()).is_err());
    assert_eq!(FinalityCertificate::new(cert), Err(CertificateError::NotFinalize));

    let ev = Evidence::ConflictingVotes(
        vote.sign(7, &keys[0]),
        Vote::Notarize(BlockRef { hash: Hash::ZERO, ..b }).sign(7, &keys[0]),
    );
    assert_eq!(Evidence::decode_bounded(&ev.encode()).unwrap(), ev);
    let (_, set) = four();
    assert_eq!(ValidatorSet::decode_bounded(&set.encode()).unwrap(), set);
}

#[test]
fn decoding_is_bounded() {
    // A certificate announcing more signatures than there may be validators: refused on the prefix.
    let mut bytes = Vote::Nullify(1).encode();
    bytes.extend(Compact(MAX_VALIDATORS as u32 + 1).encode());
    let err = Certificate::decode_bounded(&bytes).unwrap_err().to_string();
    assert!(err.contains("MAX_VALIDATORS (256)"), "{err}");
    // Within the limit but past the end of the input.
    let mut bytes = Vote::Nullify(1).encode();
    bytes.extend(Compact(200u32).encode());
    bytes.extend([0u8; 96]);
    let err = Certificate::decode_bounded(&bytes).unwrap_err().to_string();
    assert!(err.contains("past the end"), "{err}");
    // Oversize input is refused before decoding.
    let big = vec![0u8; MAX_CONSENSUS_MESSAGE_BYTES + 1];
    assert!(matches!(ConsensusMessage::decode_bounded(&big), Err(DecodeError::TooLarge { .. })));
    assert_eq!(MAX_CONSENSUS_MESSAGE_BYTES, 1 + SIGNED_PROPOSAL_BYTES + MAX_BLOCK_BYTES);
    // Unknown variants.
    assert!(ConsensusMessage::decode_bounded(&[5]).is_err());
    assert_eq!(
        ConsensusMessage::decode_bounded(&unhex("042a00000000000000")).unwrap(),
        ConsensusMessage::CertificateRequest(42)
    );
    assert!(ConsensusMessage::decode_bounded(&unhex("01030700000000000000")).is_err());
    // A validator set that breaks its rules does not decode.
    let (keys, _) = four();
    let unsorted: Vec<Validator> =
        keys.iter().rev().map(|k| Validator { address: address_of(k), power: 1 }).collect();
    assert!(ValidatorSet::decode_bounded(&unsorted.encode()).is_err());
}

#[test]
fn validator_set_rules_and_quorum() {
    let (keys, set) = four();
    assert_eq!((set.total_power(), set.quorum(), set.len()), (4, 3, 4));
    assert_eq!(set.power_of(&address_of(&keys[2])), Some(1));
    assert_eq!(set.power_of(&Address([0; 32])), None);
    let v = |k: &SigningKey, power| Validator { address: address_of(k), power };
    // Quorum is ⌊2·total/3⌋ + 1: 2f + 1 for 3f + 1 equal validators.
    for (powers, quorum) in
        [(vec![1], 1), (vec![1; 3], 3), (vec![1; 7], 5), (vec![1; 10], 7), (vec![5, 1, 1, 1], 6)]
    {
        let s = ValidatorSet::from_unsorted(
            powers.iter().enumerate().map(|(i, p)| v(&key(i as u8 + 1), *p)).collect(),
        )
        .unwrap();
        assert_eq!(s.quorum(), quorum, "{powers:?}");
        assert!(u128::from(s.quorum()) * 3 > u128::from(s.total_power()) * 2);
    }
    let huge = ValidatorSet::new(vec![v(&key(1), u64::MAX)]).unwrap();
    assert_eq!(huge.quorum(), u64::MAX / 3 * 2 + 1);

    assert_eq!(ValidatorSet::new(vec![]), Err(ValidatorSetError::Empty));
    let mut reversed: Vec<Validator> = keys.iter().map(|k| v(k, 1)).collect();
    reversed.reverse();
    assert!(matches!(ValidatorSet::new(reversed), Err(ValidatorSetError::NotAscending(_))));
    assert!(matches!(
        ValidatorSet::from_unsorted(vec![v(&keys[0], 1), v(&keys[0], 2)]),
        Err(ValidatorSetError::NotAscending(_))
    ));
    assert!(matches!(ValidatorSet::new(vec![v(&keys[0], 0)]), Err(ValidatorSetError::ZeroPower(_))));
    assert_eq!(
        ValidatorSet::from_unsorted(vec![v(&keys[0], u64::MAX), v(&keys[1], 1)]),
        Err(ValidatorSetError::PowerOverflow)
    );
    // An address that is not a curve point.
    let not_a_key = (0u8..=255)
        .map(|b| Address([b; 32]))
        .find(|a| ed25519_dalek::VerifyingKey::from_bytes(&a.0).is_err())
        .unwrap();
    assert_eq!(
        ValidatorSet::new(vec![Validator { address: not_a_key, power: 1 }]),
        Err(ValidatorSetError::BadKey(not_a_key))
    );
    let too_many: Vec<Validator> = (0..=MAX_VALIDATORS).map(|_| v(&keys[0], 1)).collect();
    assert_eq!(ValidatorSet::new(too_many), Err(ValidatorSetError::TooMany(MAX_VALIDATORS + 1)));

    // Selection by weight: powers 1 and 3 split the points 1 : 3.
    let pair = ValidatorSet::new(vec![v(&keys[0], 1), v(&keys[1], 3)]).unwrap();
    let picks: Vec<Address> = (0..8u128).map(|p| pair.by_weight(p).address).collect();
    let a = address_of(&keys[0]);
    let b = address_of(&keys[1]);
    assert_eq!(picks, vec![a, b, b, b, a, b, b, b]);
}

#[test]
fn certificates_verify_power_order_and_signatures() {
    let (keys, set) = four();
    let vote = Vote::Finalize(block_ref());
    let ok = Certificate::new(vote, keys.iter().rev().take(3).map(|k| sig(vote, k))).unwrap();
    assert_eq!(ok.verify(7, &set), Ok(3));
    assert_eq!(ok.verify(8, &set).map_err(|e| matches!(e, CertificateError::BadSignature(_))), Err(true));
    // `new` sorts and drops repeated signers.
    let dup =
        Certificate::new(vote, [sig(vote, &keys[0]), sig(vote, &keys[0]), sig(vote, &keys[1])]).unwrap();
    assert_eq!(dup.signatures.len(), 2);
    assert_eq!(dup.verify(7, &set), Err(CertificateError::InsufficientPower { power: 2, quorum: 3 }));

    // Hand-built lists: out of order, repeated, unknown, forged.
    let build =
        |list: Vec<ValidatorSignature>| Certificate { vote, signatures: BoundedVec::new(list).unwrap() };
    let s: Vec<ValidatorSignature> = keys.iter().map(|k| sig(vote, k)).collect();
    assert!(matches!(build(vec![s[1], s[0], s[2]]).verify(7, &set), Err(CertificateError::NotAscending(_))));
    assert!(matches!(
        build(vec![s[0], s[0], s[1], s[2]]).verify(7, &set),
        Err(CertificateError::NotAscending(_))
    ));
    let stranger = sig(vote, &key(99));
    let mut with_stranger = vec![s[0], s[1], stranger];
    with_stranger.sort_by_key(|x| x.validator);
    assert_eq!(
        build(with_stranger).verify(7, &set),
        Err(CertificateError::UnknownValidator(stranger.validator))
    );
    let mut forged = vec![s[0], s[1], s[2]];
    forged[2].signature.0[5] ^= 1;
    assert!(matches!(build(forged.clone()).verify(7, &set), Err(CertificateError::BadSignature(_))));
    // A caller that already verified a vote may skip it.
    let skipped = forged[2].validator;
    let known = |v: &SignedVote| v.signer == skipped;
    assert_eq!(build(forged).verify_with(7, &set, known), Ok(3));
    // Votes inside a certificate are ordinary signed votes.
    for v in ok.votes() {
        assert!(v.verify(7).is_ok());
    }
}

#[test]
fn conflicts_and_evidence() {
    let a = block_ref();
    let b = BlockRef { hash: Hash([0xcd; 32]), ..a };
    let later = BlockRef { view: 8, ..b };
    assert!(Vote::Notarize(a).conflicts_with(&Vote::Notarize(b)));
    assert!(Vote::Finalize(a).conflicts_with(&Vote::Finalize(b)));
    assert!(Vote::Nullify(7).conflicts_with(&Vote::Finalize(a)));
    assert!(Vote::Finalize(a).conflicts_with(&Vote::Nullify(7)));
    assert!(!Vote::Notarize(a).conflicts_with(&Vote::Nullify(7)), "vote, then time out: allowed");
    assert!(!Vote::Notarize(a).conflicts_with(&Vote::Finalize(b)));
    assert!(!Vote::Notarize(a).conflicts_with(&Vote::Notarize(later)));
    assert!(!Vote::Notarize(a).conflicts_with(&Vote::Notarize(a)));

    let (keys, set) = four();
    let k = &keys[1];
    let ev = Evidence::ConflictingVotes(Vote::Notarize(a).sign(7, k), Vote::Notarize(b).sign(7, k));
    assert_eq!(ev.verify(7, &set), Ok(address_of(k)));
    assert_eq!(ev.offender(), address_of(k));
    assert_eq!(ev.view(), 7);
    assert!(matches!(ev.verify(8, &set), Err(EvidenceError::BadSignature(_))));
    let same = Evidence::ConflictingVotes(Vote::Notarize(a).sign(7, k), Vote::Notarize(a).sign(7, k));
    assert_eq!(same.verify(7, &set), Err(EvidenceError::NoConflict));
    let two = Evidence::ConflictingVotes(Vote::Notarize(a).sign(7, k), Vote::Notarize(b).sign(7, &keys[2]));
    assert_eq!(two.verify(7, &set), Err(EvidenceError::DifferentSigners));
    let outsider = key(99);
    let out =
        Evidence::ConflictingVotes(Vote::Nullify(7).sign(7, &outsider), Vote::Finalize(a).sign(7, &outsider));
    assert_eq!(out.verify(7, &set), Err(EvidenceError::NotValidator(address_of(&outsider))));

    let p = Proposal { view: 7, parent_view: 6, height: 5, block_hash: a.hash };
    let q = Proposal { block_hash: b.hash, ..p };
    let ev = Evidence::ConflictingProposals(p.sign(7, k), q.sign(7, k));
    assert_eq!(ev.verify(7, &set), Ok(address_of(k)));
    assert_eq!(
        Evidence::ConflictingProposals(p.sign(7, k), p.sign(7, k)).verify(7, &set),
        Err(EvidenceError::NoConflict)
    );
}

#[test]
fn signed_vote_vector() {
    // Pins the encoding and signature of one vote by the vector key (RFC 8032 is deterministic;
    // the signature was cross-checked with another ed25519 implementation over the payload
    // `30 ‖ "weft:vote:v1" ‖ 0700000000000000 ‖ SCALE(vote)`): Finalize { view 7, height 5,
    // hash ab×32 } ‖ signer ‖ signature.
    let signed = Vote::Finalize(block_ref()).sign(7, &vector_key());
    assert_eq!(hex::encode(signed.encode()), SIGNED_VOTE_HEX);
    assert_eq!(SignedVote::decode(&mut &unhex(SIGNED_VOTE_HEX)[..]).unwrap(), signed);
}

const SIGNED_VOTE_HEX: &str = concat!(
    "02",
    "0700000000000000",
    "0500000000000000",
    "abababababababababababababababababababababababababababababababab",
    "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664",
    "e7eee877f9593dde67143c32ad0cf93ea5eddd7b7fe1921cd07dd66d2395c2a3",
    "0a2612d18b7843fdfa293414c3e2c5bf33c73538679c50d0cab9418b181de706",
);

#[test]
fn finality_proofs_and_certified_blocks_have_fixed_layouts() {
    use weft_types::consensus::{CertifiedBlock, FinalityProof, gossip_frame, gossip_message};
    let (keys, _) = four();
    let vote = Vote::Finalize(block_ref());
    let cert = Certificate::new(vote, keys[..3].iter().map(|k| sig(vote, k))).unwrap();
    let certificate = FinalityCertificate::new(cert).unwrap();
    let proof = FinalityProof { view: 9, certificate: certificate.clone() };
    // view (u64 LE) ‖ certificate: what nodes stored before the type existed.
    let mut expected = 9u64.to_le_bytes().to_vec();
    expected.extend(certificate.encode());
    assert_eq!(proof.encode(), expected);
    assert_eq!(FinalityProof::decode_bounded(&expected).unwrap(), proof);
    let entry = CertifiedBlock { block: block(), proof: proof.clone() };
    let mut expected = block().encode();
    expected.extend(proof.encode());
    assert_eq!(entry.encode(), expected);
    assert_eq!(CertifiedBlock::decode_bounded(&expected).unwrap(), entry);
    // Trailing bytes and truncation are refused.
    let mut long = expected.clone();
    long.push(0);
    assert!(CertifiedBlock::decode_bounded(&long).is_err());
    assert!(CertifiedBlock::decode_bounded(&expected[..expected.len() - 1]).is_err());
    // A gossip frame is the message and its copy number (u32 LE).
    let frame = gossip_frame(b"message", 3);
    assert_eq!(frame, [&b"message"[..], &3u32.to_le_bytes()].concat());
    assert_eq!(gossip_message(&frame), Some(&b"message"[..]));
    assert_eq!(gossip_message(&[1, 2, 3]), None);
}
