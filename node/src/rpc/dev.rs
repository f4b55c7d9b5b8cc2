//! `dev_*`: a development chain's controls, forwarded to its block producer
//! (`crate::dev::control::DevControl`). Registered on every node; off a dev chain each answers
//! `codes::DEV_ONLY`.

use jsonrpsee::core::async_trait;
use weft_rpc_api::{
    AccountInfo, AmountArg, DevApiServer, HeaderInfo, RpcResult, SnapshotId,
    codes::{self, err},
};
use weft_types::Address;

use super::{WeftRpc, convert::dev_error};
use crate::dev::control::{DevCommand, DevControl};

impl WeftRpc {
    fn dev(&self) -> RpcResult<&DevControl> {
        self.dev.as_ref().ok_or_else(|| {
            err(
                codes::DEV_ONLY,
                "dev_* methods exist only on a development chain (start one with `weft-node dev`)",
            )
        })
    }
}

#[async_trait]
impl DevApiServer for WeftRpc {
    async fn dev_mine(&self, count: Option<u32>) -> RpcResult<HeaderInfo> {
        let count = count.unwrap_or(1);
        let max = self.config.max_dev_mine;
        if count == 0 || count > max {
            return Err(err(
                codes::LIMIT_EXCEEDED,
                format!("dev_mine count {count}: mine 1 to {max} blocks per call"),
            ));
        }
        let head =
            self.dev()?.ask(|r| DevCommand::Mine(count, r)).await.map_err(dev_error)?.map_err(dev_error)?;
        self.header_info(head.height)
    }

    async fn dev_set_balance(&self, address: Address, balance: AmountArg) -> RpcResult<AccountInfo> {
        self.dev()?
            .ask(|r| DevCommand::SetBalance(address, balance.0, r))
            .await
            .map_err(dev_error)?
            .map_err(dev_error)?;
        self.account_info(address)
    }

    async fn dev_increase_time(&self, ms: u64) -> RpcResult<u64> {
        self.dev()?.ask(|r| DevCommand::IncreaseTime(ms, r)).await.map_err(dev_error)
    }

    async fn dev_snapshot(&self) -> RpcResult<SnapshotId> {
        self.dev()?.ask(DevCommand::Snapshot).await.map_err(dev_error)?.map_err(dev_error)
    }

    async fn dev_revert(&self, id: SnapshotId) -> RpcResult<HeaderInfo> {
        let head =
            self.dev()?.ask(|r| DevCommand::Revert(id, r)).await.map_err(dev_error)?.map_err(dev_error)?;
        self.header_info(head.height)
    }
}
