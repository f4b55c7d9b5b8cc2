//! The [`Sandbox`]: a one-validator chain on in-memory state that signs real transactions, builds
//! real blocks with the runtime's `BlockBuilder` and commits them, with cheats a test needs
//! (funded accounts, time travel, snapshots).
//!
//! Funding is the one thing that does not go through a transaction: a balance set by
//! [`Sandbox::account`] or [`Sandbox::set_balance`] is held as a pending state write, visible at
//! once to reads and queries, and committed into the Merkle tree together with the next block
//! (whose header carries the state root including it).

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex, OnceLock},
};

use ed25519_dalek::SigningKey;
use parity_scale_codec::{Decode, Encode};
use serde_json::Value;
use weft_abi::{Abi, AbiError, DecodedEvent, Revert, TypeRef};
use weft_runtime::{
    BlockBuilder, BlockEnv, Genesis, PushError, Runtime, RuntimeError, SharedBackend, StateBackend,
    StateError,
    gas::SCHEDULE,
    state::{memory::MemoryState, tree},
};
use weft_types::{
    Account, Action, Address, Amount, ChainId, Event, ExecError, ExecStatus, Gas, Hash, Header, MethodName,
    Receipt, SignedTransaction, Transaction,
    codec::BoundedBytes,
    limits::MAX_TX_GAS,
    sha3_256,
    state::{ACCOUNT_PREFIX, account_key, code_key, storage_key},
    tx::address_of,
};

use crate::{CallError, dev_key};

/// The balance [`Sandbox::account`] gives a new account: 10^30, as the dev chain gives its
/// accounts.
pub const DEFAULT_BALANCE: Amount = weft_types::dev::DEV_BALANCE;
/// The gas limit of a call or instantiation when [`CallOpts::gas_limit`] is `None`.
pub const DEFAULT_GAS_LIMIT: Gas = 100_000_000;
/// Milliseconds between two blocks.
pub const BLOCK_INTERVAL_MS: u64 = 1_000;
/// Timestamp of the genesis block (2023-11-14T22:13:20Z).
pub const GENESIS_TIMESTAMP_MS: u64 = 1_700_000_000_000;
/// The sandbox's chain id.
pub const CHAIN_ID: ChainId = 1;

/// How a sandbox chain is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxConfig {
    /// Chain id of every transaction.
    pub chain_id: ChainId,
    /// The runtime's minimum gas price, which every transaction offers. 0 by default, so that
    /// balances move only by values and storage deposits and a test can assert them exactly;
    /// set it above 0 to test fees.
    pub gas_price: Amount,
    /// Gas limit of calls and instantiations without an explicit one.
    pub default_gas_limit: Gas,
    /// Balance given by [`Sandbox::account`].
    pub default_balance: Amount,
    /// Milliseconds between blocks.
    pub block_interval_ms: u64,
    /// Timestamp of the genesis block.
    pub genesis_timestamp_ms: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            chain_id: CHAIN_ID,
            gas_price: 0,
            default_gas_limit: DEFAULT_GAS_LIMIT,
            default_balance: DEFAULT_BALANCE,
            block_interval_ms: BLOCK_INTERVAL_MS,
            genesis_timestamp_ms: GENESIS_TIMESTAMP_MS,
        }
    }
}

/// Options of a call or deploy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallOpts {
    /// Native token sent with the call (the method must be payable).
    pub value: Amount,
    /// Gas limit; [`SandboxConfig::default_gas_limit`] when `None`.
    pub gas_limit: Option<Gas>,
}

/// What a successful ABI call produced.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutput {
    /// The return value, decoded with the method's return type.
    pub value: Value,
    /// The events of every contract involved that its ABI could decode, in emission order.
    pub events: Vec<DecodedEvent>,
    /// Every event as emitted.
    pub raw_events: Vec<Event>,
    /// Gas the transaction used (intrinsic gas included).
    pub gas_used: Gas,
    /// The raw return data.
    pub return_data: Vec<u8>,
    /// The transaction's receipt.
    pub receipt: Receipt,
}

impl CallOutput {
    /// The decoded events named `name`.
    pub fn events_named(&self, name: &str) -> Vec<&DecodedEvent> {
        self.events.iter().filter(|e| e.name == name).collect()
    }
}

/// What a successful raw call produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawOutput {
    /// The return data.
    pub return_data: Vec<u8>,
    /// Every event as emitted.
    pub events: Vec<Event>,
    /// Gas the transaction used (intrinsic gas included).
    pub gas_used: Gas,
    /// The transaction's receipt.
    pub receipt: Receipt,
}

/// The state of the chain, which [`Sandbox::snapshot`] copies (cheaply: the state is shared
/// until written).
#[derive(Clone)]
struct Chain {
    /// Committed state, at tree version `head.height`.
    state: Arc<MemoryState>,
    /// Writes made outside transactions (funding), not yet in the tree.
    pending: Arc<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
    head: Header,
    /// Accounts the sandbox has funded by name.
    funded: BTreeSet<Address>,
    /// Deploys so far: the salt of the next one, so every deploy gets a new address.
    deploys: u64,
    /// Receipts of the last block.
    last_receipts: Vec<Receipt>,
}

/// A copy of the chain taken by [`Sandbox::snapshot`], to return to with [`Sandbox::revert`].
#[derive(Clone)]
pub struct Snapshot(Chain);

/// An in-process chain on the real runtime, for contract tests. See the crate documentation.
pub struct Sandbox {
    config: SandboxConfig,
    runtime: Runtime,
    proposer: Address,
    keys: BTreeMap<Address, SigningKey>,
    /// ABIs by code hash (`None`: the code has no `weft:abi` section).
    abis: Mutex<BTreeMap<Hash, Option<Arc<Abi>>>>,
    chain: Chain,
}

/// State reads through the pending writes to the committed state.
struct Layered {
    base: Arc<MemoryState>,
    pending: Arc<BTreeMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl StateBackend for Layered {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.pending.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(key),
        }
    }

    fn get_tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.base.get_tree_node(key)
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A sandbox with the default configuration: chain id 1, gas price 0, genesis at height 0.
    ///
    /// # Panics
    /// If the wasm engine cannot be created (a broken machine, not a test failure).
    pub fn new() -> Self {
        Self::with_config(SandboxConfig::default())
    }

    /// A sandbox with `config`.
    ///
    /// # Panics
    /// If the wasm engine cannot be created.
    pub fn with_config(config: SandboxConfig) -> Self {
        match Self::try_with_config(config) {
            Ok(sb) => sb,
            Err(e) => panic!("cannot start the sandbox: {e}"),
        }
    }

    /// A sandbox with `config`, or why the runtime could not start.
    pub fn try_with_config(config: SandboxConfig) -> Result<Self, RuntimeError> {
        let runtime = shared_runtime(config.chain_id, config.gas_price)?;
        let empty = Arc::new(MemoryState::new());
        let genesis =
            Genesis { timestamp_ms: config.genesis_timestamp_ms, balances: Vec::new(), validators: None };
        let out = runtime.genesis(empty, &genesis).map_err(|e| match e {
            weft_runtime::GenesisError::Runtime(e) => e,
            other => RuntimeError::Engine(other.to_string()),
        })?;
        let mut state = MemoryState::new();
        state.apply(&out.changes);
        Ok(Self {
            proposer: crate::dev_address("validator"),
            config,
            runtime,
            keys: BTreeMap::new(),
            abis: Mutex::new(BTreeMap::new()),
            chain: Chain {
                state: Arc::new(state),
                pending: Arc::new(BTreeMap::new()),
                head: out.block.header,
                funded: BTreeSet::new(),
                deploys: 0,
                last_receipts: Vec::new(),
            },
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// The runtime executing the blocks.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    // ----- accounts -------------------------------------------------------------------------

    /// The account named `name`, with the key [`dev_key`]`(name)`. The first time a name is
    /// asked for (since the chain's start, or the snapshot it was reverted to) it is given
    /// [`SandboxConfig::default_balance`]; the same name always gives the same address.
    pub fn account(&mut self, name: &str) -> Address {
        let address = self.register(name);
        if self.chain.funded.insert(address) {
            let balance = self.account_info(address).balance.saturating_add(self.config.default_balance);
            self.set_balance(address, balance);
        }
        address
    }

    /// The account named `name` with a balance of exactly `balance` (set now, whatever it was).
    pub fn funded_account(&mut self, name: &str, balance: Amount) -> Address {
        let address = self.register(name);
        self.chain.funded.insert(address);
        self.set_balance(address, balance);
        address
    }

    /// Registers `key` so the sandbox can sign for its address, without funding it.
    pub fn add_key(&mut self, key: SigningKey) -> Address {
        let address = address_of(&key);
        self.keys.insert(address, key);
        address
    }

    fn register(&mut self, name: &str) -> Address {
        self.add_key(dev_key(name))
    }

    /// Sets the balance of `address` outside any transaction (a cheat: it changes the total
    /// supply). Visible at once; committed with the next block.
    pub fn set_balance(&mut self, address: Address, balance: Amount) {
        let mut account = self.account_info(address);
        account.balance = balance;
        let value = (account != Account::default()).then(|| account.encode());
        Arc::make_mut(&mut self.chain.pending).insert(account_key(&address), value);
    }

    /// The account at `address` (the empty account if there is none).
    pub fn account_info(&self, address: Address) -> Account {
        match self.read(&account_key(&address)) {
            // The runtime wrote it; a value that does not decode is a broken runtime.
            Some(bytes) => Account::decode(&mut &bytes[..])
                .unwrap_or_else(|e| panic!("account {address} does not decode: {e}")),
            None => Account::default(),
        }
    }

    /// The balance of `address`.
    pub fn balance(&self, address: Address) -> Amount {
        self.account_info(address).balance
    }

    /// The nonce of `address`: the number of transactions it has sent.
    pub fn nonce(&self, address: Address) -> u64 {
        self.account_info(address).nonce
    }

    /// The storage deposit held by contract `address`.
    pub fn deposit(&self, address: Address) -> Amount {
        self.account_info(address).deposit
    }

    /// The value at `key` in `contract`'s storage.
    pub fn storage(&self, contract: Address, key: impl AsRef<[u8]>) -> Option<Vec<u8>> {
        self.read(&storage_key(&contract, key.as_ref()))
    }

    /// The sum of every account's balance and deposit: constant across transactions (fees go to
    /// the proposer, deposits stay in the supply); only [`Sandbox::set_balance`] and funding
    /// change it.
    pub fn total_supply(&self) -> Amount {
        let mut accounts: BTreeMap<&[u8], &[u8]> = self
            .chain
            .state
            .kv
            .range(vec![ACCOUNT_PREFIX]..vec![ACCOUNT_PREFIX + 1])
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect();
        for (k, v) in self.chain.pending.iter().filter(|(k, _)| k.first() == Some(&ACCOUNT_PREFIX)) {
            match v {
                Some(v) => accounts.insert(k, v),
                None => accounts.remove(k.as_slice()),
            };
        }
        accounts
            .values()
            .map(|v| match Account::decode(&mut &v[..]) {
                Ok(a) => a.balance.saturating_add(a.deposit),
                Err(e) => panic!("an account does not decode: {e}"),
            })
            .fold(0u128, u128::saturating_add)
    }

    /// The address that proposes every block and receives the fees.
    pub fn proposer(&self) -> Address {
        self.proposer
    }

    fn read(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.chain.pending.get(key) {
            Some(v) => v.clone(),
            None => self.chain.state.kv.get(key).cloned(),
        }
    }

    // ----- time -----------------------------------------------------------------------------

    /// Height of the last block (0 at genesis).
    pub fn height(&self) -> u64 {
        self.chain.head.height
    }

    /// Timestamp of the last block.
    pub fn timestamp_ms(&self) -> u64 {
        self.chain.head.timestamp_ms
    }

    /// The last block's header.
    pub fn head(&self) -> &Header {
        &self.chain.head
    }

    /// The committed state after the last block, for proofs and low-level checks (funding not
    /// yet committed by a block is not in it).
    pub fn committed_state(&self) -> &MemoryState {
        &self.chain.state
    }

    /// The receipts of the last block: for a deploy, the upload's (when the code was new) and
    /// the instantiation's, whose events are the constructor's.
    pub fn last_receipts(&self) -> &[Receipt] {
        &self.chain.last_receipts
    }

    /// The events of the last block, decoded with the ABIs of the contracts that emitted them.
    pub fn last_events(&self) -> Vec<DecodedEvent> {
        let events: Vec<Event> =
            self.chain.last_receipts.iter().flat_map(|r| r.events.iter().cloned()).collect();
        self.decode_events(&events)
    }

    /// The state root after the last block (pending funding not included).
    pub fn state_root(&self) -> Hash {
        self.chain.head.state_root
    }

    /// Produces `n` empty blocks, each [`SandboxConfig::block_interval_ms`] after the last.
    pub fn advance_blocks(&mut self, n: u64) {
        for _ in 0..n {
            let ts = self.next_timestamp();
            self.empty_block(ts);
        }
    }

    /// Moves time forward by `ms`: produces one empty block timestamped `ms` after the last
    /// block (so the height grows by one). Nothing happens for 0.
    pub fn advance_time(&mut self, ms: u64) {
        if ms > 0 {
            let ts = self.chain.head.timestamp_ms.saturating_add(ms);
            self.empty_block(ts);
        }
    }

    fn empty_block(&mut self, timestamp_ms: u64) {
        if let Err(e) = self.block(Vec::new(), timestamp_ms) {
            panic!("an empty block failed: {e}");
        }
    }

    fn next_timestamp(&self) -> u64 {
        self.chain.head.timestamp_ms.saturating_add(self.config.block_interval_ms)
    }

    /// The environment of the next block, in which queries run.
    fn next_env(&self) -> BlockEnv {
        BlockEnv {
            height: self.chain.head.height + 1,
            timestamp_ms: self.next_timestamp(),
            proposer: self.proposer,
        }
    }

    // ----- snapshots ------------------------------------------------------------------------

    /// A copy of the whole chain (state, head, funded names, deploy counter); cheap.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot(self.chain.clone())
    }

    /// Returns the chain to `snapshot`. Keys registered since stay known (they are derived
    /// from names), but accounts funded since are unfunded again.
    pub fn revert(&mut self, snapshot: Snapshot) {
        self.chain = snapshot.0;
    }

    // ----- blocks and transactions ----------------------------------------------------------

    fn backend(&self) -> SharedBackend {
        if self.chain.pending.is_empty() {
            self.chain.state.clone()
        } else {
            Arc::new(Layered { base: self.chain.state.clone(), pending: self.chain.pending.clone() })
        }
    }

    /// Builds, executes and commits one block of `txs`, every one of which must be includable
    /// (otherwise nothing changes).
    fn block(&mut self, txs: Vec<SignedTransaction>, timestamp_ms: u64) -> Result<Vec<Receipt>, CallError> {
        let mut builder =
            BlockBuilder::new(&self.runtime, self.backend(), &self.chain.head, timestamp_ms, self.proposer);
        for tx in txs {
            builder.push(tx).map_err(push_error)?;
        }
        let out = builder.finish()?;
        let mut header = out.block.header;
        let state = Arc::make_mut(&mut self.chain.state);
        if self.chain.pending.is_empty() {
            state.apply(&out.changes);
        } else {
            // Fold the pending writes in below the block's own writes and commit them together.
            let mut kv = std::mem::take(Arc::make_mut(&mut self.chain.pending));
            kv.extend(out.changes.kv);
            kv.retain(|k, v| v.is_some() || state.kv.contains_key(k));
            let changes = tree::commit(&*state, header.height, kv).map_err(RuntimeError::from)?;
            state.apply(&changes);
            header.state_root = changes.root;
        }
        self.chain.head = header;
        self.chain.last_receipts = out.receipts.clone();
        Ok(out.receipts)
    }

    fn key(&self, from: Address) -> Result<&SigningKey, CallError> {
        self.keys.get(&from).ok_or_else(|| {
            CallError::Invalid(format!(
                "the sandbox has no key for {from}: create the account with Sandbox::account or add_key"
            ))
        })
    }

    fn sign(
        &self,
        from: Address,
        nonce: u64,
        gas_limit: Gas,
        action: Action,
    ) -> Result<SignedTransaction, CallError> {
        let key = self.key(from)?;
        let tx = Transaction {
            chain_id: self.config.chain_id,
            sender: from,
            nonce,
            gas_limit,
            gas_price: self.config.gas_price,
            action,
        };
        Ok(tx.sign(key))
    }

    /// Signs `action` from `from` and runs it in its own block; returns the receipt, whatever
    /// its status.
    fn run(&mut self, from: Address, gas_limit: Gas, action: Action) -> Result<Receipt, CallError> {
        let tx = self.sign(from, self.nonce(from), gas_limit, action)?;
        let ts = self.next_timestamp();
        let mut receipts = self.block(vec![tx], ts)?;
        receipts.pop().ok_or_else(|| CallError::Invalid("the block has no receipt".into()))
    }

    /// Signs `tx` and runs it in its own block, exactly as a node would include it: use this
    /// for actions the other methods do not cover. Returns the receipt, whatever its status.
    pub fn send(&mut self, from: Address, gas_limit: Gas, action: Action) -> Result<Receipt, CallError> {
        self.run(from, gas_limit, action)
    }

    /// Moves `amount` of the native token from `from` to `to` in a transfer transaction.
    pub fn transfer(&mut self, from: Address, to: Address, amount: Amount) -> Result<Receipt, CallError> {
        let gas = SCHEDULE.intrinsic(512).saturating_add(SCHEDULE.transfer);
        let receipt = self.run(from, gas, Action::Transfer { to, amount })?;
        match &receipt.status {
            ExecStatus::Success => Ok(receipt),
            ExecStatus::Failed(error) => {
                Err(CallError::Failed { error: error.clone(), gas_used: receipt.gas_used })
            }
        }
    }

    // ----- deploying ------------------------------------------------------------------------

    /// Uploads `wasm` (if it is not on chain yet) and returns its code hash.
    pub fn upload(&mut self, from: Address, wasm: &[u8]) -> Result<Hash, CallError> {
        let hash = sha3_256(wasm);
        if self.read(&code_key(&hash)).is_some() {
            return Ok(hash);
        }
        let tx = self.upload_tx(from, self.nonce(from), wasm)?;
        let ts = self.next_timestamp();
        let receipt = self.block(vec![tx], ts)?.pop();
        match receipt {
            Some(r) if r.is_success() => Ok(hash),
            Some(r) => Err(failure(&r, None)),
            None => Err(CallError::Invalid("the block has no receipt".into())),
        }
    }

    fn upload_tx(&self, from: Address, nonce: u64, wasm: &[u8]) -> Result<SignedTransaction, CallError> {
        let code = BoundedBytes::new(wasm.to_vec()).map_err(|e| CallError::Invalid(e.to_string()))?;
        // Intrinsic gas for the transaction's size plus the upload charge (per byte and the
        // compile weight; code that does not validate is refused whatever its gas), with room.
        let weight = weft_runtime::vm::prepare::prepare(wasm).map_or(0, |p| p.compile_weight);
        let gas = SCHEDULE
            .intrinsic(wasm.len() + 256)
            .saturating_add(SCHEDULE.upload(wasm.len(), weight))
            .saturating_mul(11)
            / 10;
        self.sign(from, nonce, gas.min(MAX_TX_GAS), Action::UploadCode { code })
    }

    /// Deploys `wasm` from `from`: uploads it (unless already on chain) and instantiates it
    /// with the constructor arguments `args` encoded by the module's ABI (`null`, `{}` or `[]`
    /// for none), in one block. Every deploy creates a new contract (the salt is a counter).
    pub fn deploy(&mut self, from: Address, wasm: &[u8], args: Value) -> Result<Address, CallError> {
        self.deploy_with(from, wasm, args, CallOpts::default())
    }

    /// [`Sandbox::deploy`] with a value for a payable constructor, or a gas limit.
    pub fn deploy_with(
        &mut self,
        from: Address,
        wasm: &[u8],
        args: Value,
        opts: CallOpts,
    ) -> Result<Address, CallError> {
        let abi = Abi::from_wasm(wasm)?;
        let input = match &abi {
            Some(abi) => abi.encode_constructor(&args)?,
            None if is_empty_args(&args) => Vec::new(),
            None => {
                return Err(CallError::Invalid(
                    "the module has no weft:abi section, so constructor arguments cannot be encoded: \
                     use deploy_raw"
                        .into(),
                ));
            }
        };
        let error_ty = abi.as_ref().and_then(|a| a.constructor.as_ref()).and_then(|c| c.error.clone());
        self.instantiate(from, wasm, input, opts, abi.map(Arc::new), error_ty)
    }

    /// Deploys `wasm` with raw constructor `input` (no ABI needed).
    pub fn deploy_raw(
        &mut self,
        from: Address,
        wasm: &[u8],
        input: impl AsRef<[u8]>,
        opts: CallOpts,
    ) -> Result<Address, CallError> {
        let abi = Abi::from_wasm(wasm).ok().flatten().map(Arc::new);
        self.instantiate(from, wasm, input.as_ref().to_vec(), opts, abi, None)
    }

    /// Replaces `contract`'s code with `wasm` (uploaded if the chain lacks it) as its admin
    /// `from`, running the new code's `migrate` with JSON `args` encoded by the new code's ABI,
    /// in one transaction; returns its receipt (its events include `weft:Upgraded`).
    pub fn upgrade(
        &mut self,
        from: Address,
        contract: Address,
        wasm: &[u8],
        args: Value,
    ) -> Result<Receipt, CallError> {
        let abi = Abi::from_wasm(wasm)?;
        let input = match &abi {
            Some(abi) => abi.encode_migrate(&args)?,
            None if is_empty_args(&args) => Vec::new(),
            None => {
                return Err(CallError::Invalid(
                    "the module has no weft:abi section, so migrate arguments cannot be encoded".into(),
                ));
            }
        };
        let code_hash = self.upload(from, wasm)?;
        let args = BoundedBytes::new(input).map_err(|e| CallError::Invalid(e.to_string()))?;
        let action = Action::Upgrade { contract, code_hash, args };
        let receipt = self.run(from, self.config.default_gas_limit, action)?;
        if let ExecStatus::Failed(_) = receipt.status {
            let error_ty = abi.as_ref().and_then(|a| a.migrate.as_ref()).and_then(|m| m.error.clone());
            return Err(failure(&receipt, abi.as_ref().map(|a| (a, error_ty.as_ref()))));
        }
        Ok(receipt)
    }

    /// Makes `admin` the one who may upgrade `contract`, as its admin `from`; `None` makes it
    /// immutable.
    pub fn set_admin(
        &mut self,
        from: Address,
        contract: Address,
        admin: Option<Address>,
    ) -> Result<Receipt, CallError> {
        let receipt = self.run(from, self.config.default_gas_limit, Action::SetAdmin { contract, admin })?;
        match &receipt.status {
            ExecStatus::Success => Ok(receipt),
            ExecStatus::Failed(_) => Err(failure(&receipt, None)),
        }
    }

    fn instantiate(
        &mut self,
        from: Address,
        wasm: &[u8],
        input: Vec<u8>,
        opts: CallOpts,
        abi: Option<Arc<Abi>>,
        error_ty: Option<TypeRef>,
    ) -> Result<Address, CallError> {
        let code_hash = sha3_256(wasm);
        let mut nonce = self.nonce(from);
        let mut txs = Vec::new();
        if self.read(&code_key(&code_hash)).is_none() {
            txs.push(self.upload_tx(from, nonce, wasm)?);
            nonce += 1;
        }
        let salt = self.chain.deploys.to_le_bytes().to_vec();
        let action = Action::Instantiate {
            code_hash,
            args: BoundedBytes::new(input).map_err(|e| CallError::Invalid(e.to_string()))?,
            value: opts.value,
            salt: BoundedBytes::new(salt).map_err(|e| CallError::Invalid(e.to_string()))?,
        };
        txs.push(self.sign(from, nonce, opts.gas_limit.unwrap_or(self.config.default_gas_limit), action)?);
        let ts = self.next_timestamp();
        let receipts = self.block(txs, ts)?;
        self.chain.deploys += 1;
        if let Some(abi) = &abi {
            self.cache_abi(code_hash, Some(abi.clone()));
        }
        // An upload that failed makes the instantiation fail too; its error is the one to show.
        if let [upload, _] = &receipts[..]
            && !upload.is_success()
        {
            return Err(failure(upload, None));
        }
        let Some(receipt) = receipts.last() else {
            return Err(CallError::Invalid("the block has no receipt".into()));
        };
        match (&receipt.status, receipt.contract_address) {
            (ExecStatus::Success, Some(address)) => Ok(address),
            (ExecStatus::Success, None) => {
                Err(CallError::Invalid("instantiation created no contract".into()))
            }
            (ExecStatus::Failed(_), _) => {
                Err(failure(receipt, abi.as_deref().map(|a| (a, error_ty.as_ref()))))
            }
        }
    }

    // ----- ABIs -----------------------------------------------------------------------------

    fn cache_abi(&self, code_hash: Hash, abi: Option<Arc<Abi>>) {
        self.abis.lock().unwrap_or_else(|p| p.into_inner()).insert(code_hash, abi);
    }

    fn abi_by_code(&self, code_hash: &Hash) -> Result<Option<Arc<Abi>>, CallError> {
        if let Some(hit) = self.abis.lock().unwrap_or_else(|p| p.into_inner()).get(code_hash) {
            return Ok(hit.clone());
        }
        let Some(code) = self.read(&code_key(code_hash)) else { return Ok(None) };
        let abi = Abi::from_wasm(&code)?.map(Arc::new);
        self.cache_abi(*code_hash, abi.clone());
        Ok(abi)
    }

    /// The ABI of the contract at `contract`, `None` if its code has no `weft:abi` section or
    /// there is no contract there.
    pub fn abi(&self, contract: Address) -> Result<Option<Arc<Abi>>, CallError> {
        match self.account_info(contract).code_hash {
            Some(h) => self.abi_by_code(&h),
            None => Ok(None),
        }
    }

    fn require_abi(&self, contract: Address) -> Result<Arc<Abi>, CallError> {
        if self.account_info(contract).code_hash.is_none() {
            return Err(CallError::Invalid(format!("no contract at {contract}")));
        }
        self.abi(contract)?.ok_or_else(|| {
            CallError::Invalid(format!(
                "the contract at {contract} has no weft:abi section: use call_raw / query_raw"
            ))
        })
    }

    /// Decodes every event whose contract's ABI knows it.
    pub fn decode_events(&self, events: &[Event]) -> Vec<DecodedEvent> {
        events
            .iter()
            .filter_map(|e| self.abi(e.contract).ok().flatten().and_then(|abi| abi.decode_event(e)))
            .collect()
    }

    // ----- calls ----------------------------------------------------------------------------

    /// Calls `method` of `contract` from `from` with JSON `args` encoded by the contract's ABI,
    /// in one signed transaction in its own block.
    pub fn call(
        &mut self,
        from: Address,
        contract: Address,
        method: &str,
        args: Value,
    ) -> Result<CallOutput, CallError> {
        self.call_with(from, contract, method, args, CallOpts::default())
    }

    /// [`Sandbox::call`] with a value (payable methods) or a gas limit.
    pub fn call_with(
        &mut self,
        from: Address,
        contract: Address,
        method: &str,
        args: Value,
        opts: CallOpts,
    ) -> Result<CallOutput, CallError> {
        let abi = self.require_abi(contract)?;
        let m = abi.method(method).ok_or_else(|| AbiError::UnknownMethod(method.to_owned()))?;
        let input = abi.encode_args(&m.args, &args)?;
        let receipt = self.call_receipt(from, contract, method, input, opts)?;
        if let ExecStatus::Failed(_) = receipt.status {
            return Err(failure(&receipt, Some((&abi, m.error.as_ref()))));
        }
        let value = abi.decode_value(&m.returns, &receipt.return_data)?;
        Ok(CallOutput {
            value,
            events: self.decode_events(&receipt.events),
            raw_events: receipt.events.clone(),
            gas_used: receipt.gas_used,
            return_data: receipt.return_data.clone(),
            receipt,
        })
    }

    /// Calls `method` with raw `input` (no ABI needed).
    pub fn call_raw(
        &mut self,
        from: Address,
        contract: Address,
        method: &str,
        input: impl AsRef<[u8]>,
        opts: CallOpts,
    ) -> Result<RawOutput, CallError> {
        let receipt = self.call_receipt(from, contract, method, input.as_ref().to_vec(), opts)?;
        if let ExecStatus::Failed(_) = receipt.status {
            let abi = self.abi(contract).ok().flatten();
            let error_ty = abi.as_ref().and_then(|a| a.method(method)).and_then(|m| m.error.clone());
            return Err(failure(&receipt, abi.as_deref().map(|a| (a, error_ty.as_ref()))));
        }
        Ok(RawOutput {
            return_data: receipt.return_data.clone(),
            events: receipt.events.clone(),
            gas_used: receipt.gas_used,
            receipt,
        })
    }

    /// Calls `method` with SCALE-encoded `args` and decodes the return data as `R`.
    pub fn call_typed<R: Decode>(
        &mut self,
        from: Address,
        contract: Address,
        method: &str,
        args: &impl Encode,
    ) -> Result<R, CallError> {
        let out = self.call_raw(from, contract, method, args.encode(), CallOpts::default())?;
        decode_exact(&out.return_data)
    }

    fn call_receipt(
        &mut self,
        from: Address,
        contract: Address,
        method: &str,
        input: Vec<u8>,
        opts: CallOpts,
    ) -> Result<Receipt, CallError> {
        let method = MethodName::new(method).map_err(|e| CallError::Invalid(e.to_string()))?;
        let args = BoundedBytes::new(input).map_err(|e| CallError::Invalid(e.to_string()))?;
        let action = Action::Call { contract, method, args, value: opts.value };
        self.run(from, opts.gas_limit.unwrap_or(self.config.default_gas_limit), action)
    }

    // ----- queries --------------------------------------------------------------------------

    /// Runs read-only `method` of `contract` with JSON `args` and decodes its return value. No
    /// transaction, no block, no change; it runs as if in the next block, with the zero address
    /// as caller.
    pub fn query(&self, contract: Address, method: &str, args: Value) -> Result<Value, CallError> {
        self.query_as(Address::default(), contract, method, args)
    }

    /// [`Sandbox::query`] with `caller` as the caller.
    pub fn query_as(
        &self,
        caller: Address,
        contract: Address,
        method: &str,
        args: Value,
    ) -> Result<Value, CallError> {
        let abi = self.require_abi(contract)?;
        let m = abi.method(method).ok_or_else(|| AbiError::UnknownMethod(method.to_owned()))?;
        let input = abi.encode_args(&m.args, &args)?;
        let (result, gas_used) = self.query_inner(caller, contract, method, input)?;
        match result {
            Ok(data) => Ok(abi.decode_value(&m.returns, &data)?),
            Err(error) => Err(exec_failure(error, gas_used, Some((&abi, m.error.as_ref())))),
        }
    }

    /// Runs `method` read-only with raw `input` and returns the raw return data.
    pub fn query_raw(
        &self,
        contract: Address,
        method: &str,
        input: impl AsRef<[u8]>,
    ) -> Result<Vec<u8>, CallError> {
        let (result, gas_used) =
            self.query_inner(Address::default(), contract, method, input.as_ref().to_vec())?;
        result.map_err(|error| {
            let abi = self.abi(contract).ok().flatten();
            let error_ty = abi.as_ref().and_then(|a| a.method(method)).and_then(|m| m.error.clone());
            exec_failure(error, gas_used, abi.as_deref().map(|a| (a, error_ty.as_ref())))
        })
    }

    /// Runs `method` read-only with SCALE-encoded `args` and decodes the return data as `R`.
    pub fn query_typed<R: Decode>(
        &self,
        contract: Address,
        method: &str,
        args: &impl Encode,
    ) -> Result<R, CallError> {
        decode_exact(&self.query_raw(contract, method, args.encode())?)
    }

    fn query_inner(
        &self,
        caller: Address,
        contract: Address,
        method: &str,
        input: Vec<u8>,
    ) -> Result<(Result<Vec<u8>, ExecError>, Gas), CallError> {
        let out = self.runtime.query(
            self.backend(),
            self.next_env(),
            caller,
            contract,
            method,
            input,
            self.config.default_gas_limit,
        )?;
        Ok((out.result, out.gas_used))
    }
}

/// One runtime per chain id and gas price for the whole process: sandboxes share its engine and
/// compiled-module cache, so a contract is compiled once per test process rather than once per
/// test. The cache affects speed only, never results (the runtime's own invariant).
fn shared_runtime(chain_id: ChainId, min_gas_price: Amount) -> Result<Runtime, RuntimeError> {
    static RUNTIMES: OnceLock<Mutex<BTreeMap<(ChainId, Amount), Runtime>>> = OnceLock::new();
    let mut map = RUNTIMES.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    if let Some(rt) = map.get(&(chain_id, min_gas_price)) {
        return Ok(rt.clone());
    }
    let rt = Runtime::new(chain_id, min_gas_price)?;
    map.insert((chain_id, min_gas_price), rt.clone());
    Ok(rt)
}

fn is_empty_args(args: &Value) -> bool {
    match args {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn decode_exact<R: Decode>(bytes: &[u8]) -> Result<R, CallError> {
    let ty = std::any::type_name::<R>();
    let mut input = bytes;
    let value = R::decode(&mut input).map_err(|e| CallError::Decode { ty, reason: e.to_string() })?;
    if !input.is_empty() {
        return Err(CallError::Decode { ty, reason: format!("{} trailing bytes", input.len()) });
    }
    Ok(value)
}

fn push_error(e: PushError) -> CallError {
    match e {
        PushError::Tx(e) => CallError::NotIncludable(e),
        PushError::BlockFull(what) => {
            CallError::Invalid(format!("the transaction does not fit a block: {what}"))
        }
        PushError::Runtime(e) => CallError::Runtime(e),
    }
}

/// The error of a failed receipt. `abi` decodes the revert data of the called contract with the
/// method's error type (a transaction's revert always comes from the contract it called: a
/// callee's failure is only a result code for its caller).
fn failure(receipt: &Receipt, abi: Option<(&Abi, Option<&TypeRef>)>) -> CallError {
    match &receipt.status {
        ExecStatus::Failed(error) => exec_failure(error.clone(), receipt.gas_used, abi),
        ExecStatus::Success => CallError::Invalid("the transaction succeeded".into()),
    }
}

fn exec_failure(error: ExecError, gas_used: Gas, abi: Option<(&Abi, Option<&TypeRef>)>) -> CallError {
    match error {
        ExecError::Reverted { data, .. } => {
            let revert = match abi {
                Some((abi, error_ty)) => abi.decode_revert(error_ty, &data),
                None => Revert::untyped(&data),
            };
            CallError::Reverted { revert, gas_used }
        }
        error => CallError::Failed { error, gas_used },
    }
}
