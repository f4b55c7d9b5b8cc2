//! The blocks the core asked to validate: a bounded queue, lowest view first, and the one
//! validation running off the driver's task (execution takes up to a block's gas worth of time,
//! which must never hold up votes).

use std::collections::BTreeMap;

use tokio::sync::mpsc;
use weft_runtime::BlockOutput;
use weft_types::{Block, Hash, consensus::View};

use super::blocks::{Blocks, Invalid};

/// Most blocks waiting for validation; beyond it the one of the highest view is refused (the
/// core judges it again if a quorum certifies it).
const MAX_QUEUED: usize = 256;

/// A validation's result: the block's hash and its output, or why it is invalid.
pub(super) type Validated = (Hash, Result<BlockOutput, Invalid>);

/// The queue and the running validation.
pub(super) struct Validations {
    waiting: BTreeMap<(View, Hash), Block>,
    running: bool,
    tx: mpsc::Sender<Validated>,
    rx: mpsc::Receiver<Validated>,
}

impl Validations {
    pub(super) fn new() -> Self {
        // One result at most is ever in flight.
        let (tx, rx) = mpsc::channel(1);
        Self { waiting: BTreeMap::new(), running: false, tx, rx }
    }

    /// Queues `block` (of hash `hash`), proposed in `view`. Returns the hash of a block refused to
    /// keep the queue bounded (the highest view's), to be answered invalid.
    pub(super) fn push(&mut self, view: View, hash: Hash, block: Block) -> Option<Hash> {
        self.waiting.insert((view, hash), block);
        if self.waiting.len() > MAX_QUEUED {
            let ((_, refused), _) = self.waiting.pop_last()?;
            tracing::warn!("block {refused} not validated: {MAX_QUEUED} blocks are waiting");
            return Some(refused);
        }
        None
    }

    /// Starts the next validation (lowest view first) on the blocking pool, unless one runs;
    /// `certified` says whether a quorum vouched for a block (then this node's clock does not
    /// judge it), `now_ms` is this node's clock.
    pub(super) fn start(&mut self, blocks: &Blocks, now_ms: u64, certified: impl FnOnce(&Hash) -> bool) {
        if self.running {
            return;
        }
        let Some(((_, hash), block)) = self.waiting.pop_first() else { return };
        let done = self.tx.clone();
        self.running = true;
        match blocks.validation(block, now_ms, certified(&hash)) {
            Ok(job) => {
                tokio::task::spawn_blocking(move || {
                    let _ = done.blocking_send((hash, job.run()));
                });
            }
            // Judged without executing (no parent state, stamped ahead): answered through the
            // same channel, which has room for it while this is the only one running.
            Err(e) => {
                let _ = done.try_send((hash, Err(e)));
            }
        }
    }

    /// The next finished validation; the next may then be started.
    pub(super) async fn finished(&mut self) -> Option<Validated> {
        let done = self.rx.recv().await;
        self.running = false;
        done
    }
}
