//! What the dev chain offers the rest of the node: its chain id and proposer, the commands its
//! producer takes ([`DevControl`], behind the `dev_*` JSON-RPC methods) and their errors. Knows
//! nothing of JSON-RPC, so the RPC layer depends on it and not the other way round.

use std::{
    path::{Path, PathBuf},
    sync::mpsc,
};

use tokio::sync::oneshot;
use weft_types::{Address, Amount, Header, dev::dev_address};

use crate::ledger::ChainError;

/// The chain id of dev chains.
pub const DEV_CHAIN_ID: u64 = 1337;

/// The proposer of dev blocks, which receives the fees: an account of its own, so that the
/// dev accounts' balances change exactly by what their transactions cost.
pub fn dev_proposer() -> Address {
    dev_address("dev-validator")
}

/// Why a dev command failed, or the dev chain could not open its data.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// The chain could not be read or written.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A file of the data directory.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The runtime failed.
    #[error("runtime: {0}")]
    Runtime(String),
    /// The data directory is not usable.
    #[error("data directory {path}: {reason}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `dev_revert` to an id that does not exist.
    #[error("no snapshot {0} (snapshots are forgotten once the chain is reverted past them)")]
    UnknownSnapshot(u64),
    /// The producer has stopped.
    #[error("the block producer has stopped")]
    Stopped,
}

pub(super) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DevError + '_ {
    move |source| DevError::Io { path: path.to_path_buf(), source }
}

/// A command for the producer.
pub enum DevCommand {
    /// Transactions arrived.
    Wake,
    /// Produce `count` blocks now; answers the new head.
    Mine(u32, oneshot::Sender<Result<Header, DevError>>),
    /// Set a balance in a new block.
    SetBalance(Address, Amount, oneshot::Sender<Result<Header, DevError>>),
    /// Move the clock of the next blocks forward; answers the total offset.
    IncreaseTime(u64, oneshot::Sender<u64>),
    /// Copy the chain; answers the snapshot id.
    Snapshot(oneshot::Sender<Result<u64, DevError>>),
    /// Return to a snapshot; answers the head.
    Revert(u64, oneshot::Sender<Result<Header, DevError>>),
    /// Stop.
    Shutdown,
}

/// A handle that sends commands to the producer.
#[derive(Clone, Debug)]
pub struct DevControl(pub(super) mpsc::SyncSender<DevCommand>);

impl DevControl {
    /// Wakes the producer (transactions arrived); never blocks.
    pub fn wake(&self) {
        let _ = self.0.try_send(DevCommand::Wake);
    }

    /// Sends a command and awaits its answer.
    pub async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> DevCommand) -> Result<T, DevError> {
        let (tx, rx) = oneshot::channel();
        self.0.send(make(tx)).map_err(|_| DevError::Stopped)?;
        rx.await.map_err(|_| DevError::Stopped)
    }
}
