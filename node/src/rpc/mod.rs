//! The JSON-RPC server: jsonrpsee over HTTP and WebSocket on one port, serving the
//! `weft_rpc_api` traits, one implementation file per namespace (`node`, `chain`, `state`, `tx`,
//! `contract`, `dev`, `discover`) on the shared [`WeftRpc`] handle. Owns the request limits; the
//! only module of the node that knows JSON: handlers parse, call the chain (or `crate::estimate`,
//! `crate::event_scan`), and convert.

mod admin;
mod chain;
mod contract;
mod convert;
pub mod cors;
mod dev;
mod discover;
mod executions;
mod handle;
mod http_subs;
pub mod metrics;
mod node;
mod ops;
mod state;
mod tx;

use std::{net::SocketAddr, sync::Arc};

use jsonrpsee::server::{BatchRequestConfig, Server, ServerConfig, ServerHandle};

use crate::{chain::Chain, dev::control::DevControl};
use executions::TICK_MS;

pub use admin::AdminServer;

/// A JSON-RPC server failed to start.
#[derive(Debug, thiserror::Error)]
#[error("JSON-RPC server on {addr}: {reason}")]
pub struct RpcError {
    /// The address.
    pub addr: SocketAddr,
    /// What failed.
    pub reason: String,
}
pub use cors::CorsOrigins;
pub use handle::WeftRpc;

/// Limits of the JSON-RPC server. Every one is enforced before work is done for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcConfig {
    /// Largest request body, in bytes (a hex transaction is twice its size).
    pub max_request_bytes: u32,
    /// Largest response body, in bytes.
    pub max_response_bytes: u32,
    /// Open connections at most.
    pub max_connections: u32,
    /// Subscriptions per WebSocket connection.
    pub max_subscriptions_per_connection: u32,
    /// Calls in one JSON-RPC batch.
    pub max_batch_len: u32,
    /// Messages buffered per WebSocket connection.
    pub message_buffer: u32,
    /// How long a notification waits for room in that buffer before its subscription is
    /// dropped (the subscriber is not reading).
    pub subscriber_patience: std::time::Duration,
    /// Transactions in one `tx_submitBatch`.
    pub max_submit_batch: usize,
    /// Blocks one `contract_getEvents` call may scan.
    pub max_event_range: u64,
    /// Events in one page of `contract_getEvents`.
    pub max_event_page: u32,
    /// Events in a page of `contract_getEvents` that gives no `limit`.
    pub default_event_page: u32,
    /// Storage keys one `state_getProof` call may prove.
    pub max_proof_keys: usize,
    /// Blocks one `dev_mine` call may produce.
    pub max_dev_mine: u32,
    /// Contract executions (`contract_query`, `contract_estimateGas`) running at once.
    pub max_executions: usize,
    /// Contract executions one connection may have running (its others wait their turn).
    pub max_executions_per_connection: usize,
    /// How long an execution waits for its turn (on its connection, then on the server) before
    /// it is refused as busy.
    pub execution_wait: std::time::Duration,
    /// Gas one query or estimate may use (a transaction's largest limit by default, so that an
    /// estimate is exact for every transaction).
    pub max_execution_gas: weft_types::Gas,
    /// Wall-clock time one query or estimate may take once it runs (nested calls and an
    /// estimate's every run included): the gas bound's backstop, for code that is slower per gas
    /// on this machine than on the reference one.
    pub max_execution_time: std::time::Duration,
    /// Web origins whose pages may call the HTTP endpoint.
    pub cors: CorsOrigins,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            max_request_bytes: 16 << 20,
            max_response_bytes: 16 << 20,
            max_connections: 512,
            max_subscriptions_per_connection: 1024,
            max_batch_len: 256,
            message_buffer: 1024,
            subscriber_patience: std::time::Duration::from_secs(5),
            max_submit_batch: 2_000,
            max_event_range: 10_000,
            max_event_page: 1_000,
            default_event_page: 100,
            max_proof_keys: 64,
            max_dev_mine: 1_000,
            // Two cores on the reference machine; block execution keeps priority by having its
            // own VM, and these bound what queries take of the CPU.
            max_executions: 2,
            max_executions_per_connection: 2,
            execution_wait: std::time::Duration::from_secs(2),
            max_execution_gas: weft_types::limits::MAX_TX_GAS,
            max_execution_time: std::time::Duration::from_secs(2),
            cors: CorsOrigins::None,
        }
    }
}

/// Operator overrides of [`RpcConfig`]'s limits: `weft-node dev` flags, or `[rpc.limits]` in
/// a validator's `node.toml`. Unset ones keep their defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct RpcLimits {
    /// Largest request body in bytes.
    #[arg(long = "rpc-max-request-bytes")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_request_bytes: Option<u32>,
    /// Largest response body in bytes.
    #[arg(long = "rpc-max-response-bytes")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_response_bytes: Option<u32>,
    /// Open connections at most.
    #[arg(long = "rpc-max-connections")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Subscriptions per WebSocket connection.
    #[arg(long = "rpc-max-subscriptions")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_subscriptions: Option<u32>,
    /// Calls in one JSON-RPC batch.
    #[arg(long = "rpc-max-batch")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_batch: Option<u32>,
    /// Contract executions (queries, estimates) running at once.
    #[arg(long = "rpc-max-executions")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_executions: Option<u32>,
    /// Contract executions one connection may have in flight.
    #[arg(long = "rpc-max-executions-per-connection")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_executions_per_connection: Option<u32>,
    /// Gas one query or estimate may use.
    #[arg(long = "rpc-max-execution-gas")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_execution_gas: Option<u64>,
    /// Milliseconds one query or estimate may run (at least 10).
    #[arg(long = "rpc-max-execution-ms")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_execution_ms: Option<u32>,
}

/// A limit set below what the server can work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} is {value}; it must be at least {min}")]
pub struct RpcLimitError {
    /// The limit.
    pub name: &'static str,
    /// The value given.
    pub value: u32,
    /// The smallest value accepted.
    pub min: u32,
}

impl RpcLimits {
    /// Whether none is set.
    pub fn is_empty(&self) -> bool {
        *self == RpcLimits::default()
    }

    /// `config` with these overrides, each checked against its minimum (a body limit under
    /// 1 KiB would refuse every request).
    pub fn apply(&self, mut config: RpcConfig) -> Result<RpcConfig, RpcLimitError> {
        let set = |name, value: Option<u32>, min, into: &mut u32| match value {
            Some(value) if value < min => Err(RpcLimitError { name, value, min }),
            Some(value) => {
                *into = value;
                Ok(())
            }
            None => Ok(()),
        };
        set("max_request_bytes", self.max_request_bytes, 1024, &mut config.max_request_bytes)?;
        set("max_response_bytes", self.max_response_bytes, 1024, &mut config.max_response_bytes)?;
        set("max_connections", self.max_connections, 1, &mut config.max_connections)?;
        set("max_subscriptions", self.max_subscriptions, 1, &mut config.max_subscriptions_per_connection)?;
        set("max_batch", self.max_batch, 1, &mut config.max_batch_len)?;
        let mut executions = config.max_executions as u32;
        set("max_executions", self.max_executions, 1, &mut executions)?;
        config.max_executions = executions as usize;
        let mut per_connection = config.max_executions_per_connection as u32;
        set("max_executions_per_connection", self.max_executions_per_connection, 1, &mut per_connection)?;
        config.max_executions_per_connection = per_connection as usize;
        if let Some(gas) = self.max_execution_gas {
            config.max_execution_gas = gas.min(weft_types::limits::MAX_TX_GAS);
        }
        let mut ms = u32::try_from(config.max_execution_time.as_millis()).unwrap_or(u32::MAX);
        set("max_execution_ms", self.max_execution_ms, TICK_MS as u32, &mut ms)?;
        config.max_execution_time = std::time::Duration::from_millis(u64::from(ms));
        Ok(config)
    }
}

/// A running server.
#[derive(Debug)]
pub struct RpcServer {
    handle: ServerHandle,
    addr: SocketAddr,
    /// The query VM's clock (`executions::clock`).
    clock: tokio::task::JoinHandle<()>,
}

impl RpcServer {
    /// Binds `addr` and serves the API over `chain`; `dev` enables the `dev_*` methods.
    pub async fn start(
        addr: SocketAddr,
        config: &RpcConfig,
        chain: Arc<Chain>,
        dev: Option<DevControl>,
    ) -> Result<RpcServer, RpcError> {
        let server_config = ServerConfig::builder()
            .max_request_body_size(config.max_request_bytes)
            .max_response_body_size(config.max_response_bytes)
            .max_connections(config.max_connections)
            .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
            .set_batch_request_config(BatchRequestConfig::Limit(config.max_batch_len))
            .set_message_buffer_capacity(config.message_buffer)
            .build();
        let max_response_bytes = config.max_response_bytes as usize;
        let runtime = chain.ledger.runtime().clone();
        let api = WeftRpc::new(chain, dev, config.clone());
        let (per_connection, wait) = (config.max_executions_per_connection, config.execution_wait);
        let busy = api.executions.busy_counter();
        let middleware = jsonrpsee::server::middleware::rpc::RpcServiceBuilder::new()
            .layer_fn(move |service| http_subs::HttpSubscriptions { service, max_response_bytes })
            .layer_fn(move |service| {
                executions::PerConnection::new(service, per_connection, wait, busy.clone())
            });
        let http =
            tower::ServiceBuilder::new().option_layer(config.cors.layer()).layer(ops::OpsLayer(api.clone()));
        let server = Server::builder()
            .set_config(server_config)
            .set_rpc_middleware(middleware)
            .set_http_middleware(http)
            .build(addr)
            .await
            .map_err(|e| RpcError { addr, reason: e.to_string() })?;
        let local = server.local_addr().map_err(|e| RpcError { addr, reason: e.to_string() })?;
        // One server per runtime: each ticks the runtime's one query VM, so a second server on
        // the same runtime would make every execution's time limit run twice as fast.
        let ticks = config.max_execution_time.as_millis().div_ceil(u128::from(TICK_MS));
        runtime
            .limit_query_time(u64::try_from(ticks).unwrap_or(u64::MAX))
            .map_err(|e| RpcError { addr, reason: format!("query VM: {e}") })?;
        let handle = server.start(api.into_rpc());
        let clock = tokio::spawn(executions::clock(runtime));
        Ok(RpcServer { handle, addr: local, clock })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and closes connections.
    pub async fn stop(&self) {
        self.clock.abort();
        let _ = self.handle.stop();
        self.handle.clone().stopped().await;
    }
}

impl Drop for RpcServer {
    /// The server itself stops when its last handle goes; its clock is a task of its own.
    fn drop(&mut self) {
        self.clock.abort();
    }
}
