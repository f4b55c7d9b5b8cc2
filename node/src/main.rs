//! The `weft-node` binary: command-line parsing, logging, and running a node until Ctrl-C or SIGTERM.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use weft_node::{
    dev::{DEV_CHAIN_ID, DevConfig, DevNode},
    rpc::{CorsOrigins, RpcConfig, RpcLimits},
};
use weft_types::{
    dev::{DEV_ACCOUNTS, DEV_BALANCE, dev_address, dev_key},
    hex::Hex,
};

#[derive(Parser)]
#[command(name = "weft-node", version, about = "The Weft node")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a single-validator development chain with funded dev accounts.
    Dev(DevArgs),
    /// Create a node home: a p2p key, a validator key and a config.
    Init(InitArgs),
    /// Write a ready local network: a genesis and one home per validator.
    Testnet(TestnetArgs),
    /// Run a validator (or, when its key is not in the genesis set, a follower) of a network.
    Run(RunArgs),
    /// Print the evidence of equivocation a stopped node kept (one line per piece).
    Evidence(RunArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// The node's config file (`node.toml` of a home written by `init` or `testnet`).
    #[arg(long)]
    config: PathBuf,
}

#[derive(clap::Args)]
struct InitArgs {
    /// The node's home directory.
    #[arg(long)]
    home: PathBuf,
    /// The network's genesis file (written into the config).
    #[arg(long, default_value = "genesis.json")]
    genesis: PathBuf,
    /// JSON-RPC address.
    #[arg(long, default_value = "127.0.0.1:9944")]
    rpc_addr: SocketAddr,
    /// p2p listen multiaddr.
    #[arg(long, default_value = "/ip4/127.0.0.1/tcp/30333")]
    p2p_listen: String,
}

#[derive(clap::Args)]
struct TestnetArgs {
    /// How many validators.
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Where to write it (must not hold a genesis yet).
    #[arg(long)]
    out: PathBuf,
    /// Node i serves JSON-RPC on 127.0.0.1:(P+i) and p2p on 127.0.0.1:(P+N+i).
    #[arg(long, default_value_t = 9944)]
    base_port: u16,
    /// Chain id.
    #[arg(long, default_value_t = 7000)]
    chain_id: u64,
}

#[derive(clap::Args)]
struct DevArgs {
    /// JSON-RPC address (HTTP and WebSocket on one port); port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:9944")]
    rpc_addr: SocketAddr,
    /// Keep the chain in this directory (default: a temporary directory, removed at exit).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Produce a block every this many milliseconds, even when idle (default: a block as soon
    /// as transactions arrive).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    block_time: Option<u64>,
    /// Chain id.
    #[arg(long, default_value_t = DEV_CHAIN_ID)]
    chain_id: u64,
    /// Deploy the example contracts at start (built from this source tree).
    #[arg(long)]
    with_examples: bool,
    #[command(flatten)]
    rpc: RpcLimits,
    /// Web origins whose pages may call the HTTP endpoint (CORS): `*` (the default here),
    /// `none`, or a comma-separated list of `scheme://host[:port]`.
    #[arg(long, value_name = "ORIGINS", default_value = "*")]
    rpc_cors: CorsOrigins,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("WEFT_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new("info,jsonrpsee=warn,libp2p_gossipsub=error")
        }))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    match cli.command {
        Command::Dev(args) => runtime.block_on(dev(args)),
        Command::Run(args) => runtime.block_on(run(args)),
        Command::Evidence(args) => {
            let config = weft_node::config::NodeConfig::load(&args.config)?;
            let path = config.data_dir.join("chain.redb");
            let store = weft_node::store::Store::open(&path)
                .with_context(|| format!("opening {} (is the node still running?)", path.display()))?;
            let evidence = store.evidence()?;
            for e in &evidence {
                let kind = match e {
                    weft_types::consensus::Evidence::ConflictingVotes(a, b) => {
                        format!("conflicting votes {:?} and {:?}", a.vote, b.vote)
                    }
                    weft_types::consensus::Evidence::ConflictingProposals(a, b) => format!(
                        "two proposals, of blocks {} and {}",
                        a.proposal.block_hash, b.proposal.block_hash
                    ),
                };
                println!("view {} validator {}: {kind}", e.view(), e.offender());
            }
            eprintln!("{} piece(s) of evidence", evidence.len());
            Ok(())
        }
        Command::Init(args) => {
            let name = args.home.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let home = weft_node::testnet::init_home(
                &args.home,
                &name,
                &args.genesis,
                args.rpc_addr,
                args.p2p_listen,
            )?;
            println!("node home {}", home.dir.display());
            println!("  config     {}", home.config.display());
            println!("  peer id    {}", home.peer_id);
            println!("  validator  {} (add it to the genesis validators to vote)", home.validator);
            Ok(())
        }
        Command::Testnet(args) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let homes = weft_node::testnet::write_testnet(
                args.validators,
                &args.out,
                args.base_port,
                args.chain_id,
                now,
            )?;
            println!("testnet of {} validators in {}", homes.len(), args.out.display());
            for (i, home) in homes.iter().enumerate() {
                println!(
                    "  node{i}  rpc 127.0.0.1:{}  peer {}  validator {}",
                    usize::from(args.base_port) + i,
                    home.peer_id,
                    home.validator
                );
            }
            Ok(())
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this returns, so a
/// signal sent as soon as the node says it is ready stops it cleanly instead of killing it.
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let config = weft_node::config::NodeConfig::load(&args.config)?;
    let mut node = weft_node::validator::ValidatorNode::start(&config)
        .await
        .with_context(|| format!("starting the node of {}", args.config.display()))?;
    let stop = stop_signal()?;
    let addr = node.rpc_addr();
    println!("weft-node ready: rpc=http://{addr}");
    tokio::select! {
        () = stop => {}
        stopped = node.stopped() => {
            node.shutdown().await;
            anyhow::bail!("the validator stopped: {stopped}");
        }
    }
    eprintln!("shutting down");
    node.shutdown().await;
    Ok(())
}

async fn dev(args: DevArgs) -> anyhow::Result<()> {
    let config = DevConfig {
        rpc_addr: args.rpc_addr,
        data_dir: args.data_dir,
        block_time: args.block_time.map(Duration::from_millis),
        chain_id: args.chain_id,
        rpc: args
            .rpc
            .apply(RpcConfig { cors: args.rpc_cors, ..RpcConfig::default() })
            // Named as the flag the value came from.
            .map_err(|e| {
                anyhow::anyhow!(
                    "--rpc-{} is {}; it must be at least {}",
                    e.name.replace('_', "-"),
                    e.value,
                    e.min
                )
            })?,
        examples: if args.with_examples { example_contracts()? } else { Vec::new() },
        ..DevConfig::default()
    };
    let node = DevNode::start(config).await.context("starting the dev chain")?;
    println!("Weft dev chain {} — data in {}", args.chain_id, node.data_dir().display());
    println!("Dev accounts (public keys: never use them on a real network), {DEV_BALANCE} each:");
    for name in DEV_ACCOUNTS {
        println!("  {name:<8} {}  secret {}", dev_address(name), Hex(&dev_key(name).to_bytes()));
    }
    for (name, address) in node.examples() {
        println!("  example {name:<14} {address}");
    }
    let stop = stop_signal()?;
    let addr = node.rpc_addr();
    println!("JSON-RPC: http://{addr} and ws://{addr}");
    println!("weft-node ready: rpc=http://{addr}");
    stop.await;
    eprintln!("shutting down");
    node.shutdown().await;
    Ok(())
}

/// The example contracts deployed by `--with-examples`, in order, with their constructor
/// arguments (JSON through each contract's ABI). `$token` stands for the token's address.
const EXAMPLES: &[(&str, &str)] = &[
    ("token", r#"{"supply": "1000000000000"}"#),
    ("nft", r#"{"name": "Weft Art", "price": "1000"}"#),
    ("voting", "{}"),
    ("supply-chain", "{}"),
    ("ip-registry", "{}"),
    ("escrow", r#"{"token": "$token"}"#),
];

/// Builds the example contracts of this source tree (`contracts/*`) and encodes their
/// constructor arguments. Their addresses are known in advance: alice deploys each with its
/// name as the salt.
fn example_contracts() -> anyhow::Result<Vec<weft_node::examples::Example>> {
    let alice = dev_address("alice");
    let mut token = None;
    let mut out = Vec::new();
    for (name, args) in EXAMPLES {
        let package = format!("weft-example-{name}");
        eprintln!("building {package}…");
        let built = weft_build::build_cached(&package)
            .with_context(|| format!("building {package} (run from the Weft source tree)"))?;
        let address = weft_types::Address::contract(&alice, &built.code_hash, name.as_bytes());
        let args = match token {
            Some(t) => args.replace("$token", &format!("{t}")),
            None => (*args).to_owned(),
        };
        let json: serde_json::Value = serde_json::from_str(&args).context("example arguments")?;
        let encoded = match &built.abi {
            Some(abi) if abi.constructor.is_some() => abi.encode_constructor(&json)?,
            _ => Vec::new(),
        };
        if *name == "token" {
            token = Some(address);
        }
        out.push(weft_node::examples::Example {
            name: (*name).to_owned(),
            wasm: built.wasm.clone(),
            args: encoded,
        });
    }
    Ok(out)
}
