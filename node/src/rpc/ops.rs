//! Plain-HTTP endpoints for operators on the JSON-RPC port: `GET /health` (the `node_health`
//! object; status 503 when unhealthy, for load balancers and liveness probes) and `GET /metrics`
//! (Prometheus text exposition format 0.0.4, for scrapers). Every other request goes on to
//! JSON-RPC.

use std::{fmt::Write as _, future::Future, pin::Pin};

use http::{HeaderValue, Method, StatusCode, header::CONTENT_TYPE};
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use weft_rpc_api::{Health, NodeApiServer, NodeInfo, NodeMetrics};

use super::WeftRpc;

/// Adds the operator endpoints in front of the JSON-RPC service.
#[derive(Clone, Debug)]
pub(crate) struct OpsLayer(pub(crate) WeftRpc);

impl<S> tower::Layer<S> for OpsLayer {
    type Service = Ops<S>;

    fn layer(&self, inner: S) -> Ops<S> {
        Ops { inner, rpc: self.0.clone() }
    }
}

/// The service of [`OpsLayer`].
#[derive(Clone, Debug)]
pub(crate) struct Ops<S> {
    inner: S,
    rpc: WeftRpc,
}

type BoxedResponse<E> = Pin<Box<dyn Future<Output = Result<HttpResponse, E>> + Send>>;

impl<S, B> tower::Service<HttpRequest<B>> for Ops<S>
where
    S: tower::Service<HttpRequest<B>, Response = HttpResponse>,
    S::Future: Send + 'static,
{
    type Response = HttpResponse;
    type Error = S::Error;
    type Future = BoxedResponse<S::Error>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
        if request.method() != Method::GET {
            return Box::pin(self.inner.call(request));
        }
        let rpc = self.rpc.clone();
        match request.uri().path() {
            "/health" => Box::pin(async move { Ok(health(&rpc).await) }),
            "/metrics" => Box::pin(async move { Ok(metrics(&rpc).await) }),
            _ => Box::pin(self.inner.call(request)),
        }
    }
}

fn response(status: StatusCode, content_type: &'static str, body: String) -> HttpResponse {
    let mut response = HttpResponse::new(HttpBody::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn unavailable(reason: impl std::fmt::Display) -> HttpResponse {
    response(StatusCode::SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", format!("{reason}\n"))
}

async fn health(rpc: &WeftRpc) -> HttpResponse {
    match rpc.node_health().await {
        Ok(health) => {
            let status = if health.healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
            match serde_json::to_string(&health) {
                Ok(json) => response(status, "application/json", json),
                Err(e) => unavailable(e),
            }
        }
        Err(e) => unavailable(e.message()),
    }
}

async fn metrics(rpc: &WeftRpc) -> HttpResponse {
    let (info, health, metrics, evidence) = match (
        rpc.node_info().await,
        rpc.node_health().await,
        rpc.node_metrics().await,
        rpc.node_evidence().await,
    ) {
        (Ok(i), Ok(h), Ok(m), Ok(e)) => (i, h, m, e.len()),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => return unavailable(e.message()),
    };
    response(
        StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        exposition(&info, &health, &metrics, evidence),
    )
}

/// The Prometheus text of a node's state. Metric names follow Prometheus conventions: base
/// units (seconds, bytes), `_total` for counters, `process_*` for the standard process metrics.
fn exposition(info: &NodeInfo, health: &Health, m: &NodeMetrics, evidence: usize) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, String)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let one = |v: String| [("", v)];
    let labels = format!(
        "{{chain_id=\"{}\",version=\"{}\",validator=\"{}\",dev=\"{}\"}}",
        info.chain_id, info.version, info.validator, info.dev
    );
    metric(
        "weft_node_info",
        "gauge",
        "The node's chain, version and role (always 1).",
        &[(&labels, "1".into())],
    );
    metric("weft_block_height", "gauge", "Height of the newest block.", &one(health.height.to_string()));
    metric(
        "weft_finalized_height",
        "gauge",
        "Height of the newest finalized block.",
        &one(health.finalized_height.to_string()),
    );
    metric(
        "weft_healthy",
        "gauge",
        "1 when the node is healthy.",
        &one(u8::from(health.healthy).to_string()),
    );
    metric(
        "weft_syncing",
        "gauge",
        "1 while the node fetches blocks it missed.",
        &one(u8::from(health.syncing).to_string()),
    );
    metric("weft_peers", "gauge", "Connected peers.", &one(health.peers.to_string()));
    metric(
        "weft_mempool_transactions",
        "gauge",
        "Transactions waiting in the mempool.",
        &one(m.pending_txs.to_string()),
    );
    metric(
        "weft_mempool_bytes",
        "gauge",
        "Encoded bytes waiting in the mempool.",
        &one(m.pending_bytes.to_string()),
    );
    metric(
        "weft_gossip_transactions_dropped_total",
        "counter",
        "Gossiped transactions dropped before admission, by reason.",
        &[
            ("{reason=\"over_peer_limit\"}", m.gossip_txs_over_peer_limit.to_string()),
            ("{reason=\"queue_full\"}", m.gossip_txs_queue_full.to_string()),
        ],
    );
    metric(
        "weft_gossip_consensus_dropped_total",
        "counter",
        "Consensus gossip dropped because its peer sent more useless messages than its budget.",
        &one(m.gossip_consensus_over_peer_limit.to_string()),
    );
    metric(
        "weft_code_compiled_total",
        "counter",
        "Contract modules compiled: one per upload executed, plus compiled forms rebuilt.",
        &one(m.code_compiled.to_string()),
    );
    metric(
        "weft_rpc_executions_busy_total",
        "counter",
        "Contract executions for RPC clients refused as busy.",
        &one(m.rpc_executions_busy.to_string()),
    );
    metric("weft_evidence", "gauge", "Pieces of evidence of equivocation kept.", &one(evidence.to_string()));
    metric(
        "weft_uptime_seconds",
        "gauge",
        "Seconds since the node started serving.",
        &one(seconds(m.uptime_ms)),
    );
    if let (Some(user), Some(system)) = (m.cpu_user_ms, m.cpu_system_ms) {
        metric(
            "process_cpu_seconds_total",
            "counter",
            "User and system CPU time spent, in seconds.",
            &one(seconds(user.saturating_add(system))),
        );
    }
    if let Some(rss) = m.rss_bytes {
        metric(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            &one(rss.to_string()),
        );
    }
    if let Some(threads) = m.threads {
        metric("process_threads", "gauge", "Threads of the process.", &one(threads.to_string()));
    }
    out
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_is_prometheus_text() {
        let info = NodeInfo {
            chain_id: 7,
            version: "1.2.3".into(),
            peer_id: None,
            height: 5,
            finalized_height: 5,
            validator: true,
            dev: false,
            min_gas_price: 1,
        };
        let health = Health {
            healthy: true,
            height: 5,
            finalized_height: 4,
            peers: 3,
            syncing: false,
            pending_txs: 2,
        };
        let metrics = NodeMetrics {
            cpu_user_ms: Some(1_500),
            cpu_system_ms: Some(250),
            rss_bytes: Some(1 << 20),
            rss_peak_bytes: None,
            threads: None,
            uptime_ms: 61_005,
            pending_txs: 2,
            pending_bytes: 300,
            height: 5,
            gossip_txs_over_peer_limit: 9,
            gossip_txs_queue_full: 0,
            gossip_consensus_over_peer_limit: 4,
            code_compiled: 2,
            rpc_executions_busy: 5,
        };
        let text = exposition(&info, &health, &metrics, 1);
        for line in [
            "weft_node_info{chain_id=\"7\",version=\"1.2.3\",validator=\"true\",dev=\"false\"} 1",
            "weft_block_height 5",
            "weft_finalized_height 4",
            "weft_peers 3",
            "weft_mempool_bytes 300",
            "weft_gossip_transactions_dropped_total{reason=\"over_peer_limit\"} 9",
            "weft_gossip_consensus_dropped_total 4",
            "weft_code_compiled_total 2",
            "weft_rpc_executions_busy_total 5",
            "weft_evidence 1",
            "weft_uptime_seconds 61.005",
            "process_cpu_seconds_total 1.750",
            "process_resident_memory_bytes 1048576",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} missing from\n{text}");
        }
        assert!(!text.contains("process_threads"), "unknown values are left out");
        // Every sample follows its HELP and TYPE lines.
        let mut typed = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                typed.push(rest.split(' ').next().unwrap_or_default().to_owned());
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap_or_default();
                assert_eq!(typed.last().map(String::as_str), Some(name), "{line}");
            }
        }
    }
}
