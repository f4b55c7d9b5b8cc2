//! The OpenRPC document served by `rpc.discover`. Each method's params and result are named
//! after the Rust types of `crate::types`, which are described in `components.schemas` by their
//! JSON shape. The node's tests check that this table lists exactly the methods the server
//! registers, so the document cannot drift from the traits.

use serde_json::{Value, json};

/// One method of the document.
pub struct MethodDoc {
    /// Method name.
    pub name: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// Parameters: name, schema, required.
    pub params: &'static [(&'static str, &'static str, bool)],
    /// Result schema (for subscriptions: the notification item).
    pub result: &'static str,
    /// Whether it is a subscription (WebSocket only).
    pub subscription: bool,
}

const fn m(
    name: &'static str,
    summary: &'static str,
    params: &'static [(&'static str, &'static str, bool)],
    result: &'static str,
) -> MethodDoc {
    MethodDoc { name, summary, params, result, subscription: false }
}

const fn sub(
    name: &'static str,
    summary: &'static str,
    params: &'static [(&'static str, &'static str, bool)],
    result: &'static str,
) -> MethodDoc {
    MethodDoc { name, summary, params, result, subscription: true }
}

/// Every method, in the order of the namespaces' traits.
pub const METHODS: &[MethodDoc] = &[
    m("node_info", "Chain id, version, peer id, heights, role.", &[], "NodeInfo"),
    m("node_health", "Whether the node is healthy.", &[], "Health"),
    m(
        "node_metrics",
        "The node process's CPU time, resident memory, threads and mempool (from /proc/self on Linux), and the gossiped transactions it dropped.",
        &[],
        "NodeMetrics",
    ),
    m("node_peers", "Connected peers.", &[], "PeerInfo[]"),
    m(
        "node_evidence",
        "Evidence of equivocation this node has seen and kept, lowest view first.",
        &[],
        "EvidenceInfo[]",
    ),
    m("chain_getHead", "The newest block's header.", &[], "HeaderInfo"),
    m("chain_getFinalized", "The newest finalized block's header.", &[], "HeaderInfo"),
    m(
        "chain_getBlock",
        "A block by height, hash or tag (head, finalized); with full, its transactions.",
        &[("id", "BlockId", true), ("full", "boolean", false)],
        "BlockInfo|null",
    ),
    sub("chain_subscribeHeads", "Every new block's header.", &[], "HeaderInfo"),
    sub("chain_subscribeFinalized", "Every newly finalized block's header.", &[], "HeaderInfo"),
    m("state_getAccount", "An account at the head.", &[("address", "Address", true)], "AccountInfo"),
    m(
        "state_getStorage",
        "A contract's storage value at the head.",
        &[("contract", "Address", true), ("key", "Bytes", true)],
        "Bytes|null",
    ),
    m(
        "state_hasCode",
        "Whether code with this hash is uploaded, at the head.",
        &[("code_hash", "Hash", true)],
        "boolean",
    ),
    m(
        "state_getProof",
        "Merkle proofs of an account and storage keys against the finalized state root.",
        &[("address", "Address", true), ("keys", "Bytes[]", false)],
        "StateProofInfo",
    ),
    m("tx_submit", "Submits a SCALE-encoded SignedTransaction.", &[("tx", "Bytes", true)], "Hash"),
    m("tx_submitBatch", "Submits several transactions.", &[("txs", "Bytes[]", true)], "SubmitResult[]"),
    m(
        "tx_getReceipt",
        "The receipt of an included transaction.",
        &[("hash", "Hash", true)],
        "ReceiptInfo|null",
    ),
    m("tx_get", "A transaction, included or pending.", &[("hash", "Hash", true)], "TxInfo|null"),
    sub(
        "tx_subscribeStatus",
        "A transaction's status now and on every change until it is finalized or dropped; `unknown` is not final (subscribe, then submit).",
        &[("hash", "Hash", true)],
        "TxStatus",
    ),
    m("contract_query", "A read-only call at the head.", &[("request", "QueryRequest", true)], "QueryResult"),
    m(
        "contract_estimateGas",
        "An exact dry run: gas used and storage deposit.",
        &[("request", "EstimateRequest", true)],
        "Estimate",
    ),
    m("contract_getAbi", "A contract's embedded ABI.", &[("contract", "Address", true)], "Abi|null"),
    m("contract_getCode", "A contract's wasm code.", &[("contract", "Address", true)], "Bytes"),
    m(
        "contract_getEvents",
        "Past events matching a filter, paginated.",
        &[("filter", "EventFilter", true)],
        "EventPage",
    ),
    sub(
        "contract_subscribeEvents",
        "Events matching a filter as blocks commit.",
        &[("filter", "EventFilter", true)],
        "EventInfo",
    ),
    m("dev_mine", "Dev only: produce blocks now.", &[("count", "integer", false)], "HeaderInfo"),
    m(
        "dev_setBalance",
        "Dev only: set an account's balance.",
        &[("address", "Address", true), ("balance", "Amount", true)],
        "AccountInfo",
    ),
    m("dev_increaseTime", "Dev only: move the clock forward.", &[("ms", "integer", true)], "integer"),
    m("dev_snapshot", "Dev only: remember the chain.", &[], "integer"),
    m("dev_revert", "Dev only: return to a snapshot.", &[("id", "integer", true)], "HeaderInfo"),
    m("rpc.discover", "This document.", &[], "OpenRPC"),
];

fn schema(name: &str) -> Value {
    if let Some(inner) = name.strip_suffix("|null") {
        return json!({ "oneOf": [schema(inner), { "type": "null" }] });
    }
    if let Some(item) = name.strip_suffix("[]") {
        return json!({ "type": "array", "items": schema(item) });
    }
    match name {
        "boolean" | "integer" | "string" => json!({ "type": name }),
        _ => json!({ "$ref": format!("#/components/schemas/{name}") }),
    }
}

fn components() -> Value {
    let hex32 = json!({ "type": "string", "pattern": "^0x[0-9a-f]{64}$" });
    let obj = |desc: &str| json!({ "type": "object", "description": desc });
    json!({
        "Address": hex32,
        "Hash": hex32,
        "Bytes": { "type": "string", "pattern": "^0x([0-9a-fA-F]{2})*$" },
        "Amount": { "type": "string", "pattern": "^[0-9]+$", "description": "u128 as a decimal string" },
        "BlockId": { "oneOf": [{ "type": "integer" }, { "$ref": "#/components/schemas/Hash" }, { "enum": ["head", "finalized"] }] },
        "NodeInfo": obj("chain_id, version, peer_id, height, finalized_height, validator, dev, min_gas_price"),
        "Health": obj("healthy, height, finalized_height, peers, syncing, pending_txs"),
        "NodeMetrics": obj("cpu_user_ms, cpu_system_ms, rss_bytes, rss_peak_bytes, threads, uptime_ms, pending_txs, pending_bytes, height, gossip_txs_over_peer_limit, gossip_txs_queue_full, gossip_consensus_over_peer_limit, code_compiled, rpc_executions_busy"),
        "PeerInfo": obj("peer_id, address"),
        "EvidenceInfo": obj("view, offender, conflict {type: votes|proposals, first, second}, raw (SCALE Evidence)"),
        "HeaderInfo": obj("hash, height, parent_hash, timestamp_ms, proposer, tx_root, receipts_root, state_root, gas_used, tx_count"),
        "BlockInfo": obj("header, tx_hashes, transactions (with full)"),
        "TxInfo": obj("hash, chain_id, sender, nonce, gas_limit, gas_price, action {type: transfer|upload_code|instantiate|call, …}, signature, location"),
        "AccountInfo": obj("address, balance, nonce, code_hash, storage_bytes, deposit, height"),
        "StateProofInfo": obj("header, account {key, value, proof}, storage [{key, value, proof}]; proof = SCALE StateProof"),
        "SubmitResult": obj("hash or error {code, message}"),
        "ReceiptInfo": obj("tx_hash, location, success, error, gas_used, fee, deposit_charged, deposit_refunded, events, return_data, return_value, contract_address"),
        "TxStatus": obj("status: pending|included|finalized|dropped|unknown, location, success, reason"),
        "QueryRequest": obj("contract, method, args (JSON through the ABI) or input (hex), caller, gas_limit"),
        "QueryResult": obj("success, value, return_data, gas_used, events, error, height"),
        "EstimateRequest": obj("from, action {type: transfer|upload_code|instantiate|call, …}"),
        "Estimate": obj("success, gas_used, storage_deposit, storage_refund, fee, value, contract_address, error"),
        "EventFilter": obj("contract, event, topics, from_block, to_block, cursor, limit"),
        "EventPage": obj("events, next_cursor"),
        "EventInfo": obj("contract, topics, data, name, fields, block_height, tx_hash, index"),
        "Abi": obj("the contract ABI document, docs/abi.md"),
        "OpenRPC": obj("an OpenRPC 1.2 document"),
    })
}

/// The OpenRPC document.
pub fn document() -> Value {
    let methods: Vec<Value> = METHODS
        .iter()
        .map(|m| {
            let params: Vec<Value> = m
                .params
                .iter()
                .map(|(name, ty, required)| json!({ "name": name, "required": required, "schema": schema(ty) }))
                .collect();
            let mut method = json!({
                "name": m.name,
                "summary": m.summary,
                "params": params,
                "result": { "name": "result", "schema": schema(m.result) },
            });
            if m.subscription {
                method["x-subscription"] = json!(true);
            }
            method
        })
        .collect();
    json!({
        "openrpc": "1.2.6",
        "info": { "title": "Weft JSON-RPC", "version": env!("CARGO_PKG_VERSION") },
        "methods": methods,
        "components": { "schemas": components() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` of the document, recursively.
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > METHODS.len(), "{found:?}");
        for r in found {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r}"));
            assert!(doc["components"]["schemas"].get(name).is_some(), "{r} has no schema");
        }
    }
}
