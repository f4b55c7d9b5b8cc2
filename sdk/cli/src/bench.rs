//! `weft bench`: a load generator. It funds fresh accounts from the dev accounts, pre-signs the
//! whole load (on every core, before the clock starts), submits it with `tx_submitBatch` over
//! several WebSocket connections while keeping at most a window of transactions unfinalized,
//! follows finalized blocks to time each transaction from submission to finality, and reports
//! the rates, the latency percentiles and the node's CPU and memory (`node_metrics`). The `reads`
//! workload instead sends `state_getAccount` requests from several connections.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context as _, Result, anyhow, bail};
use clap::{Args, ValueEnum};
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use weft_client::{
    Client, ClientError, Contract, DeployOptions, Signer, TxOptions,
    api::{BlockId, Bytes, NodeMetrics},
};
use weft_types::{
    Action, Address, Amount, Hash, MethodName, SignedTransaction, Transaction, codec::BoundedBytes,
    dev::DEV_ACCOUNTS, sha3_256,
};

use crate::output::Report;

/// What the load consists of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// Native token transfers.
    Transfer,
    /// `transfer` calls of the example token contract (deployed unless --contract is given).
    Token,
    /// `crunch` calls of the hostile example contract: CPU-heavy, no storage.
    Compute,
    /// `state_getAccount` requests over WebSocket from --clients connections (no transactions).
    Reads,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Transfer => "transfer",
            Workload::Token => "token",
            Workload::Compute => "compute",
            Workload::Reads => "reads",
        }
    }
}

/// `weft bench` options.
#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    /// Transactions to send (requests, for `reads`).
    #[arg(long, default_value_t = 10_000)]
    pub txs: u64,
    /// What to send.
    #[arg(long, value_enum, default_value_t = Workload::Transfer)]
    pub workload: Workload,
    /// Fresh accounts that send the load (funded first from the dev accounts).
    #[arg(long, default_value_t = 1_000)]
    pub accounts: u32,
    /// WebSocket connections that submit transactions.
    #[arg(long, default_value_t = 4)]
    pub connections: u32,
    /// Transactions per `tx_submitBatch`.
    #[arg(long, default_value_t = 500)]
    pub batch: u32,
    /// Most transactions submitted but not yet final at any time.
    #[arg(long, default_value_t = 40_000)]
    pub window: u32,
    /// Connections of the `reads` workload.
    #[arg(long, default_value_t = 8)]
    pub clients: u32,
    /// Requests each `reads` connection keeps in flight.
    #[arg(long, default_value_t = 1)]
    pub inflight: u32,
    /// Rounds of `crunch` per transaction of the `compute` workload (~4,600 gas each).
    #[arg(long, default_value_t = 20)]
    pub rounds: u32,
    /// Use this already deployed contract (token or hostile) instead of deploying one.
    #[arg(long, value_name = "ADDR")]
    pub contract: Option<String>,
    /// The contract's .wasm to deploy. Default: built from the workspace with weft-build
    /// (`weft-example-token` or `weft-example-hostile`).
    #[arg(long, value_name = "FILE")]
    pub wasm: Option<std::path::PathBuf>,
    /// Give up when nothing finalizes for this many seconds.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

/// Most transactions, accounts, connections and batch size accepted.
const MAX_TXS: u64 = 100_000_000;
const MAX_ACCOUNTS: u32 = 1_000_000;
const MAX_CONNECTIONS: u32 = 256;
/// Transactions one sender may have waiting in a node's mempool (its default) — funding
/// rounds stay below it.
const PER_SENDER_ROUND: usize = 1_000;
/// Native tokens given to each fresh account beyond its fees.
const FUND_EXTRA: Amount = 1_000_000_000_000_000_000;
/// Tokens given to each fresh account for the token workload.
const TOKEN_FUND: Amount = 1_000_000_000_000;

fn check_args(a: &BenchArgs) -> Result<()> {
    let bad = |m: String| Err(anyhow!(ClientError::InvalidInput(m)));
    if a.txs == 0 || a.txs > MAX_TXS {
        return bad(format!("--txs {} must be between 1 and {MAX_TXS}", a.txs));
    }
    if a.accounts == 0 || a.accounts > MAX_ACCOUNTS {
        return bad(format!("--accounts {} must be between 1 and {MAX_ACCOUNTS}", a.accounts));
    }
    for (name, v) in [("--connections", a.connections), ("--clients", a.clients), ("--inflight", a.inflight)]
    {
        if v == 0 || v > MAX_CONNECTIONS {
            return bad(format!("{name} {v} must be between 1 and {MAX_CONNECTIONS}"));
        }
    }
    if a.batch == 0 || a.batch > 2_000 {
        return bad(format!(
            "--batch {} must be between 1 and 2000 (the node's tx_submitBatch limit)",
            a.batch
        ));
    }
    if a.window < a.batch {
        return bad(format!("--window {} must be at least --batch {}", a.window, a.batch));
    }
    if a.rounds > 10_000 {
        return bad(format!("--rounds {} is at most 10000", a.rounds));
    }
    Ok(())
}

/// Runs the benchmark against the node at `url`.
pub async fn run(url: &str, args: BenchArgs) -> Result<Report> {
    check_args(&args)?;
    let client = Client::connect(url).await?;
    if args.workload == Workload::Reads {
        return reads(url, &client, &args).await;
    }
    let params = client.chain_params().await?;
    let alice = Signer::dev("alice").ok_or_else(|| anyhow!("the dev account alice is missing"))?;
    let progress = Progress::spinner();

    // The accounts: fresh keys derived from one random seed.
    let seed = Signer::generate()?.signing_key().to_bytes();
    let keys: Vec<Signer> = (0..args.accounts)
        .map(|i| {
            let mut material = seed.to_vec();
            material.extend_from_slice(&i.to_le_bytes());
            Signer::from_secret(sha3_256(&material).0)
        })
        .collect();
    let addresses: Vec<Address> = keys.iter().map(Signer::address).collect();
    let per_account = args.txs.div_ceil(u64::from(args.accounts));

    // The contract, and the shape (action, gas) of one load transaction.
    progress.message("preparing the contract");
    let target = match args.workload {
        Workload::Transfer | Workload::Reads => None,
        Workload::Token | Workload::Compute => Some(contract(&client, &alice, &args).await?),
    };
    let action_of = |from: usize| -> Result<Action> {
        let to = addresses[(from + 1) % addresses.len()];
        Ok(match (&target, args.workload) {
            (None, _) => Action::Transfer { to, amount: 1 },
            (Some(c), Workload::Token) => {
                call(c, "transfer", &json!({ "to": to.to_string(), "amount": "1" }))?
            }
            (Some(c), _) => call(c, "crunch", &json!({ "rounds": args.rounds }))?,
        })
    };
    // Gas from a dry run by alice (who holds the tokens), with the client's margin.
    let shape = client.prepare(&alice, action_of(0)?, &TxOptions::default()).await?;
    let gas_limit = shape.gas_limit;
    let fee = Amount::from(gas_limit) * shape.gas_price;

    // Fund the accounts: native tokens from every dev account, then tokens from alice.
    progress.message(format!("funding {} accounts", args.accounts));
    let fund = fee.saturating_mul(Amount::from(per_account) + 2).saturating_add(FUND_EXTRA);
    let devs: Vec<Signer> = DEV_ACCOUNTS.iter().filter_map(|n| Signer::dev(n)).collect();
    let transfer_gas = client
        .prepare(&alice, Action::Transfer { to: addresses[0], amount: fund }, &TxOptions::default())
        .await?
        .gas_limit;
    let mut funding: Vec<(Signer, Action, u64)> = addresses
        .iter()
        .enumerate()
        .map(|(i, to)| {
            (devs[i % devs.len()].clone(), Action::Transfer { to: *to, amount: fund }, transfer_gas)
        })
        .collect();
    fund_rounds(&client, url, &args, std::mem::take(&mut funding), params.min_gas_price, &progress).await?;
    if let (Some(c), Workload::Token) = (&target, args.workload) {
        let token_gas = client
            .prepare(
                &alice,
                call(
                    c,
                    "transfer",
                    &json!({ "to": addresses[0].to_string(), "amount": TOKEN_FUND.to_string() }),
                )?,
                &TxOptions::default(),
            )
            .await?
            .gas_limit;
        for to in &addresses {
            let action =
                call(c, "transfer", &json!({ "to": to.to_string(), "amount": TOKEN_FUND.to_string() }))?;
            funding.push((alice.clone(), action, token_gas));
        }
        progress.message(format!("giving {} accounts tokens", args.accounts));
        fund_rounds(&client, url, &args, funding, params.min_gas_price, &progress).await?;
    }

    // Pre-sign the load: transaction j is account (j mod A)'s nonce (j div A).
    progress.message(format!("signing {} transactions", args.txs));
    let actions: Vec<Action> = (0..keys.len()).map(action_of).collect::<Result<_>>()?;
    let accounts = keys.len() as u64;
    let make = |j: u64| {
        let a = (j % accounts) as usize;
        Transaction {
            chain_id: params.chain_id,
            sender: addresses[a],
            nonce: j / accounts,
            gas_limit,
            gas_price: params.min_gas_price,
            action: actions[a].clone(),
        }
        .sign(keys[a].signing_key())
    };
    let signed = sign_all(args.txs, &make);
    progress.finish();

    let before = client.metrics().await.ok();
    let load = submit_and_follow(url, &args, signed, true).await?;
    let after = client.metrics().await.ok();
    Ok(tx_report(&args, target, &load, before, after))
}

/// A `Call` action of `method` with JSON `args` through the contract's ABI.
fn call(c: &Contract, method: &str, args: &Value) -> Result<Action> {
    Ok(Action::Call {
        contract: c.address(),
        method: MethodName::new(method).map_err(|e| anyhow!("{e}"))?,
        args: BoundedBytes::new(c.encode(method, args)?).map_err(|e| anyhow!("{e}"))?,
        value: 0,
    })
}

/// The workload's contract: `--contract`, or deployed from `--wasm` or the built example.
async fn contract(client: &Client, alice: &Signer, args: &BenchArgs) -> Result<Contract> {
    if let Some(address) = &args.contract {
        let address: Address =
            address.parse().map_err(|e| ClientError::InvalidInput(format!("--contract {address}: {e}")))?;
        return Ok(client.contract(address).await?);
    }
    let (package, ctor) = match args.workload {
        Workload::Token => ("weft-example-token", json!({ "supply": (u128::MAX / 2).to_string() })),
        _ => ("weft-example-hostile", Value::Null),
    };
    let wasm = match &args.wasm {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        None => {
            let opts = weft_build::BuildOptions::default();
            tokio::task::spawn_blocking(move || weft_build::build_contract(package, &opts))
                .await?
                .with_context(|| format!("building {package} (run from the Weft workspace, or give --wasm)"))?
                .wasm
        }
    };
    let options =
        DeployOptions { salt: Some(Signer::generate()?.address().0[..8].to_vec()), ..Default::default() };
    let deployed = client.deploy_with(alice, &wasm, ctor, &options).await?;
    Ok(client.contract(deployed.address).await?)
}

/// Sends `(signer, action, gas)` transactions in rounds of at most [`PER_SENDER_ROUND`] per
/// signer, each round waited for until final.
async fn fund_rounds(
    client: &Client,
    url: &str,
    args: &BenchArgs,
    txs: Vec<(Signer, Action, u64)>,
    gas_price: Amount,
    progress: &Progress,
) -> Result<()> {
    let params = client.chain_params().await?;
    let mut nonces: HashMap<Address, u64> = HashMap::new();
    let mut queue: VecDeque<(Signer, Action, u64)> = txs.into();
    while !queue.is_empty() {
        let mut round = Vec::new();
        let mut count: HashMap<Address, usize> = HashMap::new();
        let mut rest = VecDeque::new();
        while let Some((signer, action, gas)) = queue.pop_front() {
            let who = signer.address();
            let n = count.entry(who).or_default();
            if *n >= PER_SENDER_ROUND {
                rest.push_back((signer, action, gas));
                continue;
            }
            *n += 1;
            let nonce = match nonces.get(&who) {
                Some(n) => *n,
                None => client.account(who).await?.pending_nonce,
            };
            nonces.insert(who, nonce + 1);
            let tx = Transaction {
                chain_id: params.chain_id,
                sender: who,
                nonce,
                gas_limit: gas,
                gas_price,
                action,
            };
            round.push(signer.sign(tx)?);
        }
        queue = rest;
        progress.message(format!("funding: {} transactions", round.len()));
        let mut opts = args.clone();
        opts.connections = opts.connections.min(2);
        let out = submit_and_follow(url, &opts, round, false).await?;
        if out.rejected > 0 {
            bail!(
                "the node refused {} funding transactions: {}",
                out.rejected,
                out.first_error.unwrap_or_default()
            );
        }
        if out.failed > 0 {
            bail!("{} funding transactions failed on chain", out.failed);
        }
    }
    Ok(())
}

/// Signs `count` transactions made by `make`, on every core.
fn sign_all(count: u64, make: &(dyn Fn(u64) -> SignedTransaction + Sync)) -> Vec<SignedTransaction> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let chunk = count.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = (0..threads)
            .map(|t| {
                let (start, end) = (t * chunk, ((t + 1) * chunk).min(count));
                s.spawn(move || (start..end).map(make).collect::<Vec<_>>())
            })
            .collect();
        parts.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// A progress bar (or spinner) on stderr, drawn only when stderr is a terminal.
struct Progress(indicatif::ProgressBar);

impl Progress {
    fn spinner() -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        Self(bar)
    }

    fn bar(len: u64) -> Self {
        let bar =
            indicatif::ProgressBar::with_draw_target(Some(len), indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} final, {msg} ({elapsed}, {per_sec})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Self(bar)
    }

    fn message(&self, m: impl Into<String>) {
        self.0.set_message(m.into());
    }

    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// What one load run measured.
#[derive(Debug, Default)]
struct LoadResult {
    accepted: u64,
    rejected: u64,
    first_error: Option<String>,
    finalized: u64,
    failed: u64,
    blocks: u64,
    /// From the first submission to the last submission's answer.
    submit_time: Duration,
    /// From the first submission to the last finalization.
    final_time: Duration,
    latencies_ms: Vec<f64>,
    rss_max: Option<u64>,
    /// The node's RSS (MiB) when 10 %, 20 %, … 100 % of the load was final.
    rss_by_tenth: Vec<Option<f64>>,
    timed_out: bool,
    client_cpu_ms: Option<u64>,
}

struct Shared {
    /// Submitted (or about to be), not yet final: hash → when its batch was sent.
    pending: Mutex<HashMap<Hash, Instant>>,
    window: Semaphore,
    accepted: AtomicU64,
    finalized: AtomicU64,
    failed: AtomicU64,
    done_submitting: AtomicBool,
    latencies: Mutex<Vec<f64>>,
    last_final: Mutex<Option<Instant>>,
}

/// Submits `txs` in batches over `args.connections` connections, keeping at most
/// `args.window` unfinalized, and follows finalized blocks until every accepted one is final.
async fn submit_and_follow(
    url: &str,
    args: &BenchArgs,
    txs: Vec<SignedTransaction>,
    show: bool,
) -> Result<LoadResult> {
    let total = txs.len() as u64;
    let batch = args.batch as usize;
    let mut batches: VecDeque<(Vec<Hash>, Vec<Bytes>)> = VecDeque::new();
    for chunk in txs.chunks(batch) {
        let encoded: Vec<Vec<u8>> = chunk.iter().map(parity_scale_codec::Encode::encode).collect();
        let hashes = encoded.iter().map(|e| sha3_256(e)).collect();
        batches.push_back((hashes, encoded.into_iter().map(Bytes).collect()));
    }
    drop(txs);
    let queue = Arc::new(Mutex::new(batches));
    let shared = Arc::new(Shared {
        pending: Mutex::new(HashMap::with_capacity(total as usize)),
        window: Semaphore::new(args.window as usize),
        accepted: AtomicU64::new(0),
        finalized: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        done_submitting: AtomicBool::new(false),
        latencies: Mutex::new(Vec::with_capacity(total as usize)),
        last_final: Mutex::new(None),
    });
    let progress = if show { Some(Progress::bar(total)) } else { None };

    // The follower: every finalized block, in order, from the head at the start.
    let follower_client = Client::connect(url).await?;
    let mut heads = follower_client.subscribe_finalized().await?;
    let mut next_height = follower_client.finalized_head().await?.height + 1;
    let cpu_before = own_cpu_ms();
    let start = Instant::now();

    let mut senders = Vec::new();
    for _ in 0..args.connections {
        let client = Client::connect(url).await?;
        let (queue, shared) = (queue.clone(), shared.clone());
        senders.push(tokio::spawn(async move {
            let mut rejected = 0u64;
            let mut first_error = None;
            loop {
                let next = lock(&queue).pop_front();
                let Some((hashes, bytes)) = next else { break };
                let permits = u32::try_from(hashes.len()).unwrap_or(u32::MAX);
                shared.window.acquire_many(permits).await.map_err(|e| anyhow!("{e}"))?.forget();
                let sent = Instant::now();
                {
                    let mut pending = lock(&shared.pending);
                    for h in &hashes {
                        pending.insert(*h, sent);
                    }
                }
                let results = client.submit_batch_encoded(bytes).await?;
                let mut refused = 0;
                for (hash, r) in hashes.iter().zip(&results) {
                    if r.hash.is_none() {
                        rejected += 1;
                        refused += 1;
                        if first_error.is_none() {
                            first_error = r.error.as_ref().map(|e| e.message.clone());
                        }
                        lock(&shared.pending).remove(hash);
                    }
                }
                shared.window.add_permits(refused);
                shared.accepted.fetch_add((hashes.len() - refused) as u64, Ordering::Relaxed);
            }
            Ok::<_, anyhow::Error>((rejected, first_error, Instant::now()))
        }));
    }
    let submitters = tokio::spawn(async move {
        let mut out = (0u64, None, None::<Instant>);
        for s in senders {
            let (rejected, err, end) = s.await??;
            out.0 += rejected;
            out.1 = out.1.or(err);
            out.2 = Some(out.2.map_or(end, |e: Instant| e.max(end)));
        }
        Ok::<_, anyhow::Error>(out)
    });

    // RSS sampling, every half second: the largest seen, and (finalized, RSS) pairs.
    let rss_max = Arc::new(AtomicU64::new(0));
    let rss_trace = Arc::new(Mutex::new(Vec::<(u64, u64)>::new()));
    let sampler = {
        let (client, rss_max, shared) = (follower_client.clone(), rss_max.clone(), shared.clone());
        let trace = rss_trace.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(m) = client.metrics().await {
                    let rss = m.rss_bytes.unwrap_or(0);
                    rss_max.fetch_max(rss, Ordering::Relaxed);
                    lock(&trace).push((shared.finalized.load(Ordering::Relaxed), rss));
                }
                if shared.done_submitting.load(Ordering::Relaxed) && lock(&shared.pending).is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };

    let patience = Duration::from_secs(args.timeout);
    let mut submit_outcome = None;
    let mut submitters = Some(submitters);
    let mut blocks = 0u64;
    let mut timed_out = false;
    let mut last_progress = Instant::now();
    loop {
        if let Some(handle) = submitters.as_mut().filter(|h| h.is_finished()) {
            submit_outcome = Some(handle.await??);
            submitters = None;
            shared.done_submitting.store(true, Ordering::Relaxed);
        }
        if submitters.is_none() && lock(&shared.pending).is_empty() {
            break;
        }
        if last_progress.elapsed() > patience {
            timed_out = true;
            break;
        }
        let head = match tokio::time::timeout(Duration::from_millis(200), heads.next()).await {
            Ok(Some(head)) => head?,
            Ok(None) => bail!("the node ended the finalized-heads subscription"),
            Err(_) => continue,
        };
        let arrived = Instant::now();
        while next_height <= head.height {
            let height = next_height;
            next_height += 1;
            let block = follower_client
                .block(BlockId::Height(height), false)
                .await?
                .ok_or_else(|| anyhow!("the node has no finalized block {height}"))?;
            blocks += 1;
            let mut done = Vec::new();
            {
                let mut pending = lock(&shared.pending);
                for h in &block.tx_hashes {
                    if let Some(sent) = pending.remove(h) {
                        done.push(arrived.duration_since(sent).as_secs_f64() * 1000.0);
                    }
                }
            }
            if !done.is_empty() {
                last_progress = arrived;
                *lock(&shared.last_final) = Some(arrived);
                shared.finalized.fetch_add(done.len() as u64, Ordering::Relaxed);
                shared.window.add_permits(done.len());
                lock(&shared.latencies).extend(done);
            }
            if let Some(p) = &progress {
                p.0.set_position(shared.finalized.load(Ordering::Relaxed));
                p.message(format!("{} submitted", shared.accepted.load(Ordering::Relaxed)));
            }
        }
    }
    shared.done_submitting.store(true, Ordering::Relaxed);
    if let Some(handle) = submitters {
        handle.abort();
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), sampler).await;
    if let Some(p) = &progress {
        p.finish();
    }
    // Failed executions count as final but are reported: receipts of a sample would need one
    // request each, so the rate of failure is read from the blocks' receipts only when asked.
    let (rejected, first_error, submit_end) = submit_outcome.unwrap_or((0, None, None));
    let last_final = (*lock(&shared.last_final)).unwrap_or(start);
    let latencies = std::mem::take(&mut *lock(&shared.latencies));
    Ok(LoadResult {
        accepted: shared.accepted.load(Ordering::Relaxed),
        rejected,
        first_error,
        finalized: shared.finalized.load(Ordering::Relaxed),
        failed: shared.failed.load(Ordering::Relaxed),
        blocks,
        submit_time: submit_end.unwrap_or(start).duration_since(start),
        final_time: last_final.duration_since(start),
        latencies_ms: latencies,
        rss_max: Some(rss_max.load(Ordering::Relaxed)).filter(|r| *r > 0),
        rss_by_tenth: by_tenth(&lock(&rss_trace), total),
        timed_out,
        client_cpu_ms: cpu_before.zip(own_cpu_ms()).map(|(a, b)| b.saturating_sub(a)),
    })
}

/// From `(finalized, rss)` samples: the first RSS (MiB) sampled once each tenth of `total` was
/// final.
fn by_tenth(trace: &[(u64, u64)], total: u64) -> Vec<Option<f64>> {
    (1..=10u64)
        .map(|t| {
            let at = total * t / 10;
            trace.iter().find(|(done, _)| *done >= at).map(|(_, rss)| round2(*rss as f64 / (1024.0 * 1024.0)))
        })
        .collect()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// This process's CPU time (user + system), ms, from `/proc/self/stat` (Linux).
fn own_cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_whitespace().skip(11);
    let user: u64 = f.next()?.parse().ok()?;
    let system: u64 = f.next()?.parse().ok()?;
    Some((user + system) * 10)
}

/// The `p`-th percentile (0–100) of `sorted`.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted.get(rank.min(sorted.len() - 1)).copied()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn rate(count: u64, time: Duration) -> f64 {
    if time.is_zero() { 0.0 } else { round2(count as f64 / time.as_secs_f64()) }
}

/// The node's side: CPU use over the run (100 = one core busy), memory.
fn node_json(
    before: Option<&NodeMetrics>,
    after: Option<&NodeMetrics>,
    wall: Duration,
    rss_max: Option<u64>,
) -> Value {
    let cpu = |m: &NodeMetrics| Some(m.cpu_user_ms? + m.cpu_system_ms?);
    let cpu_ms = before.and_then(cpu).zip(after.and_then(cpu)).map(|(a, b)| b.saturating_sub(a));
    json!({
        "cpu_ms": cpu_ms,
        "cpu_percent": cpu_ms.map(|c| rate(c * 100, wall) / 1000.0).map(round2),
        "rss_bytes": after.and_then(|m| m.rss_bytes),
        "rss_max_bytes": rss_max.max(after.and_then(|m| m.rss_bytes)),
        "rss_peak_bytes": after.and_then(|m| m.rss_peak_bytes),
        "threads": after.and_then(|m| m.threads),
        "height": after.map(|m| m.height),
    })
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("?".into(), |b| format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)))
}

fn tx_report(
    args: &BenchArgs,
    target: Option<Contract>,
    load: &LoadResult,
    before: Option<NodeMetrics>,
    after: Option<NodeMetrics>,
) -> Report {
    let mut lat = load.latencies_ms.clone();
    lat.sort_by(f64::total_cmp);
    let p50 = percentile(&lat, 50.0).map(round2);
    let p99 = percentile(&lat, 99.0).map(round2);
    let max = lat.last().copied().map(round2);
    let wall = load.final_time.max(load.submit_time);
    let node = node_json(before.as_ref(), after.as_ref(), wall, load.rss_max);
    let submitted_tps = rate(load.accepted, load.submit_time);
    let finalized_tps = rate(load.finalized, load.final_time);
    let client_cpu = load.client_cpu_ms.map(|c| round2(rate(c * 100, wall) / 1000.0));
    let json = json!({
        "workload": args.workload.name(),
        "contract": target.as_ref().map(|c| c.address().to_string()),
        "txs": args.txs,
        "accounts": args.accounts,
        "connections": args.connections,
        "batch": args.batch,
        "window": args.window,
        "submitted": load.accepted,
        "rejected": load.rejected,
        "first_rejection": load.first_error,
        "finalized": load.finalized,
        "blocks": load.blocks,
        "timed_out": load.timed_out,
        "submit_seconds": round2(load.submit_time.as_secs_f64()),
        "final_seconds": round2(load.final_time.as_secs_f64()),
        "submitted_tps": submitted_tps,
        "finalized_tps": finalized_tps,
        "latency_p50_ms": p50,
        "latency_p99_ms": p99,
        "latency_max_ms": max,
        "node": node,
        "node_rss_mib_by_tenth": load.rss_by_tenth,
        "finalized_per_node_cpu_s": node["cpu_ms"].as_u64().filter(|c| *c > 0).map(|c| round2(load.finalized as f64 * 1000.0 / c as f64)),
        "client_cpu_percent": client_cpu,
    });
    let human = format!(
        "workload {} ({} txs from {} accounts, {} connections, batches of {}, window {})\n\
         submitted {} ({} refused) in {:.2} s: {:.0} tx/s\n\
         finalized {} in {} blocks, {:.2} s: {:.0} tx/s{}\n\
         latency submit→final: p50 {} ms, p99 {} ms, max {} ms\n\
         node: CPU {}% (100% = one core), RSS {} (max seen {}), threads {}\n\
         this client: CPU {}%",
        args.workload.name(),
        args.txs,
        args.accounts,
        args.connections,
        args.batch,
        args.window,
        load.accepted,
        load.rejected,
        load.submit_time.as_secs_f64(),
        submitted_tps,
        load.finalized,
        load.blocks,
        load.final_time.as_secs_f64(),
        finalized_tps,
        if load.timed_out { " (TIMED OUT waiting for the rest)" } else { "" },
        p50.map_or("-".into(), |v| v.to_string()),
        p99.map_or("-".into(), |v| v.to_string()),
        max.map_or("-".into(), |v| v.to_string()),
        node["cpu_percent"].as_f64().map_or("?".into(), |v| v.to_string()),
        mib(node["rss_bytes"].as_u64()),
        mib(node["rss_max_bytes"].as_u64()),
        node["threads"].as_u64().map_or("?".into(), |v| v.to_string()),
        client_cpu.map_or("?".into(), |v| v.to_string()),
    );
    Report::new(json, human)
}

/// The `reads` workload: `--clients` connections each sending `state_getAccount` requests,
/// `--inflight` at a time, `--txs` in all.
async fn reads(url: &str, client: &Client, args: &BenchArgs) -> Result<Report> {
    let addresses: Vec<Address> = DEV_ACCOUNTS.iter().map(|n| weft_types::dev::dev_address(n)).collect();
    let mut conns = Vec::new();
    for _ in 0..args.clients {
        conns.push(Client::connect(url).await?);
    }
    let progress = Progress::bar(args.txs);
    progress.message("requests".to_string());
    let done = Arc::new(AtomicU64::new(0));
    let before = client.metrics().await.ok();
    let cpu_before = own_cpu_ms();
    let start = Instant::now();
    let per = args.txs / u64::from(args.clients);
    let extra = args.txs % u64::from(args.clients);
    let mut tasks = Vec::new();
    for (i, conn) in conns.into_iter().enumerate() {
        let n = per + u64::from((i as u64) < extra);
        let (addresses, done, inflight) = (addresses.clone(), done.clone(), args.inflight as usize);
        tasks.push(tokio::spawn(async move {
            let lat: Vec<Result<f64, ClientError>> = futures_util::stream::iter(0..n)
                .map(|k| {
                    let (conn, who, done) =
                        (conn.clone(), addresses[(k as usize + i) % addresses.len()], done.clone());
                    async move {
                        let t = Instant::now();
                        conn.account(who).await?;
                        done.fetch_add(1, Ordering::Relaxed);
                        Ok(t.elapsed().as_secs_f64() * 1000.0)
                    }
                })
                .buffer_unordered(inflight)
                .collect()
                .await;
            lat.into_iter().collect::<Result<Vec<f64>, ClientError>>()
        }));
    }
    let ticker = {
        let (bar, done) = (progress.0.clone(), done.clone());
        tokio::spawn(async move {
            loop {
                bar.set_position(done.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let mut lat = Vec::with_capacity(args.txs as usize);
    for t in tasks {
        lat.extend(t.await??);
    }
    let wall = start.elapsed();
    ticker.abort();
    progress.finish();
    let client_cpu = cpu_before.zip(own_cpu_ms()).map(|(a, b)| round2(rate((b - a) * 100, wall) / 1000.0));
    let after = client.metrics().await.ok();
    lat.sort_by(f64::total_cmp);
    let rps = rate(lat.len() as u64, wall);
    let (p50, p99) = (percentile(&lat, 50.0).map(round2), percentile(&lat, 99.0).map(round2));
    let node = node_json(before.as_ref(), after.as_ref(), wall, None);
    let json = json!({
        "workload": "reads",
        "method": "state_getAccount",
        "requests": lat.len(),
        "clients": args.clients,
        "inflight": args.inflight,
        "seconds": round2(wall.as_secs_f64()),
        "requests_per_s": rps,
        "latency_p50_ms": p50,
        "latency_p99_ms": p99,
        "node": node,
        "client_cpu_percent": client_cpu,
    });
    let human = format!(
        "reads: {} state_getAccount requests from {} WebSocket clients ({} in flight each) in {:.2} s: {:.0} req/s\n\
         latency p50 {} ms, p99 {} ms\nnode: CPU {}% (100% = one core), RSS {}\nthis client: CPU {}%",
        lat.len(),
        args.clients,
        args.inflight,
        wall.as_secs_f64(),
        rps,
        p50.map_or("-".into(), |v| v.to_string()),
        p99.map_or("-".into(), |v| v.to_string()),
        node["cpu_percent"].as_f64().map_or("?".into(), |v| v.to_string()),
        mib(node["rss_bytes"].as_u64()),
        client_cpu.map_or("?".into(), |v| v.to_string()),
    );
    Ok(Report::new(json, human))
}
