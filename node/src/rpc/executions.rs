//! Bounds on contract execution for RPC clients (`contract_query`, `contract_estimateGas`): at
//! most `max_executions` run at once on the whole server, each waiting at most
//! `execution_wait` for its turn, and at most `max_executions_per_connection` running for one
//! connection (the [`PerConnection`] middleware; its others wait their turn as long). Queries run on the runtime's query VM, so
//! they cannot take instances from block execution; these bounds keep them from taking all of
//! the node's cores or a fair share from other clients. Over a bound, the answer is
//! `codes::BUSY`, saying which bound and its value.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use jsonrpsee::{
    core::{
        middleware::{Batch, Notification, RpcServiceT},
        server::MethodResponse,
    },
    types::Request,
};
use tokio::sync::Semaphore;
use weft_rpc_api::{
    RpcResult,
    codes::{self, err},
};
use weft_runtime::Runtime;

use super::convert::join_error;

/// Milliseconds per tick of the queries' clock ([`clock`]): the granularity of
/// `RpcConfig::max_execution_time`.
pub const TICK_MS: u64 = 10;

/// Ticks the query VM's clock every [`TICK_MS`], so that executions past
/// `RpcConfig::max_execution_time` are interrupted (`Runtime::limit_query_time`). The server
/// aborts it when it stops or is dropped.
pub async fn clock(runtime: Runtime) {
    let mut interval = tokio::time::interval(Duration::from_millis(TICK_MS));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        runtime.tick_queries();
    }
}

/// Methods that execute contract code.
const EXECUTING: [&str; 2] = ["contract_query", "contract_estimateGas"];

/// The server-wide bound.
#[derive(Debug, Clone)]
pub struct Executions {
    permits: Arc<Semaphore>,
    max: usize,
    wait: Duration,
    /// Executions refused as busy, server-wide or per connection.
    busy: Arc<AtomicU64>,
}

impl Executions {
    /// At most `max` executions at once, each waiting at most `wait` for a turn.
    pub fn new(max: usize, wait: Duration) -> Self {
        Self { permits: Arc::new(Semaphore::new(max)), max, wait, busy: Arc::default() }
    }

    /// Executions refused as busy so far.
    pub fn busy(&self) -> u64 {
        self.busy.load(Ordering::Relaxed)
    }

    /// What counts a refusal, for the per-connection bound.
    pub fn busy_counter(&self) -> Arc<AtomicU64> {
        self.busy.clone()
    }

    /// Runs `work` on a blocking thread once a turn is free.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> RpcResult<T> {
        let busy = || {
            err(
                codes::BUSY,
                format!(
                    "the node is running its limit of {} contract executions for RPC clients and none \
                     finished within {} ms; retry later",
                    self.max,
                    self.wait.as_millis()
                ),
            )
        };
        let permit = match tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            _ => {
                self.busy.fetch_add(1, Ordering::Relaxed);
                return Err(busy());
            }
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(join_error)
    }
}

/// RPC middleware bounding the executing calls one connection has running: more wait their
/// turn (at most `wait`) in the order they came. Built once per connection (its permits are
/// that connection's), so one client pipelining many calls cannot take every server-wide turn.
/// A waiting call holds its request (at most `max_request_bytes`) for at most `wait`, then is
/// refused. jsonrpsee runs every incoming WebSocket message as its own task without a count
/// bound, so what a flooding connection holds is its send rate times `wait`, as for any method.
#[derive(Debug, Clone)]
pub struct PerConnection<S> {
    /// The service it wraps.
    pub service: S,
    /// This connection's turns.
    pub permits: Arc<Semaphore>,
    /// The bound (the permits' number).
    pub max: usize,
    /// How long a call waits for a turn.
    pub wait: Duration,
    /// The server's count of refusals.
    pub busy: Arc<AtomicU64>,
}

impl<S> PerConnection<S> {
    /// Wraps `service` for a new connection, counting refusals in `busy`.
    pub fn new(service: S, max: usize, wait: Duration, busy: Arc<AtomicU64>) -> Self {
        Self { service, permits: Arc::new(Semaphore::new(max)), max, wait, busy }
    }
}

impl<S> RpcServiceT for PerConnection<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Send
        + Sync
        + Clone
        + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let this = self.clone();
        async move {
            if !EXECUTING.contains(&request.method_name()) {
                return this.service.call(request).await;
            }
            let Ok(Ok(_turn)) = tokio::time::timeout(this.wait, this.permits.acquire()).await else {
                this.busy.fetch_add(1, Ordering::Relaxed);
                let message = format!(
                    "this connection has {} contract executions running (the limit per connection) \
                     and none finished within {} ms; wait for them before sending more",
                    this.max,
                    this.wait.as_millis()
                );
                return MethodResponse::error(request.id().into_owned(), err(codes::BUSY, message));
            };
            this.service.call(request).await
        }
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        // The outer middleware (`http_subs`) sends each call of a batch through `call`.
        self.service.batch(batch)
    }

    fn notification<'a>(&self, n: Notification<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.service.notification(n)
    }
}
