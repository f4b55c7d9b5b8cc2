//! The JSON-RPC request handling target.
//!
//! A dev chain ([`weft_node::dev::DevNode`], temporary directory, RPC on an ephemeral
//! 127.0.0.1 port) runs for the life of the process; each input is read as UTF-8 (lossily) and
//! handled by the node's API module in process (`RpcModule::raw_json_request`, the same
//! handlers the server runs, without the HTTP layer). A JSON array is handled as a sequence of
//! requests, so one input can carry a sequence of calls (e.g. move time, then mine). Invariants:
//! no input panics; every answer is a JSON-RPC 2.0 response; none is an internal error
//! (-32603); after each input the node still answers `node_health` and its block producer still
//! answers a dev command. The chain's state carries over from input to input.

use std::sync::OnceLock;

use jsonrpsee::RpcModule;
use serde_json::Value;
use weft_node::{
    dev::{DevConfig, DevNode},
    rpc::{RpcConfig, WeftRpc},
};

/// Largest input handled: larger inputs are the HTTP layer's (request body limit).
pub const MAX_INPUT: usize = 1 << 20;
/// Requests of one input at most (an array longer than this is cut).
const MAX_SEQUENCE: usize = 64;

/// A dev chain and its API module.
pub struct Harness {
    rt: tokio::runtime::Runtime,
    node: Option<DevNode>,
    module: RpcModule<WeftRpc>,
}

impl Harness {
    /// Starts a dev chain on a temporary directory.
    pub fn start() -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
        let config = DevConfig {
            rpc_addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            rpc: RpcConfig { max_request_bytes: 2 << 20, ..RpcConfig::default() },
            ..DevConfig::default()
        };
        let rpc_config = config.rpc.clone();
        let node = rt.block_on(DevNode::start(config)).unwrap_or_else(|e| panic!("dev node: {e}"));
        let api = WeftRpc::new(node.chain().clone(), Some(node.control().clone()), rpc_config);
        let module = api.into_rpc();
        Harness { rt, node: Some(node), module }
    }

    /// The node's HTTP/WebSocket address (the real server, for inputs sent over the network).
    pub fn rpc_addr(&self) -> std::net::SocketAddr {
        match &self.node {
            Some(node) => node.rpc_addr(),
            None => unreachable!("the node lives as long as the harness"),
        }
    }

    /// Handles one input; panics only on a bug. Returns the responses.
    pub fn run(&self, data: &[u8]) -> Vec<Value> {
        if data.len() > MAX_INPUT {
            return vec![];
        }
        let text = String::from_utf8_lossy(data);
        let requests: Vec<String> = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(items)) => items.iter().take(MAX_SEQUENCE).map(Value::to_string).collect(),
            _ => vec![text.into_owned()],
        };
        let mut out = Vec::new();
        for request in &requests {
            if let Some(response) = self.call(request) {
                out.push(response);
            }
        }
        self.check_alive(data);
        out
    }

    /// One request; `None` when it is not a JSON-RPC request object at all.
    fn call(&self, request: &str) -> Option<Value> {
        let (response, rx) = self.rt.block_on(self.module.raw_json_request(request, 16)).ok()?;
        drop(rx);
        let v: Value = serde_json::from_str(response.get())
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {response} for {request}"));
        assert_eq!(v["jsonrpc"], "2.0", "not a JSON-RPC 2.0 response: {v} for {request}");
        if let Some(error) = v.get("error") {
            let code = error["code"].as_i64().unwrap_or_else(|| panic!("error without a code: {v}"));
            assert_ne!(code, -32603, "internal error for {request}: {v}");
            assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "error without a message: {v}");
        } else {
            assert!(v.get("result").is_some(), "neither result nor error: {v} for {request}");
        }
        Some(v)
    }

    fn check_alive(&self, data: &[u8]) {
        for probe in [
            r#"{"jsonrpc":"2.0","id":0,"method":"node_health","params":[]}"#,
            r#"{"jsonrpc":"2.0","id":0,"method":"dev_increaseTime","params":[0]}"#,
        ] {
            let v = self.call(probe).unwrap_or_else(|| unreachable!("the probes are requests"));
            assert!(
                v.get("result").is_some(),
                "the node stopped answering {probe} after input {:?}: {v}",
                String::from_utf8_lossy(data)
            );
        }
    }

    /// Stops the node and removes its directory.
    pub fn shutdown(mut self) {
        if let Some(node) = self.node.take() {
            self.rt.block_on(node.shutdown());
        }
    }
}

/// Runs one input on the process-wide harness (started on first use); panics only on a bug.
pub fn target(data: &[u8]) {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(Harness::start).run(data);
}
