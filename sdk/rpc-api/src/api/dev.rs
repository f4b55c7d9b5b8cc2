//! `dev_*`: controls of a development chain (mining, balances, time, snapshots). Other nodes
//! answer them with `codes::DEV_ONLY`.

use jsonrpsee::proc_macros::rpc;
use weft_types::Address;

use crate::{AccountInfo, AmountArg, HeaderInfo, RpcResult, SnapshotId};

/// The `dev_*` methods.
#[cfg_attr(not(feature = "client"), rpc(server))]
#[cfg_attr(feature = "client", rpc(server, client))]
pub trait DevApi {
    /// Dev only: produces `count` blocks (default 1) now; returns the new head.
    #[method(name = "dev_mine")]
    async fn dev_mine(&self, count: Option<u32>) -> RpcResult<HeaderInfo>;

    /// Dev only: sets an account's balance (in a new block).
    #[method(name = "dev_setBalance")]
    async fn dev_set_balance(&self, address: Address, balance: AmountArg) -> RpcResult<AccountInfo>;

    /// Dev only: moves the clock of the next blocks forward; returns the total offset in ms.
    #[method(name = "dev_increaseTime")]
    async fn dev_increase_time(&self, ms: u64) -> RpcResult<u64>;

    /// Dev only: remembers the current chain; returns an id for `dev_revert`.
    #[method(name = "dev_snapshot")]
    async fn dev_snapshot(&self) -> RpcResult<SnapshotId>;

    /// Dev only: returns the chain to a snapshot (later snapshots are forgotten).
    #[method(name = "dev_revert")]
    async fn dev_revert(&self, id: SnapshotId) -> RpcResult<HeaderInfo>;
}
