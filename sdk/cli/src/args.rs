//! The command line: global flags and subcommands, as clap parses them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The weft developer CLI: keys, transfers, contracts, blocks and events of a Weft node.
#[derive(Debug, Parser)]
#[command(name = "weft", version, about, propagate_version = true)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The node's RPC URL (ws:// or http://; both name the same port).
    #[arg(long, global = true, env = "WEFT_RPC", default_value = weft_client::DEFAULT_URL)]
    pub rpc: String,
    /// Who signs: a dev account (alice, bob, …), a keystore name or a key file. Default: alice.
    /// For `events`, the first block instead.
    #[arg(long, global = true, value_name = "NAME|KEYFILE")]
    pub from: Option<String>,
    /// Print exactly one JSON object on stdout (JSON lines for `events --follow`).
    #[arg(long, global = true)]
    pub json: bool,
    /// The keystore directory. Default: ~/.weft/keys.
    #[arg(long, global = true, env = "WEFT_KEYSTORE", value_name = "DIR")]
    pub keystore: Option<PathBuf>,
}

/// Transaction options of the commands that sign.
#[derive(Debug, Args, Clone)]
pub struct TxArgs {
    /// Gas limit. Default: a dry run plus a margin (a failing dry run stops the send).
    #[arg(long)]
    pub gas_limit: Option<u64>,
    /// Gas price. Default: the node's minimum.
    #[arg(long)]
    pub gas_price: Option<String>,
    /// What to wait for.
    #[arg(long, value_enum, default_value_t = Wait::Finalized)]
    pub wait: Wait,
    /// Seconds to wait before giving up.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
}

/// What a signing command waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Wait {
    /// The transaction is in a block.
    Included,
    /// Its block is final.
    Finalized,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Manage keys in the keystore (unencrypted key files).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Balance and nonce of an account.
    Balance {
        /// An address, a dev account name or a keystore name.
        who: String,
    },
    /// Send native tokens.
    Transfer {
        /// Recipient: an address, a dev account name or a keystore name.
        to: String,
        /// Amount in base units (a whole number).
        amount: String,
        /// Transaction options.
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Upload and instantiate a contract.
    Deploy {
        /// The contract's .wasm file.
        file: PathBuf,
        /// Constructor arguments as JSON (an object by name or an array in order).
        #[arg(long, value_name = "JSON")]
        args: Option<String>,
        /// Native tokens sent to the constructor.
        #[arg(long, default_value = "0")]
        value: String,
        /// Salt of the address (hex). Default: the deploying transaction's nonce.
        #[arg(long, value_name = "HEX")]
        salt: Option<String>,
        /// Transaction options.
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Replace a contract's code (its admin only), uploading the new code if the chain lacks
    /// it; the new code's `migrate` runs with --input when it has one.
    Upgrade {
        /// The contract's address.
        contract: String,
        /// The new code's .wasm file.
        file: PathBuf,
        /// Arguments of the new code's `migrate` as JSON, through its ABI.
        #[arg(long, value_name = "JSON", conflicts_with = "input")]
        args: Option<String>,
        /// Input of the new code's `migrate`, as raw hex.
        #[arg(long, value_name = "HEX")]
        input: Option<String>,
        /// Transaction options.
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Change who may upgrade a contract (its admin only); `none` makes it immutable for good.
    Admin {
        /// The contract's address.
        contract: String,
        /// The new admin (an address or a name), or `none`.
        admin: String,
    },
    /// Call a contract method in a transaction.
    Call {
        /// The contract's address.
        contract: String,
        /// The method.
        method: String,
        /// Arguments as JSON (an object by name, an array in order, or a single bare value).
        args: Option<String>,
        /// Native tokens sent with the call.
        #[arg(long, default_value = "0")]
        value: String,
        /// Transaction options.
        #[command(flatten)]
        tx: TxArgs,
    },
    /// Run a contract method read-only (no transaction, no fee).
    Query {
        /// The contract's address.
        contract: String,
        /// The method.
        method: String,
        /// Arguments as JSON (an object by name, an array in order, or a single bare value).
        args: Option<String>,
        /// The caller the contract sees (default: the zero address).
        #[arg(long, value_name = "WHO")]
        caller: Option<String>,
    },
    /// Past events, or new ones as they come with --follow.
    Events {
        /// Only this contract's events.
        #[arg(long, value_name = "ADDR")]
        contract: Option<String>,
        /// Only events of this name.
        #[arg(long, value_name = "NAME")]
        event: Option<String>,
        /// First block (default 0). `--from N` says the same here: events never sign.
        #[arg(long = "from-block", value_name = "N")]
        from_block: Option<u64>,
        /// Last block (default: the head).
        #[arg(long = "to", alias = "to-block", value_name = "N")]
        to_block: Option<u64>,
        /// Keep printing new events as blocks are committed.
        #[arg(long)]
        follow: bool,
        /// Stop after this many events.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// A block by height or hash (default: the head).
    Block {
        /// A height, a 0x block hash, `head` or `finalized`.
        id: Option<String>,
        /// Show the transactions too.
        #[arg(long)]
        full: bool,
    },
    /// A transaction and its receipt.
    Tx {
        /// The transaction hash.
        hash: String,
    },
    /// The node's chain, heights and health.
    Status,
    /// A contract's ABI.
    Abi {
        /// The contract's address.
        contract: String,
    },
    /// Load-test a node: pre-signed transactions from fresh accounts (or state reads), with
    /// rates, submit-to-finality latency and the node's CPU and memory.
    Bench(crate::bench::BenchArgs),
    /// Build a contract crate to size-optimized wasm and check it as the node would.
    Build {
        /// The contract crate's directory, or a package name of the current workspace
        /// (default: the current directory).
        path: Option<String>,
        /// Show cargo's progress.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Create a new contract crate from the template.
    New {
        /// The crate's name (also its directory).
        name: String,
        /// Where to create it (default: the current directory).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Which template.
        #[arg(long, value_enum, default_value_t = crate::template::Template::Counter)]
        template: crate::template::Template,
    },
}

/// `weft keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a key and store it (unencrypted, mode 0600).
    New {
        /// Its name.
        name: String,
    },
    /// List the stored keys and the dev accounts.
    List,
    /// Show a key's address (a stored key, a dev account or a key file).
    Show {
        /// The key.
        name: String,
        /// Print the secret key too.
        #[arg(long)]
        secret: bool,
    },
}
