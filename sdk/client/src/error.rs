//! The one error type of the client, [`ClientError`], split by who is to blame: the caller's
//! input, the connection, the node's refusal, or the chain's verdict on a transaction.

use std::time::Duration;

use serde_json::Value;
use weft_rpc_api::{ExecErrorInfo, ReceiptInfo};
use weft_types::Hash;

/// Everything that can go wrong in a client call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node could not be reached at all (nothing listening, handshake refused, bad host).
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The URL tried.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// The connection broke, or was closed, during a request or a subscription.
    #[error("the connection to the node failed: {0}")]
    Transport(String),
    /// The node answered with a JSON-RPC error. `code` is one of `weft_rpc_api::codes` or a
    /// JSON-RPC 2.0 code; `message` is the node's own words.
    #[error("the node refused the request (code {code}): {message}")]
    Rpc {
        /// The error code.
        code: i32,
        /// The node's message.
        message: String,
        /// Extra data the node attached, if any.
        data: Option<Value>,
    },
    /// The node answered something this client cannot read (a version mismatch or a node bug).
    #[error("unexpected answer from the node: {0}")]
    Protocol(String),
    /// The caller's input is invalid: a malformed address or URL, a bad key, an unknown name.
    #[error("{0}")]
    InvalidInput(String),
    /// The arguments do not fit the contract's ABI, or the contract has none.
    #[error("{0}")]
    Abi(String),
    /// Reading or writing a key file failed.
    #[error("keystore: {0}")]
    Keystore(String),
    /// Waited too long.
    #[error("timed out after {}s waiting for {what}", after.as_secs_f64())]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        after: Duration,
    },
    /// A dry run of the transaction failed, so it was not sent (no fee was paid). Give an
    /// explicit gas limit to send it anyway.
    #[error("the transaction would fail, so it was not sent: {}", describe_exec_error(error))]
    WouldFail {
        /// Why, decoded through the contract's ABI when it has one.
        error: Box<ExecErrorInfo>,
    },
    /// The transaction was included and failed: its fee was paid and its changes reverted.
    #[error("transaction {tx_hash} failed: {}", describe_exec_error(error))]
    TxFailed {
        /// The transaction.
        tx_hash: Hash,
        /// Why, decoded through the contract's ABI when it has one.
        error: Box<ExecErrorInfo>,
        /// The whole receipt.
        receipt: Box<ReceiptInfo>,
    },
    /// A read-only call (`contract_query`) failed.
    #[error("the call failed: {}", describe_exec_error(error))]
    QueryFailed {
        /// Why, decoded through the contract's ABI when it has one.
        error: Box<ExecErrorInfo>,
    },
    /// The node dropped the transaction from its mempool without including it.
    #[error("transaction {tx_hash} was dropped by the node: {reason}")]
    TxDropped {
        /// The transaction.
        tx_hash: Hash,
        /// The node's reason.
        reason: String,
    },
    /// A state proof from the node does not verify: the node is faulty or lying.
    #[error("the node's state proof does not verify: {0}")]
    BadProof(String),
}

impl ClientError {
    /// The JSON-RPC error code, when the node refused the request.
    pub fn rpc_code(&self) -> Option<i32> {
        match self {
            ClientError::Rpc { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether the node could not be reached or the connection broke.
    pub fn is_connection(&self) -> bool {
        matches!(self, ClientError::Connect { .. } | ClientError::Transport(_))
    }

    /// The decoded execution error of a failed or would-fail transaction.
    pub fn exec_error(&self) -> Option<&ExecErrorInfo> {
        match self {
            ClientError::TxFailed { error, .. }
            | ClientError::WouldFail { error }
            | ClientError::QueryFailed { error } => Some(&**error),
            _ => None,
        }
    }
}

/// One line describing an execution error: the node's message, plus the panic message or the
/// ABI-decoded error when the message does not already say them.
pub fn describe_exec_error(error: &ExecErrorInfo) -> String {
    let mut out = error.message.clone();
    if let Some(panic) = &error.panic
        && !out.contains(panic.as_str())
    {
        out.push_str(&format!(" (panicked: {panic})"));
    }
    if let Some(value) = &error.error {
        let text = value.to_string();
        if !out.contains(&text) {
            out.push_str(&format!(" (error: {text})"));
        }
    }
    out
}

impl From<jsonrpsee::core::ClientError> for ClientError {
    fn from(e: jsonrpsee::core::ClientError) -> Self {
        use jsonrpsee::core::ClientError as E;
        match e {
            E::Call(obj) => ClientError::Rpc {
                code: obj.code(),
                message: obj.message().to_string(),
                data: obj.data().and_then(|raw| serde_json::from_str(raw.get()).ok()),
            },
            E::ParseError(e) => ClientError::Protocol(e.to_string()),
            E::RequestTimeout => ClientError::Timeout {
                what: "the node's answer".into(),
                after: crate::DEFAULT_REQUEST_TIMEOUT,
            },
            E::RestartNeeded(reason) => ClientError::Transport(format!("connection closed ({reason})")),
            E::Transport(e) => ClientError::Transport(e.to_string()),
            other => ClientError::Protocol(other.to_string()),
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
