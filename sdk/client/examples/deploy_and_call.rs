//! Deploys a token contract, calls `transfer`, and reads `balance_of` through its ABI.
//!
//! ```text
//! cargo run -p weft-client --example deploy_and_call -- [path/to/token.wasm]
//! ```
//!
//! Without a path it builds the example token (`contracts/token`) with weft-build first (needs
//! `rustup target add wasm32v1-none`). Any contract whose
//! constructor takes `supply` and which has `transfer(to, amount)` and `balance_of(owner)` works.
//! The node is `ws://127.0.0.1:9944` unless `WEFT_RPC` says otherwise.

use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::json;
use weft_client::{Client, DEFAULT_URL, Signer};

/// Builds `contracts/token` with weft-build (checked as a node checks an upload).
fn build_token() -> anyhow::Result<Vec<u8>> {
    println!("building contracts/token …");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../contracts/token");
    let built = weft_build::build_contract(&dir.to_string_lossy(), &weft_build::BuildOptions::default())?;
    print!("{}", built.summary());
    Ok(built.wasm)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("WEFT_RPC").unwrap_or_else(|_| DEFAULT_URL.into());
    let wasm = match std::env::args().nth(1) {
        Some(path) => std::fs::read(&path).with_context(|| format!("cannot read {path}"))?,
        None => build_token()?,
    };
    let client = Client::connect(&url).await.context("is `weft-node dev` running?")?;
    let alice = Signer::dev("alice").context("alice is a dev account")?;
    let bob = Signer::dev("bob").context("bob is a dev account")?.address();

    println!("deploying {} bytes of wasm from alice …", wasm.len());
    let (address, receipt) = client.deploy(&alice, &wasm, json!({"supply": 1_000_000})).await?;
    println!("token at {address} (block {}, fee {})", receipt.location.block_height, receipt.fee);

    let token = client.contract(address).await?;
    if let Some(abi) = token.abi() {
        print!("{}", abi.summary());
    }
    let outcome = token.call(&alice, "transfer", json!({"to": bob, "amount": 250})).await?;
    println!("transfer: gas {}, fee {}", outcome.receipt.gas_used, outcome.receipt.fee);
    for event in &outcome.events {
        println!(
            "  event {}: {}",
            event.name.as_deref().unwrap_or("?"),
            event.fields.clone().unwrap_or_default()
        );
    }
    let balance = token.query("balance_of", json!({"owner": bob})).await?;
    println!("balance_of(bob) = {balance}");
    Ok(())
}
