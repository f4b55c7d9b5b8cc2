//! `rpc.discover`: the OpenRPC document of every registered method.

use jsonrpsee::core::async_trait;
use serde_json::Value;
use weft_rpc_api::{DiscoverApiServer, RpcResult, openrpc};

use super::WeftRpc;

#[async_trait]
impl DiscoverApiServer for WeftRpc {
    async fn rpc_discover(&self) -> RpcResult<Value> {
        Ok(openrpc::document())
    }
}
