//! The work a node does per block, minus consensus, on 1,000 token-contract transfers from 1,000
//! senders: `apply_block` (signatures, execution, state root) with the signatures checked on one
//! thread (as before they were parallel), on every core, or not at all because admission already
//! checked them (the dev producer's case), and the durable redb commit of the block, its receipts
//! and state changes. One run gives the ratios.
//!
//! Run: `cargo bench -p weft-node --bench block`.
#![allow(clippy::unwrap_used)]

use std::{sync::Arc, time::Duration};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use parity_scale_codec::Encode;
use weft_node::store::Store;
use weft_runtime::{BlockBuilder, BlockOutput, Genesis, Runtime};
use weft_types::{
    Action, Address, Block, Hash, Header, MethodName, SignedTransaction, Transaction, codec::BoundedBytes,
    sha3_256, tx::address_of,
};

const SENDERS: usize = 1_000;
const CHAIN: u64 = 1;

struct Bench {
    rt: Runtime,
    store: Store,
    _dir: tempfile::TempDir,
    head: Header,
    keys: Vec<SigningKey>,
    nonces: Vec<u64>,
    token: Address,
    round: usize,
}

impl Bench {
    fn tx(&mut self, i: usize, action: Action) -> SignedTransaction {
        let tx = Transaction {
            chain_id: CHAIN,
            sender: address_of(&self.keys[i]),
            nonce: self.nonces[i],
            gas_limit: 2_000_000,
            gas_price: 1,
            action,
        };
        self.nonces[i] += 1;
        tx.sign(&self.keys[i])
    }

    fn build(&self, txs: Vec<SignedTransaction>) -> BlockOutput {
        let state = Arc::new(self.store.state().unwrap());
        let mut b =
            BlockBuilder::new(&self.rt, state, &self.head, self.head.timestamp_ms + 1, Address::default());
        for tx in txs {
            let r = b.push(tx).unwrap();
            assert!(r.is_success(), "{:?}", r.status);
        }
        b.finish().unwrap()
    }

    fn commit(&mut self, out: &BlockOutput) {
        self.store.commit_block(&out.block, &out.receipts, &out.changes).unwrap();
        self.head = out.block.header.clone();
    }

    fn transfer(&mut self, from: usize, to: Address, amount: u64) -> SignedTransaction {
        let mut args = to.0.to_vec();
        args.extend_from_slice(&amount.to_le_bytes());
        let action = Action::Call {
            contract: self.token,
            method: MethodName::new("transfer").unwrap(),
            args: BoundedBytes::new(args).unwrap(),
            value: 0,
        };
        self.tx(from, action)
    }

    /// The next block of 1,000 transfers (sender i pays sender i+1+round: distinct recipients
    /// each round, every sender once), built by a proposer; nothing committed.
    fn next_block(&mut self) -> Block {
        self.round += 1;
        let round = self.round;
        let txs: Vec<_> = (0..SENDERS)
            .map(|i| {
                let to = address_of(&self.keys[(i + 1 + round) % SENDERS]);
                self.transfer(i, to, 1)
            })
            .collect();
        self.build(txs).block
    }

    fn new() -> Self {
        let keys: Vec<_> =
            (0..SENDERS as u64).map(|i| SigningKey::from_bytes(&sha3_256(&i.to_le_bytes()).0)).collect();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("chain.redb")).unwrap();
        let rt = Runtime::new(CHAIN, 1).unwrap();
        let balances = keys.iter().map(|k| (address_of(k), 1u128 << 100)).collect();
        let genesis = rt
            .genesis(
                Arc::new(store.state().unwrap()),
                &Genesis { timestamp_ms: 0, balances, validators: None },
            )
            .unwrap();
        store.commit_block(&genesis.block, &genesis.receipts, &genesis.changes).unwrap();
        let mut b = Bench {
            rt,
            store,
            _dir: dir,
            head: genesis.block.header,
            keys,
            nonces: vec![0; SENDERS],
            token: Address::default(),
            round: 0,
        };
        let code =
            wat::parse_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../contracts/wat/token.wat")).unwrap();
        let code_hash: Hash = sha3_256(&code);
        let upload = b.tx(0, Action::UploadCode { code: BoundedBytes::new(code).unwrap() });
        let out = b.build(vec![upload]);
        b.commit(&out);
        let init = Action::Instantiate {
            code_hash,
            args: BoundedBytes::new(u64::MAX.to_le_bytes().to_vec()).unwrap(),
            value: 0,
            salt: BoundedBytes::new(vec![]).unwrap(),
        };
        let init = b.tx(0, init);
        let out = b.build(vec![init]);
        b.token = out.receipts[0].contract_address.unwrap();
        b.commit(&out);
        // Give every sender tokens.
        let txs = (1..SENDERS).map(|i| {
            let to = address_of(&b.keys[i]);
            b.transfer(0, to, 1 << 40)
        });
        let txs: Vec<_> = txs.collect();
        let out = b.build(txs);
        b.commit(&out);
        b
    }
}

/// How `apply_block` learns the signatures are valid.
#[derive(Clone, Copy)]
enum Sigs {
    OneThread,
    AllCores,
    /// Checked at admission (as `Admission::submit` does) before the clock starts: the block's
    /// transactions are in the caller's pool.
    Remembered,
}

fn apply(c: &mut Criterion) {
    let mut bench = Bench::new();
    let mut group = c.benchmark_group("block of 1000 token transfers");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15))
        .throughput(Throughput::Elements(SENDERS as u64));
    for (name, sigs) in [
        ("apply_block, signatures on 1 thread", Sigs::OneThread),
        ("apply_block, signatures on all cores", Sigs::AllCores),
        ("apply_block, signatures checked at admission", Sigs::Remembered),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let block = bench.next_block();
                    let rt = bench.rt.clone();
                    let mut pool = std::collections::BTreeSet::new();
                    if matches!(sigs, Sigs::Remembered) {
                        for tx in block.txs.iter() {
                            pool.insert(rt.admit(&tx.encode()).unwrap().hash());
                        }
                    }
                    let state = Arc::new(bench.store.state().unwrap());
                    let start = std::time::Instant::now();
                    let verified =
                        |hashes: &[weft_types::Hash]| hashes.iter().map(|h| pool.contains(h)).collect();
                    let out = match sigs {
                        Sigs::OneThread => weft_runtime::sigs::with_threads(1, || {
                            rt.apply_block_verified(state, &bench.head, &block, verified)
                        }),
                        _ => rt.apply_block_verified(state, &bench.head, &block, verified),
                    }
                    .unwrap();
                    total += start.elapsed();
                    bench.commit(&out);
                }
                total
            })
        });
    }
    group.bench_function("durable redb commit (block, receipts, state changes)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let block = bench.next_block();
                let state = Arc::new(bench.store.state().unwrap());
                let out = bench.rt.apply_block(state, &bench.head, &block).unwrap();
                let start = std::time::Instant::now();
                bench.commit(&out);
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, apply);
criterion_main!(benches);
