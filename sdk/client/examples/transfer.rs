//! Sends native tokens from a dev account and waits for finality.
//!
//! ```text
//! cargo run -p weft-client --example transfer -- [TO] [AMOUNT]
//! ```
//!
//! `TO` is a dev account name or a `0x` address (default `bob`), `AMOUNT` a whole number of base
//! units (default 1000). The node is `ws://127.0.0.1:9944` unless `WEFT_RPC` says otherwise.

use anyhow::Context as _;
use weft_client::{Client, DEFAULT_URL, Signer};
use weft_types::Address;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("WEFT_RPC").unwrap_or_else(|_| DEFAULT_URL.into());
    let mut args = std::env::args().skip(1);
    let to = args.next().unwrap_or_else(|| "bob".into());
    let to: Address = match Signer::dev(&to) {
        Some(dev) => dev.address(),
        None => to.parse().with_context(|| format!("`{to}` is neither a dev account nor an address"))?,
    };
    let amount: u128 =
        args.next().as_deref().unwrap_or("1000").parse().context("AMOUNT must be a whole number")?;

    let client = Client::connect(&url).await.context("is `weft-node dev` running?")?;
    let alice = Signer::dev("alice").context("alice is a dev account")?;
    println!("sending {amount} from alice ({}) to {to} …", alice.address());
    let receipt = client.transfer(&alice, to, amount).await?;
    println!(
        "finalized in block {} (tx {}), gas {}, fee {}",
        receipt.location.block_height, receipt.tx_hash, receipt.gas_used, receipt.fee
    );
    println!("balance of {to}: {}", client.account(to).await?.balance);
    Ok(())
}
