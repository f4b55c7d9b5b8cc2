//! Named accounts, funding, transfers, fees and supply.

use ed25519_dalek::SigningKey;
use weft_runtime::{TxError, state::tree};
use weft_testing::{CallError, DEFAULT_BALANCE, Sandbox, SandboxConfig, dev_address, dev_key};
use weft_types::{Account, ExecError, sha3_256, state::account_key, tx::address_of};

#[test]
fn dev_keys_are_sha3_of_the_prefixed_name() {
    let seed = sha3_256(b"weft-dev:alice");
    assert_eq!(dev_key("alice").to_bytes(), seed.0);
    assert_eq!(dev_address("alice"), address_of(&SigningKey::from_bytes(&seed.0)));
    assert_ne!(dev_address("alice"), dev_address("bob"));
    assert_ne!(dev_address("alice"), dev_address("Alice"));
}

#[test]
fn named_accounts_are_deterministic_and_funded_once() {
    let mut sb = Sandbox::new();
    assert_eq!(sb.height(), 0);
    assert_eq!(sb.total_supply(), 0);
    let alice = sb.account("alice");
    assert_eq!(alice, dev_address("alice"));
    assert_eq!(sb.balance(alice), DEFAULT_BALANCE);
    assert_eq!(sb.account("alice"), alice, "same name, same account");
    assert_eq!(sb.balance(alice), DEFAULT_BALANCE, "funded only the first time");
    let bob = sb.funded_account("bob", 1_000);
    assert_eq!(sb.balance(bob), 1_000);
    assert_eq!(sb.funded_account("bob", 7), bob);
    assert_eq!(sb.balance(bob), 7, "funded_account sets the balance");
    assert_eq!(sb.total_supply(), DEFAULT_BALANCE + 7);
    assert_eq!(sb.nonce(alice), 0);
    assert_eq!(sb.height(), 0, "funding produces no block");
    // Another sandbox derives the same addresses.
    assert_eq!(Sandbox::new().account("alice"), alice);
}

#[test]
fn transfers_are_signed_transactions_in_blocks() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let bob = sb.funded_account("bob", 5);
    let supply = sb.total_supply();
    let receipt = sb.transfer(alice, bob, 10).unwrap();
    assert!(receipt.is_success());
    assert!(receipt.gas_used > 0);
    assert_eq!(receipt.fee, 0, "gas price 0 by default");
    assert_eq!(sb.balance(bob), 15);
    assert_eq!(sb.balance(alice), DEFAULT_BALANCE - 10);
    assert_eq!((sb.nonce(alice), sb.nonce(bob)), (1, 0));
    assert_eq!(sb.height(), 1);
    assert_eq!(sb.total_supply(), supply);

    let err = sb.transfer(bob, alice, 16).unwrap_err();
    assert!(
        matches!(
            err,
            CallError::Failed { error: ExecError::InsufficientBalance { needed: 16, available: 15, .. }, .. }
        ),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("failed: insufficient balance"), "{err}");
    assert_eq!(sb.nonce(bob), 1, "a failed transaction is included: its nonce is used");
    assert_eq!(sb.balance(bob), 15);
    assert_eq!(sb.height(), 2);

    let stranger = address_of(&SigningKey::from_bytes(&[9; 32]));
    let err = sb.transfer(stranger, alice, 1).unwrap_err();
    assert!(matches!(err, CallError::Invalid(ref m) if m.contains("has no key")), "{err}");
    assert_eq!(sb.height(), 2, "nothing was sent");
    let stranger2 = sb.add_key(SigningKey::from_bytes(&[9; 32]));
    assert_eq!(stranger2, stranger);
    assert_eq!(sb.balance(stranger), 0);
}

#[test]
fn funding_is_committed_in_the_next_block_state_root() {
    let mut sb = Sandbox::new();
    let root0 = sb.state_root();
    let alice = sb.account("alice");
    let bob = sb.account("bob");
    assert_eq!(sb.state_root(), root0, "pending until a block");
    sb.transfer(alice, bob, 1).unwrap();
    assert_ne!(sb.state_root(), root0);
    // The committed state proves alice's account against the header's root.
    let (value, proof) = tree::prove(sb.committed_state(), sb.height(), &account_key(&alice)).unwrap();
    let account: Account = parity_scale_codec::Decode::decode(&mut &value.clone().unwrap()[..]).unwrap();
    assert_eq!(account.balance, DEFAULT_BALANCE - 1);
    proof.verify(&sb.state_root(), &account_key(&alice), value.as_deref()).unwrap();
    // Setting a balance to zero deletes the empty account.
    let carol = sb.funded_account("carol", 5);
    sb.set_balance(carol, 0);
    sb.advance_blocks(1);
    assert!(!sb.committed_state().kv.contains_key(&account_key(&carol)));
    let (value, proof) = tree::prove(sb.committed_state(), sb.height(), &account_key(&carol)).unwrap();
    assert_eq!(value, None);
    proof.verify(&sb.state_root(), &account_key(&carol), None).unwrap();
}

#[test]
fn fees_when_the_gas_price_is_set() {
    let mut sb = Sandbox::with_config(SandboxConfig { gas_price: 2, ..SandboxConfig::default() });
    let alice = sb.account("alice");
    let bob = sb.funded_account("bob", 100);
    let supply = sb.total_supply();
    let receipt = sb.transfer(alice, bob, 10).unwrap();
    assert_eq!(receipt.fee, u128::from(receipt.gas_used) * 2);
    assert_eq!(sb.balance(alice), DEFAULT_BALANCE - 10 - receipt.fee);
    assert_eq!(sb.balance(sb.proposer()), receipt.fee, "fees go to the proposer");
    assert_eq!(sb.total_supply(), supply);
    // Bob cannot pay the maximum fee: not includable, nothing happens.
    let height = sb.height();
    let err = sb.transfer(bob, alice, 1).unwrap_err();
    assert!(matches!(err, CallError::NotIncludable(TxError::InsufficientFee { .. })), "{err:?}");
    assert!(err.to_string().starts_with("not includable: insufficient balance for fee"), "{err}");
    assert_eq!((sb.height(), sb.nonce(bob), sb.balance(bob)), (height, 0, 110));
}
