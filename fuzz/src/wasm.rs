//! The wasm validation + execution target.
//!
//! The bytes go to the deploy-time validation (`vm::prepare`), which must refuse them with an
//! error or accept them. Accepted code is then deployed by real transactions in one block on the
//! base chain: uploaded (which must succeed: what validation accepts, the engine compiles),
//! instantiated (running `init` if exported), and each of its first methods called twice with
//! bounded gas, once with empty input and once with the module's own first bytes. The block
//! must re-execute identically and conserve supply ([`crate::chain::Base::run`]).

use weft_runtime::vm::prepare::prepare;
use weft_types::{
    Action, ExecError, MethodName, Transaction,
    codec::BoundedBytes,
    dev::{dev_address, dev_key},
    limits::MAX_CODE_BYTES,
    receipt::ExecStatus,
};

use crate::chain::{CHAIN_ID, base};

/// Gas of the upload (per byte of code and its compile weight, and the bytes of the transaction) and of the
/// instantiation.
const DEPLOY_GAS: u64 = weft_types::limits::MAX_TX_GAS;
/// Gas of each call: enough for long loops, bounded so an input runs in milliseconds.
const CALL_GAS: u64 = 5_000_000;
/// Methods called per module at most.
const MAX_METHODS: usize = 8;

fn bytes<L: weft_types::codec::Limit>(v: &[u8]) -> BoundedBytes<L> {
    BoundedBytes::new(v.to_vec()).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs one input; panics only on a bug.
pub fn target(data: &[u8]) {
    let prepared = match prepare(data) {
        Ok(p) => p,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert!(data.len() <= MAX_CODE_BYTES);
    let b = base();
    let name = "charlie";
    let key = dev_key(name);
    let sender = dev_address(name);
    let mut nonce = b.account(&sender).nonce;
    let mut next = |gas_limit: u64, action: Action| {
        let tx = Transaction { chain_id: CHAIN_ID, sender, nonce, gas_limit, gas_price: 1, action };
        nonce += 1;
        tx.sign(&key)
    };
    let code_hash = weft_types::sha3_256(data);
    let contract = weft_types::Address::contract(&sender, &code_hash, b"");
    let mut txs = vec![
        next(DEPLOY_GAS, Action::UploadCode { code: bytes(data) }),
        next(DEPLOY_GAS, Action::Instantiate { code_hash, args: bytes(&[]), value: 0, salt: bytes(b"") }),
    ];
    let head = &data[..data.len().min(64)];
    for method in prepared.methods.iter().take(MAX_METHODS) {
        let Ok(method) = MethodName::new(method) else { continue };
        for (args, value) in [(&[][..], 0), (head, 7)] {
            let call = Action::Call { contract, method: method.clone(), args: bytes(args), value };
            txs.push(next(CALL_GAS, call));
        }
    }
    let run = b.run(txs);
    match &run.pushed[0].1 {
        Ok(r) => match &r.status {
            ExecStatus::Success | ExecStatus::Failed(ExecError::CodeExists(_)) => {}
            ExecStatus::Failed(e) => panic!("validation accepted code the upload refused: {e:?}"),
        },
        Err(e) => panic!("the upload of accepted code was not includable: {e}"),
    }
}
