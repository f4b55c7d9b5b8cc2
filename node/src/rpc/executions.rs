//! Bounds on contract execution for RPC clients (`contract_query`, `contract_estimateGas`): at
//! most `max_executions` run at once on the whole server, each waiting at most
//! `execution_wait` for its turn, and at most `max_executions_per_connection` in flight on one
//! connection (the [`PerConnection`] middleware). Queries run on the runtime's query VM, so
//! they cannot take instances from block execution; these bounds keep them from taking all of
//! the node's cores or a fair share from other clients. Over a bound, the answer is
//! `codes::BUSY`, saying which bound and its value.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
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

use super::convert::join_error;

/// Methods that execute contract code.
const EXECUTING: [&str; 2] = ["contract_query", "contract_estimateGas"];

/// The server-wide bound.
#[derive(Debug, Clone)]
pub struct Executions {
    permits: Arc<Semaphore>,
    max: usize,
    wait: Duration,
}

impl Executions {
    /// At most `max` executions at once, each waiting at most `wait` for a turn.
    pub fn new(max: usize, wait: Duration) -> Self {
        Self { permits: Arc::new(Semaphore::new(max)), max, wait }
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
            _ => return Err(busy()),
        };
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(join_error)
    }
}

/// RPC middleware bounding the executing calls one connection has in flight. Built once per
/// connection (its counter is that connection's).
#[derive(Debug, Clone)]
pub struct PerConnection<S> {
    /// The service it wraps.
    pub service: S,
    /// Executing calls in flight on this connection.
    pub in_flight: Arc<AtomicUsize>,
    /// The bound.
    pub max: usize,
}

/// Gives the connection's slot back when the call ends, however it ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
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
        let service = self.service.clone();
        let (in_flight, max) = (self.in_flight.clone(), self.max);
        async move {
            if !EXECUTING.contains(&request.method_name()) {
                return service.call(request).await;
            }
            if in_flight.fetch_add(1, Ordering::AcqRel) >= max {
                in_flight.fetch_sub(1, Ordering::AcqRel);
                let message = format!(
                    "this connection already has {max} contract executions in flight (the limit per \
                     connection); wait for one to finish"
                );
                return MethodResponse::error(request.id().into_owned(), err(codes::BUSY, message));
            }
            let _slot = Slot(in_flight);
            service.call(request).await
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
