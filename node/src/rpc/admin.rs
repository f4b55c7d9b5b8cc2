//! The test-only admin JSON-RPC server (`[test] admin_rpc` of a node's config, loopback only,
//! off by default): `test_partition(peers)` cuts the node off from exactly the peer ids given (an
//! empty list heals) through the network's connection gating.

use std::net::SocketAddr;

use jsonrpsee::{
    RpcModule,
    server::{Server, ServerHandle},
    types::{ErrorObjectOwned, error::INVALID_PARAMS_CODE},
};

use super::RpcError;
use crate::net::{NetHandle, PeerId};

/// Most peers one `test_partition` call may name.
const MAX_PARTITION_PEERS: usize = 256;

/// A running admin server.
#[derive(Debug)]
pub struct AdminServer(ServerHandle);

impl AdminServer {
    /// Serves `test_partition` on `addr` over `net`.
    pub async fn start(addr: SocketAddr, net: NetHandle) -> Result<AdminServer, RpcError> {
        let failed = |reason: String| RpcError { addr, reason };
        let server = Server::builder().build(addr).await.map_err(|e| failed(e.to_string()))?;
        let mut module = RpcModule::new(net);
        module
            .register_async_method("test_partition", |params, net, _| async move {
                let invalid = |m: String| ErrorObjectOwned::owned(INVALID_PARAMS_CODE, m, None::<()>);
                let (ids,): (Vec<String>,) = params.parse()?;
                if ids.len() > MAX_PARTITION_PEERS {
                    return Err(invalid(format!("{} peers; at most {MAX_PARTITION_PEERS}", ids.len())));
                }
                let peers = ids
                    .iter()
                    .map(|id| id.parse::<PeerId>().map_err(|e| invalid(format!("peer id {id}: {e}"))))
                    .collect::<Result<Vec<_>, _>>()?;
                net.partition(peers).await.map_err(|e| invalid(e.to_string()))?;
                Ok::<bool, ErrorObjectOwned>(true)
            })
            .map_err(|e| failed(e.to_string()))?;
        tracing::warn!(%addr, "test admin RPC enabled (test_partition): never on a real network");
        Ok(AdminServer(server.start(module)))
    }

    /// Stops it and waits until it has stopped.
    pub async fn stop(self) {
        let _ = self.0.stop();
        self.0.stopped().await;
    }
}
