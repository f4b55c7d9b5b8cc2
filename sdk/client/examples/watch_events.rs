//! Prints contract events as their blocks are committed, until Ctrl-C.
//!
//! ```text
//! cargo run -p weft-client --example watch_events -- [CONTRACT] [EVENT]
//! ```
//!
//! `CONTRACT` (a `0x` address) and `EVENT` (an event name such as `Transfer`) narrow the
//! stream; without them every event is shown. The node is `ws://127.0.0.1:9944` unless
//! `WEFT_RPC` says otherwise.

use anyhow::Context as _;
use futures_util::StreamExt as _;
use weft_client::{Client, DEFAULT_URL, api::EventFilter};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("WEFT_RPC").unwrap_or_else(|_| DEFAULT_URL.into());
    let mut args = std::env::args().skip(1);
    let contract = args.next().map(|a| a.parse()).transpose().context("CONTRACT must be a 0x address")?;
    let filter = EventFilter { contract, event: args.next(), ..EventFilter::default() };

    let client = Client::connect(&url).await.context("is `weft-node dev` running?")?;
    let mut events = client.subscribe_events(filter).await?;
    let mut heads = client.subscribe_finalized().await?;
    println!("watching {url} (Ctrl-C to stop)");
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            head = heads.next() => match head {
                Some(head) => {
                    let head = head?;
                    println!("finalized block {} ({} txs)", head.height, head.tx_count);
                }
                None => anyhow::bail!("the node closed the subscription"),
            },
            event = events.next() => match event {
                Some(event) => {
                    let e = event?;
                    let name = e.name.as_deref().unwrap_or("(undecoded)");
                    let fields = e.fields.map(|f| f.to_string()).unwrap_or_else(|| format!("{:?}", e.data));
                    println!("  block {} {}: {name} {fields}", e.block_height.unwrap_or_default(), e.contract);
                }
                None => anyhow::bail!("the node closed the subscription"),
            },
        }
    }
}
