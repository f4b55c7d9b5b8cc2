//! RPC middleware that makes a subscription called over plain HTTP fail with a clear error.
//! jsonrpsee answers such a call with a bare -32603 "Internal error", which reads as a node
//! fault; the caller's mistake is the transport, so the answer is -32601 naming the method and
//! saying to subscribe over a WebSocket connection. Every other response passes unchanged.

use std::future::Future;

use jsonrpsee::{
    core::{
        middleware::{Batch, BatchEntry, Notification, RpcServiceT},
        server::{BatchResponseBuilder, MethodResponse},
    },
    types::{ErrorCode, ErrorObject, Request},
};

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct HttpSubscriptions<S> {
    /// The service it wraps.
    pub service: S,
    /// The largest response body (the server's limit), for batch responses.
    pub max_response_bytes: usize,
}

/// Whether `method` is a subscription (or unsubscription) of the API.
fn is_subscription(method: &str) -> bool {
    method.contains("_subscribe") || method.contains("_unsubscribe")
}

impl<S> RpcServiceT for HttpSubscriptions<S>
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
        async move {
            if !is_subscription(request.method_name()) {
                return service.call(request).await;
            }
            let id = request.id().into_owned();
            let method = request.method_name().to_owned();
            let response = service.call(request).await;
            if response.as_error_code() == Some(ErrorCode::InternalError.code()) {
                let message =
                    format!("{method} is a subscription: subscribe over a WebSocket connection (ws://)");
                return MethodResponse::error(
                    id,
                    ErrorObject::owned(ErrorCode::MethodNotFound.code(), message, None::<()>),
                );
            }
            response
        }
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let this = self.clone();
        async move {
            // As jsonrpsee's own batch handling, with each call going through `call` above.
            let mut out = BatchResponseBuilder::new_with_limit(this.max_response_bytes);
            let mut got_notification = false;
            for entry in batch.into_iter() {
                let response = match entry {
                    Ok(BatchEntry::Call(req)) => this.call(req).await,
                    Ok(BatchEntry::Notification(n)) => {
                        got_notification = true;
                        this.service.notification(n).await;
                        continue;
                    }
                    Err(err) => {
                        let (err, id) = err.into_parts();
                        MethodResponse::error(id, err)
                    }
                };
                if let Err(too_large) = out.append(response) {
                    return too_large;
                }
            }
            if out.is_empty() && got_notification {
                MethodResponse::notification()
            } else {
                MethodResponse::from_batch(out.finish())
            }
        }
    }

    fn notification<'a>(&self, n: Notification<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.service.notification(n)
    }
}
