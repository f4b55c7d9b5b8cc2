//! The commands: each turns parsed arguments into calls on `weft-client` and a [`Report`].

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context as _, Result, anyhow, bail};
use futures_util::StreamExt as _;
use serde_json::{Value, json};
use weft_client::{
    Client, ClientError, ClientStream, DeployOptions, Keystore, Signer, TxOptions, WaitFor,
    api::{BlockId, Conflict, EventFilter, HeaderInfo, TxInfo},
};
use weft_types::{Address, Amount, Hash, dev::DEV_ACCOUNTS};

use crate::{
    args::{Cli, Command, Global, KeysCommand, TxArgs, Wait},
    output::{Report, event_text, print_line, receipt_text, value_text, with_spinner},
};

/// The signer used when `--from` is not given.
const DEFAULT_SIGNER: &str = "alice";
/// The most events `weft events` collects without --follow.
const MAX_EVENTS: usize = 100_000;

/// Runs one command.
pub async fn run(cli: Cli) -> Result<Report> {
    let g = &cli.global;
    match cli.command {
        Command::Keys(cmd) => keys(g, cmd),
        Command::Balance { who } => balance(g, &who).await,
        Command::Transfer { to, amount, tx } => transfer(g, &to, &amount, &tx).await,
        Command::Deploy { file, args, value, salt, tx } => deploy(g, file, args, &value, salt, &tx).await,
        Command::Upgrade { contract, file, args, input, tx } => {
            upgrade(g, &contract, &file, args, input, &tx).await
        }
        Command::Admin { contract, admin } => set_admin(g, &contract, &admin).await,
        Command::Call { contract, method, args, value, tx } => {
            call(g, &contract, &method, args, &value, &tx).await
        }
        Command::Query { contract, method, args, caller } => query(g, &contract, &method, args, caller).await,
        Command::Events { contract, event, from_block, to_block, follow, limit } => {
            events(g, contract, event, from_block, to_block, follow, limit).await
        }
        Command::Block { id, full } => block(g, id.as_deref(), full).await,
        Command::Tx { hash } => tx(g, &hash).await,
        Command::Status => status(g).await,
        Command::Abi { contract } => abi(g, &contract).await,
        Command::Bench(args) => crate::bench::run(&g.rpc, args).await,
        Command::Build { path, verbose } => build(path, verbose).await,
        Command::New { name, dir, template } => new(&name, dir, template),
    }
}

// ----- parsing helpers -----

/// An amount: a whole number of base units.
pub fn parse_amount(text: &str) -> Result<Amount, ClientError> {
    text.trim().parse::<Amount>().map_err(|_| {
        ClientError::InvalidInput(format!(
            "amount `{text}` must be a whole number of base units (0 to 2^128-1), like 1000"
        ))
    })
}

/// Method or constructor arguments from the command line: JSON, or — when the text is not
/// JSON and does not look like an object, array or string — the text itself as one string
/// argument (so `weft query C balance_of 0xab…` works without quotes).
pub fn parse_args_json(text: Option<&str>) -> Result<Value, ClientError> {
    let Some(text) = text else { return Ok(Value::Null) };
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(e) if text.trim_start().starts_with(['{', '[', '"']) => {
            Err(ClientError::InvalidInput(format!("the arguments are not valid JSON: {e}")))
        }
        Err(_) => Ok(Value::String(text.to_string())),
    }
}

/// A block id: a height, a `0x` hash, `head`/`latest` or `finalized`.
pub fn parse_block_id(text: &str) -> Result<BlockId, ClientError> {
    match text {
        "head" | "latest" => Ok(BlockId::Head),
        "finalized" => Ok(BlockId::Finalized),
        t if t.starts_with("0x") => t
            .parse()
            .map(BlockId::Hash)
            .map_err(|e| ClientError::InvalidInput(format!("`{t}` is not a block hash: {e}"))),
        t => t.parse().map(BlockId::Height).map_err(|_| {
            ClientError::InvalidInput(format!(
                "`{t}` is not a block height, a 0x block hash, `head` or `finalized`"
            ))
        }),
    }
}

fn parse_hash(text: &str) -> Result<Hash, ClientError> {
    text.parse().map_err(|e| ClientError::InvalidInput(format!("`{text}` is not a transaction hash: {e}")))
}

fn keystore(g: &Global) -> Result<Keystore> {
    match &g.keystore {
        Some(dir) => Ok(Keystore::new(dir)),
        None => Keystore::default_dir()
            .map(Keystore::new)
            .ok_or_else(|| anyhow!("no home directory to put ~/.weft/keys in; pass --keystore DIR")),
    }
}

fn resolve(g: &Global, who: &str) -> Result<Address> {
    Ok(keystore(g)?.resolve_address(who)?)
}

fn signer(g: &Global) -> Result<Signer> {
    Ok(keystore(g)?.resolve_signer(g.from.as_deref().unwrap_or(DEFAULT_SIGNER))?)
}

fn signer_label(s: &Signer) -> String {
    match s.name() {
        Some(name) => format!("{name} ({})", s.address()),
        None => s.address().to_string(),
    }
}

/// Replaces account names (dev accounts, keystore keys) given for top-level `address`
/// arguments with their addresses, so that `weft query TOKEN balance_of bob` works.
fn resolve_address_args(g: &Global, args: &[weft_abi::Arg], json: &mut Value) -> Result<()> {
    let is_address = |a: &weft_abi::Arg| a.ty == weft_abi::TypeRef::Address;
    let fix = |v: &mut Value| -> Result<()> {
        if let Value::String(s) = v
            && !s.starts_with("0x")
        {
            *v = json!(resolve(g, s)?);
        }
        Ok(())
    };
    match json {
        Value::Object(map) => {
            for arg in args.iter().filter(|a| is_address(a)) {
                if let Some(v) = map.get_mut(&arg.name) {
                    fix(v)?;
                }
            }
        }
        Value::Array(items) if items.len() == args.len() => {
            for (arg, v) in args.iter().zip(items) {
                if is_address(arg) {
                    fix(v)?;
                }
            }
        }
        v @ Value::String(_) if args.len() == 1 && is_address(&args[0]) => fix(v)?,
        _ => {}
    }
    Ok(())
}

fn resolve_method_args(
    g: &Global,
    contract: &weft_client::Contract,
    method: &str,
    json: &mut Value,
) -> Result<()> {
    match contract.abi().and_then(|abi| abi.method(method)) {
        Some(m) => resolve_address_args(g, &m.args, json),
        None => Ok(()),
    }
}

async fn connect(g: &Global) -> Result<Client> {
    Ok(Client::connect(&g.rpc).await?)
}

fn tx_options(tx: &TxArgs) -> Result<TxOptions> {
    Ok(TxOptions {
        gas_limit: tx.gas_limit,
        gas_price: tx.gas_price.as_deref().map(parse_amount).transpose()?,
        nonce: None,
        wait: match tx.wait {
            Wait::Included => WaitFor::Included,
            Wait::Finalized => WaitFor::Finalized,
        },
        timeout: Some(Duration::from_secs(tx.timeout)),
    })
}

fn waiting(tx: &TxArgs) -> &'static str {
    match tx.wait {
        Wait::Included => "inclusion",
        Wait::Finalized => "finality",
    }
}

// ----- keys -----

fn keys(g: &Global, cmd: KeysCommand) -> Result<Report> {
    let store = keystore(g)?;
    match cmd {
        KeysCommand::New { name } => {
            let key = store.create(&name)?;
            let path = store.path_of(&name);
            Ok(Report::new(
                json!({ "name": name, "address": key.address(), "path": path, "encrypted": false }),
                format!(
                    "created key `{name}`\n  address  {}\n  file     {}\n\
                     note: the key file is NOT encrypted (mode 0600); anyone who can read it controls the account",
                    key.address(),
                    path.display()
                ),
            ))
        }
        KeysCommand::List => {
            let keys = store.list()?;
            let dev: Vec<Value> = DEV_ACCOUNTS
                .iter()
                .map(|n| json!({ "name": n, "address": weft_types::dev::dev_address(n) }))
                .collect();
            let mut human = format!("keys in {}:\n", store.dir().display());
            if keys.is_empty() {
                human.push_str("  (none; create one with `weft keys new NAME`)\n");
            }
            for k in &keys {
                human.push_str(&format!("  {:<16} {}\n", k.name, k.address));
            }
            human.push_str("dev accounts (public keys, for dev chains only):\n");
            for n in DEV_ACCOUNTS {
                human.push_str(&format!("  {:<16} {}\n", n, weft_types::dev::dev_address(n)));
            }
            Ok(Report::new(json!({ "keys": keys, "dev_accounts": dev }), human))
        }
        KeysCommand::Show { name, secret } => {
            let key = store.resolve_signer(&name)?;
            let mut obj = json!({ "name": key.name().unwrap_or(&name), "address": key.address() });
            let mut human = format!("{}\n  address  {}\n", key.name().unwrap_or(&name), key.address());
            if secret {
                obj["secret_key"] = json!(key.secret_hex());
                human.push_str(&format!("  secret   {}\n", key.secret_hex()));
            }
            Ok(Report::new(obj, human))
        }
    }
}

// ----- accounts and transfers -----

async fn balance(g: &Global, who: &str) -> Result<Report> {
    let address = resolve(g, who)?;
    let client = connect(g).await?;
    let account = client.account(address).await?;
    let mut human = format!(
        "{who}\n  address  {}\n  balance  {}\n  nonce    {}\n",
        address, account.balance, account.nonce
    );
    if let Some(code) = account.code_hash {
        human.push_str(&format!(
            "  code     {code}\n  storage  {} bytes, deposit {}\n",
            account.storage_bytes, account.deposit
        ));
    }
    human.push_str(&format!("  (at block {})", account.height));
    Ok(Report::new(serde_json::to_value(&account)?, human))
}

async fn transfer(g: &Global, to: &str, amount: &str, tx: &TxArgs) -> Result<Report> {
    let to = resolve(g, to)?;
    let amount = parse_amount(amount)?;
    let from = signer(g)?;
    let options = tx_options(tx)?;
    let client = connect(g).await?;
    let action = weft_types::Action::Transfer { to, amount };
    let receipt = with_spinner(
        format!("sending {amount} from {} to {to}, waiting for {}", signer_label(&from), waiting(tx)),
        client.send(&from, action, &options),
    )
    .await?;
    let human = format!("transferred {amount} to {to}\n{}", receipt_text(&receipt));
    Ok(Report::new(json!({ "tx_hash": receipt.tx_hash, "receipt": receipt }), human))
}

// ----- contracts -----

async fn deploy(
    g: &Global,
    file: PathBuf,
    args: Option<String>,
    value: &str,
    salt: Option<String>,
    tx: &TxArgs,
) -> Result<Report> {
    let wasm = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut args = parse_args_json(args.as_deref())?;
    if let Ok(Some(abi)) = weft_abi::Abi::from_wasm(&wasm)
        && let Some(constructor) = &abi.constructor
    {
        resolve_address_args(g, &constructor.args, &mut args)?;
    }
    let salt = salt
        .map(|s| weft_types::hex::decode(&s).map_err(|e| ClientError::InvalidInput(format!("--salt: {e}"))))
        .transpose()?;
    let options = DeployOptions { salt, value: parse_amount(value)?, tx: tx_options(tx)? };
    let from = signer(g)?;
    let client = connect(g).await?;
    let deployed = with_spinner(
        format!(
            "deploying {} ({} bytes) from {}, waiting for {}",
            file.display(),
            wasm.len(),
            signer_label(&from),
            waiting(tx)
        ),
        client.deploy_with(&from, &wasm, args, &options),
    )
    .await?;
    let mut human = format!(
        "deployed {}\n  address    {}\n  code hash  {}\n",
        file.display(),
        deployed.address,
        deployed.code_hash
    );
    match &deployed.upload {
        Some(r) => {
            human.push_str(&format!("  upload     {} (gas {}, fee {})\n", r.tx_hash, r.gas_used, r.fee))
        }
        None => human.push_str("  upload     skipped: the code was already on chain\n"),
    }
    human.push_str(&receipt_text(&deployed.receipt));
    Ok(Report::new(
        json!({
            "address": deployed.address,
            "code_hash": deployed.code_hash,
            "upload": deployed.upload,
            "receipt": deployed.receipt,
        }),
        human,
    ))
}

async fn upgrade(
    g: &Global,
    contract: &str,
    file: &Path,
    args: Option<String>,
    input: Option<String>,
    tx: &TxArgs,
) -> Result<Report> {
    let wasm = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let input = match (args, input) {
        (Some(args), _) => {
            let abi = weft_abi::Abi::from_wasm(&wasm)?.ok_or_else(|| {
                ClientError::InvalidInput(format!("{} carries no ABI: give --input as hex", file.display()))
            })?;
            let mut json = parse_args_json(Some(&args))?;
            if let Some(migrate) = &abi.migrate {
                resolve_address_args(g, &migrate.args, &mut json)?;
            }
            abi.encode_migrate(&json)?
        }
        (None, Some(hex)) => {
            weft_types::hex::decode(&hex).map_err(|e| ClientError::InvalidInput(format!("--input: {e}")))?
        }
        (None, None) => Vec::new(),
    };
    let contract = resolve(g, contract)?;
    let (from, options) = (signer(g)?, tx_options(tx)?);
    let client = connect(g).await?;
    let upload_options = TxOptions { gas_limit: None, nonce: None, ..options.clone() };
    let (code_hash, upload) = client.upload(&from, &wasm, &upload_options).await?;
    let receipt = with_spinner(
        format!(
            "upgrading {contract} to {} from {}, waiting for {}",
            file.display(),
            signer_label(&from),
            waiting(tx)
        ),
        client.upgrade(&from, contract, code_hash, input, &options),
    )
    .await?;
    let human = format!(
        "upgraded {contract}
  code hash  {code_hash}
{}",
        receipt_text(&receipt)
    );
    Ok(Report::new(
        json!({ "contract": contract, "code_hash": code_hash, "upload": upload, "receipt": receipt }),
        human,
    ))
}

async fn set_admin(g: &Global, contract: &str, admin: &str) -> Result<Report> {
    let contract = resolve(g, contract)?;
    let admin = if admin == "none" { None } else { Some(resolve(g, admin)?) };
    let from = signer(g)?;
    let client = connect(g).await?;
    let receipt = client.set_admin(&from, contract, admin).await?;
    let what = admin.map_or_else(|| "immutable: nobody may upgrade it".to_owned(), |a| format!("admin {a}"));
    let human = format!(
        "{contract} is now {what}
{}",
        receipt_text(&receipt)
    );
    Ok(Report::new(json!({ "contract": contract, "admin": admin, "receipt": receipt }), human))
}

async fn call(
    g: &Global,
    contract: &str,
    method: &str,
    args: Option<String>,
    value: &str,
    tx: &TxArgs,
) -> Result<Report> {
    let address = resolve(g, contract)?;
    let mut args = parse_args_json(args.as_deref())?;
    let value = parse_amount(value)?;
    let options = tx_options(tx)?;
    let from = signer(g)?;
    let client = connect(g).await?;
    let handle = client.contract(address).await?;
    resolve_method_args(g, &handle, method, &mut args)?;
    let outcome = with_spinner(
        format!("calling {method} on {address} from {}, waiting for {}", signer_label(&from), waiting(tx)),
        handle.call_with(&from, method, args, value, &options),
    )
    .await?;
    let mut human = String::new();
    if !outcome.value.is_null() {
        human.push_str(&format!("returned {}\n", value_text(&outcome.value)));
    }
    human.push_str(&receipt_text(&outcome.receipt));
    Ok(Report::new(
        json!({ "value": outcome.value, "events": outcome.events, "receipt": outcome.receipt }),
        human,
    ))
}

async fn query(
    g: &Global,
    contract: &str,
    method: &str,
    args: Option<String>,
    caller: Option<String>,
) -> Result<Report> {
    let address = resolve(g, contract)?;
    let mut args = parse_args_json(args.as_deref())?;
    let caller = caller.map(|c| resolve(g, &c)).transpose()?;
    let client = connect(g).await?;
    let handle = client.contract(address).await?;
    resolve_method_args(g, &handle, method, &mut args)?;
    let result = handle.query_full(method, args, caller).await?;
    if !result.success {
        let error =
            result.error.ok_or_else(|| ClientError::Protocol("a failed query without an error".into()))?;
        return Err(ClientError::QueryFailed { error: Box::new(error) }.into());
    }
    let value = match result.value.clone() {
        Some(v) => v,
        None => match handle.abi() {
            Some(abi) => abi.decode_return(method, &result.return_data.0).unwrap_or(Value::Null),
            None => json!(weft_types::hex::encode(&result.return_data.0)),
        },
    };
    let mut human = value_text(&value);
    for e in &result.events {
        human.push_str(&format!("\nevent {}", event_text(e)));
    }
    Ok(Report::new(
        json!({ "value": value, "gas_used": result.gas_used, "events": result.events, "height": result.height }),
        human,
    ))
}

async fn abi(g: &Global, contract: &str) -> Result<Report> {
    let address = resolve(g, contract)?;
    let client = connect(g).await?;
    match client.abi_json(address).await? {
        None => Ok(Report::new(
            json!({ "address": address, "abi": null }),
            format!("contract {address} carries no ABI: call it with raw 0x input"),
        )),
        Some(json) => {
            let parsed = weft_abi::Abi::from_json(&json.to_string())
                .map_err(|e| ClientError::Protocol(format!("the node returned an invalid ABI: {e}")))?;
            let title = match (parsed.contract.as_str(), parsed.version.as_str()) {
                ("", _) => format!("contract {address}"),
                (name, "") => format!("{name} at {address}"),
                (name, version) => format!("{name} {version} at {address}"),
            };
            Ok(Report::new(
                json!({ "address": address, "abi": json }),
                format!("{title}\n{}", parsed.summary()),
            ))
        }
    }
}

// ----- chain -----

#[allow(clippy::too_many_arguments)]
async fn events(
    g: &Global,
    contract: Option<String>,
    event: Option<String>,
    from_block: Option<u64>,
    to_block: Option<u64>,
    follow: bool,
    limit: Option<usize>,
) -> Result<Report> {
    // `events` never signs, so the global `--from` is the first block here.
    let from_flag = g
        .from
        .as_deref()
        .map(|f| {
            f.parse::<u64>()
                .map_err(|_| ClientError::InvalidInput(format!("--from `{f}` must be a block height here")))
        })
        .transpose()?;
    let filter = EventFilter {
        contract: contract.map(|c| resolve(g, &c)).transpose()?,
        event,
        from_block: from_block.or(from_flag),
        to_block,
        ..EventFilter::default()
    };
    let client = connect(g).await?;
    let limit = limit.unwrap_or(usize::MAX);
    if !follow {
        let mut found = client.events(filter, MAX_EVENTS).await?;
        found.truncate(limit);
        let human = if found.is_empty() {
            "no events".to_string()
        } else {
            found.iter().map(event_text).collect::<Vec<_>>().join("\n")
        };
        return Ok(Report::new(json!({ "events": found }), human));
    }
    // Follow: past events first when a start block is given, then new ones, within
    // [--from-block, --to]: live events before the first block are skipped, and following ends
    // once the chain is past the last one.
    let (first, last) = (filter.from_block.unwrap_or(0), filter.to_block);
    let mut stream = client.subscribe_events(filter.clone()).await?;
    let mut heads = match last {
        Some(_) => Some(client.subscribe_finalized().await?),
        None => None,
    };
    let mut printed = 0usize;
    // Stops quietly when stdout is closed (`weft events --follow | head -3`).
    let print = |e: &weft_rpc_api::EventInfo| -> bool {
        let line = if g.json { serde_json::to_string(e).unwrap_or_default() } else { event_text(e) };
        print_line(&line).is_ok()
    };
    let mut last_past: Option<u64> = None;
    if filter.from_block.is_some() {
        for e in client.events(filter, MAX_EVENTS).await? {
            if printed == limit {
                return Ok(Report::streamed());
            }
            last_past = e.block_height.or(last_past);
            if !print(&e) {
                return Ok(Report::streamed());
            }
            printed += 1;
        }
    }
    if let Some(to) = last
        && client.finalized_head().await?.height >= to
    {
        return Ok(Report::streamed());
    }
    while printed < limit {
        let e = tokio::select! {
            e = stream.next() => e,
            head = next_head(&mut heads) => {
                match (head, last) {
                    (Some(Ok(head)), Some(to)) if head.height > to => break,
                    (Some(_), _) => {}
                    // No more heads: events alone decide from here.
                    (None, _) => heads = None,
                }
                continue;
            }
        };
        let Some(e) = e else {
            bail!(ClientError::Transport("the node closed the event subscription".into()));
        };
        let e = e?;
        let height = e.block_height.unwrap_or(0);
        // Skip what the history already printed (the subscription may overlap it), and what
        // is before the first block asked for.
        if last_past.is_some_and(|h| height <= h) || height < first {
            continue;
        }
        if last.is_some_and(|to| height > to) {
            break;
        }
        if !print(&e) {
            break;
        }
        printed += 1;
    }
    Ok(Report::streamed())
}

/// The next finalized head from `heads`; never, when there is no stream.
async fn next_head(heads: &mut Option<ClientStream<HeaderInfo>>) -> Option<weft_client::Result<HeaderInfo>> {
    match heads {
        Some(heads) => heads.next().await,
        None => std::future::pending().await,
    }
}

async fn block(g: &Global, id: Option<&str>, full: bool) -> Result<Report> {
    let id = id.map(parse_block_id).transpose()?.unwrap_or(BlockId::Head);
    let client = connect(g).await?;
    let Some(block) = client.block(id, full).await? else {
        bail!(ClientError::InvalidInput(format!("the node has no block {}", serde_json::to_string(&id)?)));
    };
    let h = &block.header;
    let mut human = format!(
        "block {} {}\n  parent     {}\n  time       {} ms\n  proposer   {}\n  state root {}\n  gas used   {}\n  txs        {}\n",
        h.height, h.hash, h.parent_hash, h.timestamp_ms, h.proposer, h.state_root, h.gas_used, h.tx_count
    );
    match &block.transactions {
        Some(txs) => {
            for t in txs {
                human.push_str(&format!("    {}\n", tx_line(t)));
            }
        }
        None => {
            for hash in &block.tx_hashes {
                human.push_str(&format!("    {hash}\n"));
            }
        }
    }
    Ok(Report::new(serde_json::to_value(&block)?, human))
}

fn tx_line(t: &TxInfo) -> String {
    use weft_rpc_api::ActionInfo as A;
    let what = match &t.action {
        A::Transfer { to, amount } => format!("transfer {amount} to {to}"),
        A::UploadCode { code_hash, size } => format!("upload code {code_hash} ({size} bytes)"),
        A::Instantiate { code_hash, value, .. } => format!("instantiate {code_hash} (value {value})"),
        A::Call { contract, method, value, .. } => format!("call {method} on {contract} (value {value})"),
        A::Upgrade { contract, code_hash, .. } => format!("upgrade {contract} to code {code_hash}"),
        A::SetAdmin { contract, admin: Some(admin) } => format!("make {admin} the admin of {contract}"),
        A::SetAdmin { contract, admin: None } => format!("make {contract} immutable"),
    };
    format!("{} from {} nonce {}: {what}", t.hash, t.sender, t.nonce)
}

async fn tx(g: &Global, hash: &str) -> Result<Report> {
    let hash = parse_hash(hash)?;
    let client = connect(g).await?;
    let Some(info) = client.transaction(hash).await? else {
        bail!(ClientError::InvalidInput(format!("the node knows no transaction {hash}")));
    };
    let receipt = client.receipt(hash).await?;
    let mut human = format!(
        "{}\n  chain {} gas limit {} gas price {}\n",
        tx_line(&info),
        info.chain_id,
        info.gas_limit,
        info.gas_price
    );
    match &receipt {
        Some(r) => human.push_str(&receipt_text(r)),
        None => human.push_str("  pending: not in a block yet\n"),
    }
    Ok(Report::new(json!({ "transaction": info, "receipt": receipt }), human))
}

async fn status(g: &Global) -> Result<Report> {
    let client = connect(g).await?;
    let info = client.node_info().await?;
    let health = client.health().await?;
    let evidence = client.evidence().await?;
    let mut human = format!(
        "node {} ({})\n  chain id       {}\n  height         {}\n  finalized      {}\n  min gas price  {}\n  \
         validator      {}\n  dev            {}\n  peers          {}\n  pending txs    {}\n  healthy        {}{}\n  \
         evidence       {}",
        g.rpc,
        info.version,
        info.chain_id,
        info.height,
        info.finalized_height,
        info.min_gas_price,
        info.validator,
        info.dev,
        health.peers,
        health.pending_txs,
        health.healthy,
        if health.syncing { " (syncing)" } else { "" },
        evidence.len(),
    );
    // Each piece names a validator that signed two conflicting messages.
    for e in &evidence {
        let what = match &e.conflict {
            Conflict::Votes { first, second } => format!("votes {} and {}", first.kind, second.kind),
            Conflict::Proposals { .. } => "two proposals".to_owned(),
        };
        human.push_str(&format!("\n    view {} validator {}: {what}", e.view, e.offender));
    }
    Ok(Report::new(json!({ "rpc": g.rpc, "node": info, "health": health, "evidence": evidence }), human))
}

// ----- contract crates -----

async fn build(path: Option<String>, verbose: bool) -> Result<Report> {
    let target = path.unwrap_or_else(|| ".".into());
    // A directory is named by its full path in the output, a package by its name.
    let target = match std::fs::canonicalize(&target) {
        Ok(dir) if dir.is_dir() && !dir.join("Cargo.toml").is_file() => {
            bail!(ClientError::InvalidInput(format!(
                "{} has no Cargo.toml: give a contract crate's directory, or create one with `weft new NAME`",
                dir.display()
            )))
        }
        Ok(dir) if dir.is_dir() => dir.display().to_string(),
        _ => target,
    };
    let options = weft_build::BuildOptions { verbose, ..weft_build::BuildOptions::default() };
    let what = target.clone();
    let job = tokio::task::spawn_blocking(move || weft_build::build_contract(&what, &options));
    let built = if verbose { job.await? } else { with_spinner(format!("building {target}"), job).await? }?;
    let json = json!({
        "name": built.name,
        "wasm_path": built.wasm_path,
        "size": built.size,
        "code_hash": built.code_hash,
        "methods": built.methods,
        "has_constructor": built.has_constructor,
        "abi": built.abi,
    });
    let human = format!("{}checks: passed (the node's upload validation)", built.summary());
    Ok(Report::new(json, human))
}

fn new(name: &str, dir: Option<PathBuf>, template: crate::template::Template) -> Result<Report> {
    let parent = dir.unwrap_or_else(|| PathBuf::from("."));
    let created = crate::template::create(&parent, name, template)?;
    Ok(Report::new(
        json!({ "name": name, "path": created }),
        format!(
            "created contract crate `{name}` in {}\nnext: cd {} && weft build && cargo test",
            created.display(),
            created.display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_whole_numbers() {
        assert_eq!(parse_amount("1000").expect("int"), 1000);
        assert_eq!(parse_amount(&u128::MAX.to_string()).expect("max"), u128::MAX);
        for bad in ["-1", "1.5", "1e3", "", "ten", "340282366920938463463374607431768211456"] {
            let err = parse_amount(bad).expect_err(bad);
            assert!(err.to_string().contains("whole number"), "{err}");
        }
    }

    #[test]
    fn args_are_json_or_one_bare_string() {
        assert_eq!(parse_args_json(None).expect("none"), Value::Null);
        assert_eq!(parse_args_json(Some(r#"{"a": 1}"#)).expect("obj"), json!({"a": 1}));
        assert_eq!(parse_args_json(Some("[1, \"2\"]")).expect("arr"), json!([1, "2"]));
        assert_eq!(parse_args_json(Some("5")).expect("num"), json!(5));
        let addr = format!("0x{}", "ab".repeat(32));
        assert_eq!(parse_args_json(Some(&addr)).expect("bare"), json!(addr));
        assert!(parse_args_json(Some("{oops")).is_err());
        assert!(parse_args_json(Some("[1,")).is_err());
    }

    #[test]
    fn account_names_in_address_arguments_resolve() {
        let dir = tempfile::tempdir().expect("tempdir");
        let g = Global {
            rpc: "ws://127.0.0.1:1".into(),
            from: None,
            json: false,
            keystore: Some(dir.path().into()),
        };
        let abi = weft_abi::Abi::from_json(
            r#"{"weft_abi": 1, "methods": [{"name": "t", "args": [
                {"name": "to", "type": "address"}, {"name": "note", "type": "string"}]}]}"#,
        )
        .expect("abi");
        let args = &abi.method("t").expect("t").args;
        let bob = weft_types::dev::dev_address("bob");
        let mut obj = json!({"to": "bob", "note": "bob"});
        resolve_address_args(&g, args, &mut obj).expect("resolves");
        assert_eq!(obj, json!({"to": bob, "note": "bob"}), "only address arguments change");
        let mut arr = json!(["bob", "alice"]);
        resolve_address_args(&g, args, &mut arr).expect("resolves");
        assert_eq!(arr, json!([bob, "alice"]));
        let mut unknown = json!({"to": "nobody", "note": ""});
        assert!(resolve_address_args(&g, args, &mut unknown).is_err());
    }

    #[test]
    fn block_ids() {
        assert_eq!(parse_block_id("7").expect("h"), BlockId::Height(7));
        assert_eq!(parse_block_id("head").expect("head"), BlockId::Head);
        assert_eq!(parse_block_id("finalized").expect("fin"), BlockId::Finalized);
        let hash = format!("0x{}", "11".repeat(32));
        assert_eq!(parse_block_id(&hash).expect("hash"), BlockId::Hash(hash.parse().expect("hash")));
        assert!(parse_block_id("0x12").is_err());
        assert!(parse_block_id("-3").is_err());
    }

    #[test]
    fn signer_and_addresses_resolve_through_the_keystore() {
        let dir = tempfile::tempdir().expect("tempdir");
        let g = Global {
            rpc: "ws://127.0.0.1:1".into(),
            from: None,
            json: false,
            keystore: Some(dir.path().into()),
        };
        assert_eq!(signer(&g).expect("default").address(), weft_types::dev::dev_address("alice"));
        let g = Global { from: Some("bob".into()), ..g };
        assert_eq!(signer(&g).expect("bob").address(), weft_types::dev::dev_address("bob"));
        let store = Keystore::new(dir.path());
        let mine = store.create("mine").expect("create");
        assert_eq!(resolve(&g, "mine").expect("mine"), mine.address());
        let err = resolve(&g, "0xnothex").expect_err("bad");
        assert!(err.to_string().contains("not a valid address"), "{err}");
        let g = Global { from: Some("mine".into()), ..g };
        assert_eq!(signer(&g).expect("mine").address(), mine.address());
    }
}
