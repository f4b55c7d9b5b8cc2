//! Valid inputs for the targets to start from, so that mutations reach deep code: real signed
//! transactions and consensus messages, real contract modules, one request per JSON-RPC method;
//! and dictionaries of tokens the mutator splices in.

use parity_scale_codec::Encode;
use serde_json::{Value, json};
use weft_types::{
    Action, Address, Block, Hash, Header, MethodName, Receipt, SignedTransaction, Transaction,
    abi::{HOST_FUNCTIONS, ValType},
    block::{receipts_root, tx_root},
    codec::{BoundedBytes, BoundedVec},
    consensus::{
        BlockRef, Certificate, ConsensusMessage, Evidence, Proposal, Validator, ValidatorSet,
        ValidatorSignature, Vote,
    },
    dev::{dev_address, dev_key},
    receipt::ExecStatus,
};

use crate::chain::{CHAIN_ID, token_wasm};

fn bytes<L: weft_types::codec::Limit>(v: &[u8]) -> BoundedBytes<L> {
    BoundedBytes::new(v.to_vec()).unwrap_or_else(|e| panic!("seed: {e}"))
}

fn signed(who: &str, nonce: u64, gas_limit: u64, gas_price: u128, action: Action) -> SignedTransaction {
    let key = dev_key(who);
    Transaction { chain_id: CHAIN_ID, sender: dev_address(who), nonce, gas_limit, gas_price, action }
        .sign(&key)
}

/// A contract method call of the base chain's token.
fn token_call(method: &str, args: Vec<u8>) -> Action {
    Action::Call {
        contract: crate::chain::base().token,
        method: MethodName::new(method).unwrap_or_else(|e| panic!("{e}")),
        args: bytes(&args),
        value: 0,
    }
}

/// Signed transactions of every action, including edge values.
pub fn transactions() -> Vec<SignedTransaction> {
    let bob = dev_address("bob");
    let mut to_bob = bob.0.to_vec();
    to_bob.extend_from_slice(&5u64.to_le_bytes());
    vec![
        signed("alice", 2, 21_000, 1, Action::Transfer { to: bob, amount: 1_000 }),
        signed("alice", 2, 21_000, 1, Action::Transfer { to: bob, amount: u128::MAX }),
        signed("bob", 0, 21_000, 1, Action::Transfer { to: dev_address("alice"), amount: u128::MAX / 2 }),
        signed("alice", 2, 50_000, u128::MAX / 3, Action::Transfer { to: bob, amount: 1 }),
        signed("dave", 0, 21_000, 1, Action::Transfer { to: dev_address("dave"), amount: 7 }),
        signed("alice", 2, 5_000_000, 1, token_call("transfer", to_bob)),
        signed("alice", 2, 5_000_000, 1, token_call("balance_of", dev_address("alice").0.to_vec())),
        signed("charlie", 0, 50_000_000, 1, Action::UploadCode { code: bytes(&all_host_functions_wasm()) }),
        signed(
            "charlie",
            0,
            50_000_000,
            1,
            Action::Instantiate {
                code_hash: weft_types::sha3_256(&token_wasm()),
                args: bytes(&9u64.to_le_bytes()),
                value: 3,
                salt: bytes(b"salt"),
            },
        ),
    ]
}

fn header(height: u64, txs: &[SignedTransaction], receipts: &[Receipt]) -> Header {
    Header {
        height,
        parent_hash: Hash([1; 32]),
        timestamp_ms: 2_000,
        proposer: Address([0xee; 32]),
        tx_root: tx_root(txs),
        receipts_root: receipts_root(receipts),
        state_root: Hash([2; 32]),
        gas_used: 21_000,
    }
}

/// Encoded protocol messages of every kind: transactions, a block, consensus messages,
/// certificates, a receipt, a validator set, evidence.
pub fn tx_inputs() -> Vec<Vec<u8>> {
    let txs = transactions();
    let receipt = Receipt {
        tx_hash: txs[0].hash(),
        status: ExecStatus::Success,
        gas_used: 21_000,
        fee: 21_000,
        deposit_charged: 0,
        deposit_refunded: 0,
        events: vec![],
        return_data: vec![1, 2, 3],
        contract_address: None,
    };
    let mut out: Vec<Vec<u8>> = txs.iter().map(Encode::encode).collect();
    // The real next block of the base chain, as the builder makes it.
    let b = crate::chain::base();
    let run = b.run(vec![txs[0].clone(), txs[5].clone()]);
    if let Some(built) = run.output {
        out.push(built.block.encode());
    }
    let block = Block {
        header: header(3, &txs[..2], std::slice::from_ref(&receipt)),
        txs: BoundedVec::new(txs[..2].to_vec()).unwrap_or_else(|e| panic!("{e}")),
    };
    out.push(block.encode());
    out.push(receipt.encode());
    let keys: Vec<_> = ["alice", "bob", "charlie", "dave"].iter().map(|n| dev_key(n)).collect();
    let block_ref = BlockRef { view: 4, height: 3, hash: block.hash() };
    let votes: Vec<_> = keys.iter().map(|k| Vote::Finalize(block_ref).sign(CHAIN_ID, k)).collect();
    out.push(ConsensusMessage::Vote(votes[0]).encode());
    out.push(ConsensusMessage::Vote(Vote::Notarize(block_ref).sign(CHAIN_ID, &keys[1])).encode());
    out.push(ConsensusMessage::Vote(Vote::Nullify(5).sign(CHAIN_ID, &keys[2])).encode());
    let sigs = votes.iter().map(|v| ValidatorSignature { validator: v.signer, signature: v.signature });
    if let Ok(cert) = Certificate::new(Vote::Finalize(block_ref), sigs) {
        out.push(cert.encode());
        out.push(ConsensusMessage::Certificate(cert).encode());
    }
    let proposal = Proposal { view: 4, height: 3, block_hash: block.hash(), parent_view: 2 };
    let sp = proposal.sign(CHAIN_ID, &keys[0]);
    out.push(ConsensusMessage::Proposal { proposal: sp, block: Box::new(block.clone()) }.encode());
    out.push(ConsensusMessage::BlockRequest(block.hash()).encode());
    out.push(ConsensusMessage::CertificateRequest(9).encode());
    let other = Proposal { block_hash: Hash([7; 32]), ..proposal }.sign(CHAIN_ID, &keys[0]);
    out.push(Evidence::ConflictingProposals(sp, other).encode());
    let set = ValidatorSet::from_unsorted(
        keys.iter().map(|k| Validator { address: weft_types::tx::address_of(k), power: 1 }).collect(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    out.push(set.encode());
    out
}

/// Tokens for the transaction target: compact length prefixes of every width (and
/// non-canonical ones), integer edges, the chain id, the variant indices.
pub fn tx_dict() -> Vec<Vec<u8>> {
    vec![
        vec![0x00],
        vec![0xfc],
        vec![0xfd, 0xff],
        vec![0xfe, 0xff, 0xff, 0xff],
        vec![0x03, 0xff, 0xff, 0xff, 0xff],
        vec![0x13, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![0x01, 0x00],
        vec![0x02, 0x00, 0x00, 0x00],
        vec![0xff; 16],
        vec![0xff; 8],
        vec![0x00; 32],
        vec![0x00; 64],
        1337u64.to_le_bytes().to_vec(),
        21_000u64.to_le_bytes().to_vec(),
        500_000_000u64.to_le_bytes().to_vec(),
        vec![0x02],
        vec![0x03],
        vec![0x04],
    ]
}

/// A module importing every host function, with one method per host function calling it with
/// plausible arguments (pointers into the first page, lengths of 32), `all` calling them all,
/// and `init`, a loop, recursion, a table and `memory.grow`, so that mutations of its constants
/// and opcodes reach every host function and the stack and gas machinery.
pub fn all_host_functions_wasm() -> Vec<u8> {
    let mut imports = String::new();
    let mut methods = String::new();
    let mut all = String::new();
    for (i, f) in HOST_FUNCTIONS.iter().enumerate() {
        let ty = |t: &ValType| match t {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
        };
        let params: Vec<_> = f.params.iter().map(ty).collect();
        let results: Vec<_> = f.results.iter().map(ty).collect();
        imports.push_str(&format!(
            "(import \"weft\" \"{}\" (func $h{i} (param {}) (result {})))\n",
            f.name,
            params.join(" "),
            results.join(" ")
        ));
        let mut body = String::new();
        for (j, p) in f.params.iter().enumerate() {
            // Pointers at 64·(j+1), lengths 32; the gas of `call` small.
            let v = if j % 2 == 0 { 64 * (j + 1) } else { 32 };
            body.push_str(&format!("({}.const {v})", ty(p)));
        }
        body.push_str(&format!("(call $h{i})"));
        for _ in f.results.iter() {
            body.push_str("(drop)");
        }
        methods.push_str(&format!("(func (export \"h_{}\") {body})\n", f.name));
        all.push_str(&body);
    }
    let text = format!(
        r#"(module
          {imports}
          (memory (export "memory") 1 4)
          (global $depth (mut i32) (i32.const 0))
          (table 2 funcref)
          (elem (i32.const 0) $spin $deep)
          (data (i32.const 64) "storage key of thirty-two bytes!")
          (data (i32.const 128) "transfer")
          {methods}
          (func (export "init") (call $h1 (i32.const 512)))
          (func (export "all") {all})
          (func $spin (local $i i32)
            (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 100000)))))
          (func $deep (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
            (if (i32.lt_u (global.get $depth) (i32.const 100000)) (then (call $deep))))
          (func (export "spin") (call_indirect (i32.const 0)))
          (func (export "deep") (call_indirect (i32.const 1)))
          (func (export "grow") (drop (memory.grow (i32.const 3))) (i32.store (i32.const 200000) (i32.const 1)))
          (func (export "pick") (local $x i32)
            (local.set $x (call $h0))
            (block $a (block $b (block $c (br_table $a $b $c (local.get $x)))
              (unreachable)) (drop (i32.div_u (i32.const 1) (local.get $x)))) (nop)))"#
    );
    wat::parse_str(&text).unwrap_or_else(|e| panic!("all-host-functions module: {e}\n{text}"))
}

/// Small contract modules: the WAT token and [`all_host_functions_wasm`]. The tests add the
/// compiled example contracts.
pub fn wasm_inputs() -> Vec<Vec<u8>> {
    vec![token_wasm(), all_host_functions_wasm()]
}

/// Tokens for the wasm target: section ids and headers, LEB128 edges, opcodes of MVP and of
/// refused proposals, host import names.
pub fn wasm_dict() -> Vec<Vec<u8>> {
    let mut d: Vec<Vec<u8>> = vec![
        b"\0asm\x01\0\0\0".to_vec(),
        vec![0x80, 0x80, 0x80, 0x80, 0x08],
        vec![0xff, 0xff, 0xff, 0xff, 0x0f],
        vec![0x7f],
        vec![0x7e],
        vec![0x7d],
        vec![0x7c],
        vec![0x7b],
        vec![0x60, 0x00, 0x00],
        vec![0x60, 0x01, 0x7f, 0x01, 0x7f],
        vec![0x03, 0x40, 0x0b],
        vec![0x0e, 0x02, 0x00, 0x01, 0x00],
        vec![0x10, 0x00],
        vec![0x11, 0x00, 0x00],
        vec![0x40, 0x00],
        vec![0x3f, 0x00],
        vec![0xfc, 0x0a, 0x00, 0x00],
        vec![0xfd, 0x0c],
        vec![0xfe, 0x00],
        vec![0xd0, 0x70],
        vec![0x05, 0x03, 0x01, 0x00, 0x01],
        b"weft".to_vec(),
        b"memory".to_vec(),
        b"init".to_vec(),
        b"__weft_reentrant".to_vec(),
    ];
    d.extend(HOST_FUNCTIONS.iter().map(|f| f.name.as_bytes().to_vec()));
    d.extend((0u8..=12).map(|id| vec![id]));
    d
}

/// Parameter values for the JSON-RPC requests: valid and edge addresses, hashes, bytes, block
/// ids, numbers and requests objects.
pub fn rpc_values() -> Vec<Value> {
    let alice = dev_address("alice").to_string();
    let token = crate::chain::base().token.to_string();
    let tx = format!("0x{}", hex_of(&transactions()[0].encode()));
    vec![
        json!(alice),
        json!(token),
        json!(format!("0x{}", "00".repeat(32))),
        json!(format!("0x{}", "ff".repeat(32))),
        json!("0x"),
        json!("0x1"),
        json!("0xzz"),
        json!(tx),
        json!("head"),
        json!("finalized"),
        json!("alice"),
        json!(0),
        json!(1),
        json!(2),
        json!(-1),
        json!(u64::MAX),
        json!(1.5),
        json!(1e300),
        json!(u128::MAX.to_string()),
        json!("340282366920938463463374607431768211456"),
        json!(true),
        json!(null),
        json!([]),
        json!({}),
        json!({ "height": 0 }),
        json!({ "hash": format!("0x{}", "11".repeat(32)) }),
        json!({ "contract": token, "method": "balance_of", "input": { "input": format!("0x{}", "aa".repeat(32)) } }),
        json!({ "contract": token, "method": "transfer", "input": { "args": { "to": alice, "amount": 1 } }, "caller": alice, "gas_limit": 1_000_000 }),
        json!({ "from": alice, "action": { "type": "transfer", "to": alice, "amount": "1" } }),
        json!({ "from": alice, "action": { "type": "call", "contract": token, "method": "transfer", "input": { "input": "0x00" } } }),
        json!({ "from": alice, "action": { "type": "upload_code", "code": "0x0061736d01000000" } }),
        json!({ "contract": token, "event": "Transfer", "limit": 5, "from_block": 0, "to_block": 100 }),
        json!({ "limit": 100000 }),
        json!({ "cursor": "0x00" }),
        json!({ "topics": [null, format!("0x{}", "22".repeat(32))] }),
    ]
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One valid request per JSON-RPC method (params taken from [`rpc_values`] where the method
/// takes them), and a few sequences.
pub fn rpc_inputs() -> Vec<Vec<u8>> {
    let v = rpc_values();
    let alice = &v[0];
    let token = &v[1];
    let params = |method: &str| -> Value {
        match method {
            "chain_getBlock" => json!([{ "height": 0 }, true]),
            "state_getAccount" | "contract_getAbi" | "contract_getCode" => json!([alice]),
            "state_getStorage" => json!([token, format!("0x{}", hex_of(&dev_address("alice").0))]),
            "state_getProof" => json!([token, [format!("0x{}", hex_of(&dev_address("alice").0))]]),
            "tx_submit" => json!([v[7]]),
            "tx_submitBatch" => json!([[v[7], "0x00"]]),
            "tx_get" | "tx_getReceipt" | "tx_subscribeStatus" => json!([v[2]]),
            "contract_query" => json!([v[26]]),
            "contract_estimateGas" => json!([v[28]]),
            "contract_getEvents" | "contract_subscribeEvents" => json!([v[31]]),
            "dev_mine" => json!([1]),
            "dev_setBalance" => json!([alice, "1000"]),
            "dev_increaseTime" => json!([1000]),
            "dev_revert" => json!([0]),
            _ => json!([]),
        }
    };
    let mut out: Vec<Vec<u8>> = weft_rpc_api::openrpc::METHODS
        .iter()
        .map(|m| {
            json!({ "jsonrpc": "2.0", "id": 1, "method": m.name, "params": params(m.name) })
                .to_string()
                .into_bytes()
        })
        .collect();
    let req = |method: &str, params: Value| json!({ "jsonrpc": "2.0", "id": 2, "method": method, "params": params });
    out.push(
        json!([req("dev_snapshot", json!([])), req("dev_mine", json!([2])), req("dev_revert", json!([0]))])
            .to_string()
            .into_bytes(),
    );
    out.push(
        json!([
            req("dev_increaseTime", json!([1_000_000])),
            req("dev_mine", json!([1])),
            req("chain_getHead", json!([]))
        ])
        .to_string()
        .into_bytes(),
    );
    out
}

/// Tokens for the JSON-RPC target: method names and JSON fragments.
pub fn rpc_dict() -> Vec<Vec<u8>> {
    let mut d: Vec<Vec<u8>> =
        weft_rpc_api::openrpc::METHODS.iter().map(|m| m.name.as_bytes().to_vec()).collect();
    for t in [
        "\"jsonrpc\":\"2.0\"",
        "\"id\":",
        "\"method\":",
        "\"params\":",
        "null",
        "true",
        "[]",
        "{}",
        "\"0x\"",
        "-1",
        "1e400",
        "18446744073709551616",
        "340282366920938463463374607431768211455",
        "\"head\"",
        "\"finalized\"",
        "\\u0000",
        "\"",
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
    ] {
        d.push(t.as_bytes().to_vec());
    }
    d
}
