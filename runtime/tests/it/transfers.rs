//! Native transfers and the transaction validity rules.

use weft_runtime::{PushError, TxError};
use weft_types::{Action, ExecError, ExecStatus, Transaction};

use crate::support::{CHAIN_ID, Chain, GAS_LIMIT, INITIAL};

#[test]
fn transfer_moves_value_and_pays_the_proposer() {
    let mut c = Chain::new();
    let (alice, bob) = (c.addr(0), c.addr(1));
    let r = c.run(0, Action::Transfer { to: bob, amount: 1234 });
    assert!(r.is_success());
    assert_eq!(r.fee, u128::from(r.gas_used));
    assert_eq!(c.account(&bob).balance, INITIAL + 1234);
    assert_eq!(c.account(&alice).balance, INITIAL - 1234 - r.fee);
    assert_eq!(c.account(&alice).nonce, 1);
    assert_eq!(c.account(&c.proposer).balance, r.fee);
    assert_eq!(c.head.height, 1);
}

#[test]
fn a_transfer_beyond_the_balance_fails_but_pays_gas() {
    let mut c = Chain::new();
    let bob = c.addr(1);
    let r = c.run(0, Action::Transfer { to: bob, amount: INITIAL });
    // The maximum fee is reserved first, so the full balance is no longer available.
    assert!(matches!(r.status, ExecStatus::Failed(ExecError::InsufficientBalance { .. })), "{:?}", r.status);
    assert!(r.gas_used > 0);
    assert_eq!(c.account(&bob).balance, INITIAL);
    assert_eq!(c.account(&c.addr(0)).balance, INITIAL - r.fee);
    assert_eq!(c.account(&c.addr(0)).nonce, 1, "a failed transaction still uses its nonce");
}

#[test]
fn edge_amounts() {
    let mut c = Chain::new();
    let alice = c.addr(0);
    let r = c.run(0, Action::Transfer { to: alice, amount: 5 });
    assert!(r.is_success(), "to self");
    let r = c.run(0, Action::Transfer { to: c.addr(1), amount: 0 });
    assert!(r.is_success(), "zero");
    let r = c.run(0, Action::Transfer { to: c.addr(1), amount: u128::MAX });
    assert!(matches!(r.status, ExecStatus::Failed(ExecError::InsufficientBalance { .. })));
}

fn refused(c: &Chain, tx: weft_types::SignedTransaction) -> TxError {
    match c.try_push(tx) {
        Err(PushError::Tx(e)) => e,
        other => panic!("expected a TxError, got {other:?}"),
    }
}

#[test]
fn invalid_transactions_are_refused_with_precise_errors() {
    let mut c = Chain::new();
    let bob = c.addr(1);
    let base = |c: &Chain| Transaction {
        chain_id: CHAIN_ID,
        sender: c.addr(0),
        nonce: 0,
        gas_limit: GAS_LIMIT,
        gas_price: 1,
        action: Action::Transfer { to: bob, amount: 1 },
    };
    let k = c.keys[0].clone();

    let e = refused(&c, Transaction { chain_id: 8, ..base(&c) }.sign(&k));
    assert_eq!(e.to_string(), "wrong chain id: this chain is 7, the transaction is for 8");

    let e = refused(&c, Transaction { nonce: 1, ..base(&c) }.sign(&k));
    assert_eq!(e.to_string(), "nonce too high: account has 0, tx has 1");

    let e = refused(&c, base(&c).sign(&c.keys[1]));
    assert!(matches!(e, TxError::BadSignature(_)), "{e}");

    let mut zero_sig = base(&c).sign(&k);
    zero_sig.signature.0 = [0; 64];
    assert!(matches!(refused(&c, zero_sig), TxError::BadSignature(_)));

    let e = refused(&c, Transaction { gas_limit: 100, ..base(&c) }.sign(&k));
    assert!(e.to_string().starts_with("gas limit 100 is below the intrinsic gas"), "{e}");

    let e = refused(&c, Transaction { gas_limit: u64::MAX, ..base(&c) }.sign(&k));
    assert!(matches!(e, TxError::GasLimitTooHigh { .. }), "{e}");

    let e = refused(&c, Transaction { gas_price: u128::MAX, ..base(&c) }.sign(&k));
    assert!(matches!(e, TxError::FeeOverflow { .. }), "{e}");

    let e = refused(&c, Transaction { gas_price: 0, ..base(&c) }.sign(&k));
    assert!(matches!(e, TxError::GasPriceTooLow { min: 1, found: 0 }), "{e}");

    let e = refused(&c, Transaction { gas_price: INITIAL, ..base(&c) }.sign(&k));
    assert!(matches!(e, TxError::InsufficientFee { .. }), "{e}");

    // Replays: the same transaction in the next block has a used nonce.
    let tx = base(&c).sign(&k);
    c.block(vec![tx.clone()]);
    let e = refused(&c, tx.clone());
    assert_eq!(e.to_string(), "nonce too low: account has 1, tx has 0");
    // ... and twice in one block is refused at the second push.
    let mut b = weft_runtime::BlockBuilder::new(&c.rt, c.state.clone(), &c.head, 0, c.proposer);
    let next = Transaction { nonce: 1, ..base(&c) }.sign(&k);
    b.push(next.clone()).unwrap();
    assert!(matches!(b.push(next), Err(PushError::Tx(TxError::NonceTooLow { .. }))));
}

#[test]
fn a_block_with_an_invalid_transaction_is_rejected_on_reexecution() {
    let mut c = Chain::new();
    let tx = c.tx(0, Action::Transfer { to: c.addr(1), amount: 1 });
    let mut out = c.block(vec![tx.clone()]);
    // Replaying the same block on top of itself: the nonce is used.
    out.block.header.parent_hash = c.head.hash();
    out.block.header.height = c.head.height + 1;
    let err = c.rt.apply_block(c.state.clone(), &c.head, &out.block).unwrap_err();
    assert!(err.to_string().contains("is not includable: nonce too low"), "{err}");

    // A wrong state root is caught.
    let tx = c.tx(0, Action::Transfer { to: c.addr(1), amount: 1 });
    let mut b = weft_runtime::BlockBuilder::new(&c.rt, c.state.clone(), &c.head, 5, c.proposer);
    b.push(tx).unwrap();
    let mut block = b.finish().unwrap().block;
    block.header.state_root.0[0] ^= 1;
    let err = c.rt.apply_block(c.state.clone(), &c.head, &block).unwrap_err();
    assert!(err.to_string().starts_with("header state_root mismatch"), "{err}");
}

#[test]
fn block_time_only_moves_forward() {
    let c = Chain::new();
    for timestamp in [c.head.timestamp_ms, c.head.timestamp_ms - 1, 0] {
        let block = weft_runtime::BlockBuilder::new(&c.rt, c.state.clone(), &c.head, timestamp, c.proposer)
            .finish()
            .unwrap()
            .block;
        let err = c.rt.apply_block(c.state.clone(), &c.head, &block).unwrap_err();
        assert!(matches!(err, weft_runtime::BlockError::Timestamp { .. }), "{err}");
        assert!(err.to_string().contains("is not after its parent's"), "{err}");
    }
    let later =
        weft_runtime::BlockBuilder::new(&c.rt, c.state.clone(), &c.head, c.head.timestamp_ms + 1, c.proposer)
            .finish()
            .unwrap()
            .block;
    assert!(c.rt.apply_block(c.state.clone(), &c.head, &later).is_ok());
}
