//! Printing: a command's [`Report`] as human text or as one JSON object, the spinner shown on
//! stderr while waiting, and errors explained in plain words with the fix.

use std::{future::Future, time::Duration};

use serde_json::{Value, json};
use weft_client::{ClientError, api::codes, describe_exec_error};
use weft_rpc_api::{EventInfo, ReceiptInfo};

/// What a command produced: the JSON object printed with `--json`, and the text otherwise.
#[derive(Debug, Clone)]
pub struct Report {
    /// Printed with `--json`.
    pub json: Value,
    /// Printed without it.
    pub human: String,
}

impl Report {
    /// A report.
    pub fn new(json: Value, human: impl Into<String>) -> Self {
        Self { json, human: human.into() }
    }

    /// An empty report: the command printed as it went (`events --follow`).
    pub fn streamed() -> Self {
        Self { json: Value::Null, human: String::new() }
    }

    /// Prints to stdout (a closed stdout, as with `| head`, is not an error).
    pub fn print(&self, json: bool) {
        let text = if json {
            if self.json.is_null() {
                return;
            }
            serde_json::to_string_pretty(&self.json).unwrap_or_else(|_| "null".into())
        } else if self.human.is_empty() {
            return;
        } else {
            self.human.trim_end().to_string()
        };
        let _ = print_line(&text);
    }
}

/// Writes one line to stdout and flushes; fails when stdout is closed (a reader like `head`
/// went away), which `println!` would turn into a panic.
pub fn print_line(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()
}

/// Runs `fut` with a spinner and `message` on stderr (drawn only when stderr is a terminal).
pub async fn with_spinner<T>(message: impl Into<String>, fut: impl Future<Output = T>) -> T {
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(message.into());
    bar.enable_steady_tick(Duration::from_millis(100));
    let out = fut.await;
    bar.finish_and_clear();
    out
}

/// An error in words: the message, a hint with the fix when there is an obvious one, and the
/// JSON object printed with `--json`.
pub fn explain(err: &anyhow::Error, rpc: &str) -> (String, Option<String>, Value) {
    let message = format!("{err:#}");
    let Some(client) = err.chain().find_map(|e| e.downcast_ref::<ClientError>()) else {
        return (message.clone(), None, json!({ "error": { "kind": "invalid_input", "message": message } }));
    };
    let (kind, hint) = match client {
        ClientError::Connect { .. } => (
            "connect",
            Some(format!(
                "is `weft-node dev` running? (this used --rpc {rpc}; set --rpc or WEFT_RPC for another node)"
            )),
        ),
        ClientError::Transport(_) => {
            ("transport", Some("the node closed the connection; is it still running?".into()))
        }
        ClientError::Rpc { code, .. } => ("rpc", rpc_hint(*code)),
        ClientError::Protocol(_) => {
            ("protocol", Some("the node and this CLI may be of different versions".into()))
        }
        ClientError::InvalidInput(_) => ("invalid_input", None),
        ClientError::Abi(_) => {
            ("abi", Some("`weft abi <contract>` shows the methods and their arguments".into()))
        }
        ClientError::Keystore(_) => ("keystore", None),
        ClientError::Timeout { .. } => {
            ("timeout", Some("raise --timeout, or check that the node is producing blocks".into()))
        }
        ClientError::WouldFail { error } if error.kind == "insufficient_balance" => (
            "would_fail",
            Some(
                "nothing was sent; the sender cannot pay (check `weft balance`, or sign with --from)".into(),
            ),
        ),
        ClientError::WouldFail { .. } => {
            ("would_fail", Some("nothing was sent; pass --gas-limit to send it anyway".into()))
        }
        ClientError::QueryFailed { .. } => ("query_failed", None),
        ClientError::TxFailed { .. } => {
            ("tx_failed", Some("the fee was paid and the transaction's changes reverted".into()))
        }
        ClientError::TxDropped { .. } => ("tx_dropped", None),
        ClientError::BadProof(_) => ("bad_proof", None),
    };
    let mut obj = json!({ "kind": kind, "message": message });
    if let Some(code) = client.rpc_code() {
        obj["code"] = json!(code);
    }
    if let Some(exec) = client.exec_error() {
        obj["exec_error"] = serde_json::to_value(exec).unwrap_or(Value::Null);
    }
    if let ClientError::TxFailed { tx_hash, .. } | ClientError::TxDropped { tx_hash, .. } = client {
        obj["tx_hash"] = json!(tx_hash);
    }
    if let Some(hint) = &hint {
        obj["hint"] = json!(hint);
    }
    (message, hint, json!({ "error": obj }))
}

fn rpc_hint(code: i32) -> Option<String> {
    let hint = match code {
        codes::TX_INSUFFICIENT_BALANCE => "the sender cannot pay the value and the fee; check `weft balance`",
        codes::TX_NONCE_TOO_LOW | codes::TX_NONCE_TOO_HIGH => {
            "another transaction of this account got in between; try again"
        }
        codes::TX_BAD_GAS => {
            "the gas limit or price is out of bounds (see `weft status` for the minimum price)"
        }
        codes::NOT_A_CONTRACT => "the address holds no contract",
        codes::ABI_MISMATCH => "`weft abi <contract>` shows the methods and their arguments",
        codes::DEV_ONLY => "this works only on a node started with `weft-node dev`",
        _ => return None,
    };
    Some(hint.into())
}

/// Prints an error: to stderr in words (`error: …` and `hint: …`), and with `--json` also
/// the one JSON object on stdout.
pub fn print_error(err: &anyhow::Error, json: bool, rpc: &str) {
    let (message, hint, obj) = explain(err, rpc);
    if json {
        let _ = print_line(&serde_json::to_string_pretty(&obj).unwrap_or_default());
    }
    eprintln!("error: {message}");
    if let Some(hint) = hint {
        eprintln!("hint: {hint}");
    }
}

/// A receipt in a few lines.
pub fn receipt_text(r: &ReceiptInfo) -> String {
    let mut s = format!(
        "transaction {}\n  block     {} ({}), index {}\n  status    {}\n  gas used  {}\n  fee       {}\n",
        r.tx_hash,
        r.location.block_height,
        r.location.block_hash,
        r.location.index,
        match &r.error {
            None if r.success => "success".to_string(),
            Some(e) => format!("failed: {}", describe_exec_error(e)),
            None => "failed".to_string(),
        },
        r.gas_used,
        r.fee,
    );
    if r.deposit_charged > 0 || r.deposit_refunded > 0 {
        s.push_str(&format!("  deposit   +{} -{}\n", r.deposit_charged, r.deposit_refunded));
    }
    if let Some(addr) = r.contract_address {
        s.push_str(&format!("  contract  {addr}\n"));
    }
    if !r.events.is_empty() {
        s.push_str("  events\n");
        for e in &r.events {
            s.push_str(&format!("    {}\n", event_text(e)));
        }
    }
    s
}

/// An event in one line: `Name {fields}` when decoded, else topics and data.
pub fn event_text(e: &EventInfo) -> String {
    let body = match (&e.name, &e.fields) {
        (Some(name), Some(fields)) => format!("{name} {fields}"),
        (Some(name), None) => name.clone(),
        _ => format!(
            "topics [{}] data {:?}",
            e.topics.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", "),
            e.data
        ),
    };
    let at = match (e.block_height, e.tx_hash) {
        (Some(h), Some(tx)) => format!("block {h} tx {tx} #{}: ", e.index),
        (Some(h), None) => format!("block {h} #{}: ", e.index),
        _ => String::new(),
    };
    format!("{at}{body} (contract {})", e.contract)
}

/// A JSON value for humans: strings bare, everything else as compact JSON.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}
