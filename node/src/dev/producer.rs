//! The dev chain's block producer: the only writer of its store. A thread that builds a block
//! as soon as transactions arrive (or every `block_time`), and while they keep coming commits
//! each block on a committer thread while the next one executes on the state it leaves; it also
//! carries out the dev controls (mine, set balance, move time, snapshot, revert).

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::PathBuf,
    sync::{Arc, mpsc},
    thread,
    time::Duration,
};

use weft_runtime::BlockOutput;
use weft_types::{Address, Amount, Hash, Header};

use super::{
    control::{DevCommand, DevError, dev_proposer, io},
    next_db_name, write_pointer,
};
use crate::{
    chain::{Chain, ChainError, ChainEvent, CommittedBlock},
    ledger::prepare_code_at_start,
    producer::{BlockProducer, Produced, now_ms, on_committed},
    store::{Layered, Store},
};

/// The block producer: the only writer of the store.
pub(super) struct Producer {
    pub(super) chain: Arc<Chain>,
    pub(super) data_dir: PathBuf,
    /// A block at least this often, even empty; `None`: only when transactions arrive.
    pub(super) block_time: Option<Duration>,
    /// How far `dev_increaseTime` moved the clock of the next blocks, in ms.
    pub(super) time_offset: u64,
    pub(super) snapshots: BTreeMap<u64, PathBuf>,
}

impl Producer {
    pub(super) fn run(mut self, rx: mpsc::Receiver<DevCommand>) {
        prepare_code_at_start(&self.chain.ledger, &self.chain.status);
        // A command read while coalescing wake-ups, to handle next.
        let mut next: Option<DevCommand> = None;
        loop {
            let command = if let Some(command) = next.take() {
                Some(command)
            } else {
                match self.block_time {
                    None => rx.recv().ok(),
                    Some(every) => match rx.recv_timeout(every) {
                        Ok(c) => Some(c),
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            self.log(self.produce(None));
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => None,
                    },
                }
            };
            let Some(command) = command else { return };
            match command {
                DevCommand::Wake => {
                    // Coalesce a burst of wake-ups into one pass; without a block time, a block
                    // as soon as transactions wait, repeated while they keep coming.
                    loop {
                        match rx.try_recv() {
                            Ok(DevCommand::Wake) => {}
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    if self.block_time.is_none() {
                        self.produce_burst();
                    }
                }
                DevCommand::Mine(count, reply) => {
                    let mut result = self.chain.ledger.head().map_err(DevError::from);
                    for _ in 0..count.max(1) {
                        result = self.produce(None).map(|b| b.block.header.clone());
                        if result.is_err() {
                            break;
                        }
                    }
                    let _ = reply.send(result);
                }
                DevCommand::SetBalance(address, balance, reply) => {
                    let _ =
                        reply.send(self.produce(Some((address, balance))).map(|b| b.block.header.clone()));
                }
                DevCommand::IncreaseTime(ms, reply) => {
                    self.time_offset = self.time_offset.saturating_add(ms);
                    let _ = reply.send(self.time_offset);
                }
                DevCommand::Snapshot(reply) => {
                    let _ = reply.send(self.snapshot());
                }
                DevCommand::Revert(id, reply) => {
                    let _ = reply.send(self.revert(id));
                }
                DevCommand::Shutdown => return,
            }
        }
    }

    fn log(&self, result: Result<Arc<CommittedBlock>, DevError>) {
        if let Err(e) = result {
            tracing::error!("block production failed: {e}");
        }
    }

    /// Builds, commits and announces the next block from the mempool (and, for
    /// `dev_setBalance`, a balance change).
    fn produce(&self, set_balance: Option<(Address, Amount)>) -> Result<Arc<CommittedBlock>, DevError> {
        let built = self.build(None, set_balance)?;
        commit(&self.chain, built)
    }

    /// Blocks while transactions wait, each block's durable commit running on a second thread
    /// while the next block executes on the state it leaves (the committed state with its
    /// changes on top). Blocks are announced, and their transactions leave the mempool, only
    /// once committed, as with [`Self::produce`]. Ends with every block committed.
    fn produce_burst(&self) {
        thread::scope(|scope| {
            // One committer thread for the whole burst, one block at a time. A panic there ends
            // its loop, the `recv` below fails, and the scope re-raises the panic here.
            let (blocks, to_commit) = mpsc::sync_channel::<Built>(1);
            let (done, committed) = mpsc::channel();
            let chain = &self.chain;
            scope.spawn(move || {
                for built in to_commit {
                    if done.send(commit(chain, built).map(|_| ())).is_err() {
                        return;
                    }
                }
            });
            let wait = || {
                committed
                    .recv()
                    .unwrap_or_else(|_| Err(DevError::Runtime("the block committer stopped".into())))
            };
            // The block being committed, to build the next one on.
            let mut in_flight: Option<Pending> = None;
            while !self.chain.admission.is_empty() {
                let on_pending = in_flight.is_some();
                let built = self.build(in_flight.take(), None);
                let done = if on_pending { wait() } else { Ok(()) };
                let built = match (built, done) {
                    (Ok(built), Ok(())) if !built.out.block.txs.is_empty() => built,
                    // Nothing includable after the block in flight: decide again on the
                    // committed state, where its transactions have left the mempool.
                    (Ok(_), Ok(())) if on_pending => continue,
                    // Transactions wait but none is includable: one empty block, as `produce`.
                    (Ok(built), Ok(())) => {
                        self.log(commit(&self.chain, built));
                        return;
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        tracing::error!("block production failed: {e}");
                        return;
                    }
                };
                in_flight = Some(Pending {
                    out: built.out.clone(),
                    refused: built.dropped.iter().map(|(hash, _)| *hash).collect(),
                });
                if blocks.send(built).is_err() {
                    break;
                }
            }
            if in_flight.is_some()
                && let Err(e) = wait()
            {
                tracing::error!("block production failed: {e}");
            }
        });
    }

    /// Executes the next block from the mempool (and a balance change), on the committed state
    /// or on `pending`, a built block not committed yet whose changes are laid over it (the
    /// transactions it refused, still in the mempool until it commits, are not tried again).
    fn build(
        &self,
        pending: Option<Pending>,
        set_balance: Option<(Address, Amount)>,
    ) -> Result<Built, DevError> {
        let chain = &self.chain;
        let base = chain.ledger.store().state().map_err(ChainError::from)?;
        let (parent, refused, layers) = match pending {
            Some(p) => (p.out.block.header.clone(), p.refused, vec![p.out]),
            None => (chain.ledger.head()?, BTreeSet::new(), Vec::new()),
        };
        let state = Arc::new(Layered { base, layers });
        // dev_increaseTime can move the clock to u64::MAX ms: then no later block exists.
        let Some(after_parent) = parent.timestamp_ms.checked_add(1) else {
            return Err(DevError::Runtime(format!(
                "no block can follow one timestamped u64::MAX ms ({}); dev_increaseTime moved time too far \
                 (dev_revert to an earlier snapshot)",
                parent.timestamp_ms
            )));
        };
        let timestamp = now_ms().saturating_add(self.time_offset).max(after_parent);
        let mut producer =
            BlockProducer::new(&chain.ledger, &chain.admission, state, &parent, timestamp, dev_proposer());
        if let Some((address, balance)) = set_balance {
            producer.set_balance(&address, balance).map_err(|e| DevError::Runtime(e.to_string()))?;
        }
        // The nonces are those after `pending`, so its transactions are not selected again.
        let Produced { out, refused } =
            producer.fill_and_finish(&refused).map_err(|e| DevError::Runtime(e.to_string()))?;
        Ok(Built { out: Arc::new(out), dropped: refused })
    }

    fn snapshot(&mut self) -> Result<u64, DevError> {
        let id = self.snapshots.keys().next_back().map_or(1, |last| last + 1);
        let target = self.data_dir.join("snapshots").join(format!("{id}.redb"));
        let store = self.chain.ledger.store();
        // The producer is the only writer and is here, so no write transaction is open and
        // the file holds exactly the last committed block.
        fs::copy(store.path(), &target).map_err(io(&target))?;
        // The clock's offset belongs to the snapshot too: reverting restores it.
        let offset = target.with_extension("time");
        fs::write(&offset, self.time_offset.to_string()).map_err(io(&offset))?;
        self.snapshots.insert(id, target);
        Ok(id)
    }

    fn revert(&mut self, id: u64) -> Result<Header, DevError> {
        let source = self.snapshots.get(&id).cloned().ok_or(DevError::UnknownSnapshot(id))?;
        let old = self.chain.ledger.store();
        let next = next_db_name(old.path());
        let target = self.data_dir.join(&next);
        fs::copy(&source, &target).map_err(io(&target))?;
        let store = Store::open(&target).map_err(|e| DevError::Chain(e.into()))?;
        write_pointer(&self.data_dir, &next)?;
        let old_path = old.path().to_path_buf();
        drop(old);
        let old = self.chain.ledger.replace_store(store);
        drop(old);
        // Readers may still hold the old file open; unlinking it is safe on Unix and the space
        // is freed when they finish.
        let _ = fs::remove_file(&old_path);
        for later in self.snapshots.split_off(&(id + 1)).into_values() {
            let _ = fs::remove_file(later.with_extension("time"));
            let _ = fs::remove_file(later);
        }
        // A snapshot without its offset (taken before offsets were kept) had none.
        self.time_offset = fs::read_to_string(source.with_extension("time"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        let head = self.chain.ledger.head()?;
        for hash in self.chain.admission.clear() {
            self.chain.events.publish(ChainEvent::Dropped { hash, reason: "the chain was reverted".into() });
        }
        self.chain.events.publish(ChainEvent::Reset(head.clone()));
        Ok(head)
    }
}

/// A block being committed in [`Producer::produce_burst`], and the transactions it refused.
struct Pending {
    out: Arc<BlockOutput>,
    refused: BTreeSet<Hash>,
}

/// A block executed and not committed yet, with the transactions it refused.
struct Built {
    out: Arc<BlockOutput>,
    dropped: Vec<(Hash, String)>,
}

/// Commits `built` durably, then takes it through the one commit path (mempool pruning, the
/// announcement).
fn commit(chain: &Chain, built: Built) -> Result<Arc<CommittedBlock>, DevError> {
    let Built { out, dropped } = built;
    chain.ledger.store().commit_block(&out.block, &out.receipts, &out.changes).map_err(ChainError::from)?;
    let header = &out.block.header;
    tracing::info!(
        height = header.height,
        txs = out.receipts.len(),
        gas = header.gas_used,
        "block {}",
        header.hash()
    );
    Ok(on_committed(&chain.ledger, &chain.admission, &chain.events, out, dropped))
}
