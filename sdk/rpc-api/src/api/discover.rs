//! `rpc.discover`: the OpenRPC document of the whole API (`crate::openrpc`).

use jsonrpsee::proc_macros::rpc;
use serde_json::Value;

use crate::RpcResult;

/// The `rpc.discover` method.
#[cfg_attr(not(feature = "client"), rpc(server))]
#[cfg_attr(feature = "client", rpc(server, client))]
pub trait DiscoverApi {
    /// The OpenRPC document of this API.
    #[method(name = "rpc.discover")]
    async fn rpc_discover(&self) -> RpcResult<Value>;
}
