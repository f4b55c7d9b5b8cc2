//! Transaction execution: the checks and gas around each call frame, nested contract calls with
//! rollback, storage-deposit settlement and fee payment. Frames themselves run in `vm`.
//!
//! The transaction's shared context ([`TxCtx`]: the state overlay, events, call stack) is the
//! [`Host`] of its frames: it is moved into a frame's store for the frame's lifetime and into the
//! callee's store during a nested call, so exactly one frame can touch it at a time.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use weft_types::{
    Account, Action, Address, Amount, Event, ExecError, ExecStatus, Gas, Hash, LimitKind, Receipt,
    SignedTransaction, TrapKind,
    abi::{CONSTRUCTOR, MIGRATE},
    limits::{MAX_CALL_DEPTH, wasm::MAX_STACK_UNITS},
    sha3_256,
    state::{account_key, code_key, storage_key},
};

use crate::{
    error::RuntimeError,
    gas::{GasMeter, GasSchedule, SCHEDULE},
    lifecycle,
    state::{StateError, overlay::Overlay},
    vm::{CallOutcome, CallRequest, Entry, Frame, Host, LoadError, LoadedCode, Role, Vm},
};

/// What execution may know about the block it runs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockEnv {
    /// Height of the block being built.
    pub height: u64,
    /// Its consensus timestamp.
    pub timestamp_ms: u64,
    /// Its proposer, who receives the fees.
    pub proposer: Address,
}

/// State shared by all frames of one execution.
pub struct TxCtx {
    pub(crate) vm: Vm<TxCtx>,
    pub(crate) overlay: Overlay,
    pub(crate) env: BlockEnv,
    pub(crate) events: Vec<Event>,
    /// Contracts currently executing, outermost first.
    pub(crate) call_stack: Vec<Address>,
    /// Accounts whose deposit may have to change: contracts whose storage may have changed and
    /// accounts the transaction created. A superset is harmless (settlement derives each
    /// deposit from the account alone, see [`required_deposit`]), so reverts leave it alone.
    pub(crate) touched: BTreeSet<Address>,
    /// The wasm backtrace of the first trap in this context, innermost frame first: for
    /// diagnostics (queries), never part of a result.
    pub(crate) trap_backtrace: Option<Vec<String>>,
    /// Modules entered earlier in this context (a block, or one query), kept loaded.
    warm: Warm,
    /// The VM tick at which this context's execution must stop (`Vm::execution_deadline`):
    /// only ever set for queries.
    deadline: Option<u64>,
}

/// The modules a block has entered, kept loaded until its end, up to
/// `SCHEDULE.warm_code_bytes` of code in the order first entered: entering one again pays
/// `GasSchedule::enter`, not `GasSchedule::load`. Which code is warm follows from the block's
/// transactions alone (a transaction is never executed and then left out), so every validator
/// charges the same; holding the modules makes the lower price true whatever the node's cache
/// evicts meanwhile.
#[derive(Default)]
struct Warm {
    modules: BTreeMap<Hash, Arc<LoadedCode<TxCtx>>>,
    code_bytes: u64,
}

impl Warm {
    /// Keeps `code` loaded if the bound leaves room for it.
    fn keep(&mut self, code_hash: &Hash, code: &Arc<LoadedCode<TxCtx>>) {
        let bytes = self.code_bytes.saturating_add(u64::from(code.info.code_len));
        if bytes <= SCHEDULE.warm_code_bytes {
            self.modules.insert(*code_hash, code.clone());
            self.code_bytes = bytes;
        }
    }
}

impl TxCtx {
    /// A context over `overlay`.
    pub(crate) fn new(vm: Vm<TxCtx>, overlay: Overlay, env: BlockEnv) -> Box<Self> {
        let deadline = vm.execution_deadline();
        Box::new(Self {
            deadline,
            vm,
            overlay,
            env,
            events: Vec::new(),
            call_stack: Vec::new(),
            touched: BTreeSet::new(),
            trap_backtrace: None,
            warm: Warm::default(),
        })
    }
}

impl Host for TxCtx {
    fn balance(&self, account: &Address) -> Result<Amount, StateError> {
        Ok(self.overlay.account(account)?.balance)
    }

    fn account_exists(&self, account: &Address) -> Result<bool, StateError> {
        Ok(self.overlay.get(&account_key(account))?.is_some())
    }

    fn storage_get(&self, contract: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.overlay.get(&storage_key(contract, key))
    }

    /// Keeps the contract's `storage_bytes` (keys + values) exact and marks it touched for
    /// deposit settlement when that changes.
    fn storage_set(
        &mut self,
        contract: &Address,
        key: Vec<u8>,
        value: Option<Vec<u8>>,
    ) -> Result<bool, StateError> {
        let full_key = storage_key(contract, &key);
        let old = self.overlay.get(&full_key)?;
        let old_bytes = old.as_ref().map_or(0, |v| key.len() + v.len()) as u64;
        let new_bytes = value.as_ref().map_or(0, |v| key.len() + v.len()) as u64;
        if old_bytes != new_bytes {
            let mut account = self.overlay.account(contract)?;
            account.storage_bytes = account.storage_bytes.saturating_sub(old_bytes).saturating_add(new_bytes);
            self.overlay.put_account(contract, &account);
            self.touched.insert(*contract);
        }
        if old.is_some() || value.is_some() {
            self.overlay.set(full_key, value);
        }
        Ok(old.is_some())
    }

    fn event_count(&self) -> usize {
        self.events.len()
    }

    fn emit_event(&mut self, event: Event) {
        self.events.push(event);
    }

    fn block_height(&self) -> u64 {
        self.env.height
    }

    fn block_timestamp_ms(&self) -> u64 {
        self.env.timestamp_ms
    }

    fn transfer(
        &mut self,
        from: &Address,
        to: &Address,
        amount: Amount,
    ) -> Result<Result<(), ExecError>, RuntimeError> {
        let creates = amount != 0 && !self.account_exists(to)?;
        let moved = move_balance(&mut self.overlay, from, to, amount)?;
        if creates && moved.is_ok() {
            self.touched.insert(*to);
        }
        Ok(moved)
    }

    fn call(self: Box<Self>, req: CallRequest) -> Result<(Box<Self>, CallOutcome), RuntimeError> {
        call_contract(self, req)
    }
}

/// Runs a call; on failure everything the callee (and its callees) changed is undone.
pub(crate) fn call_contract(
    tx: Box<TxCtx>,
    req: CallRequest,
) -> Result<(Box<TxCtx>, CallOutcome), RuntimeError> {
    let checkpoint = tx.overlay.checkpoint();
    let events = tx.events.len();
    let (mut tx, outcome) = call_inner(tx, req)?;
    if outcome.result.is_err() {
        tx.overlay.revert_to(checkpoint);
        tx.events.truncate(events);
    }
    Ok((tx, outcome))
}

fn call_inner(mut tx: Box<TxCtx>, req: CallRequest) -> Result<(Box<TxCtx>, CallOutcome), RuntimeError> {
    let mut meter = GasMeter::new(req.gas);
    let fail = |tx, meter: &GasMeter, e| Ok((tx, CallOutcome { result: Err(e), gas_used: meter.used() }));
    if req.depth > MAX_CALL_DEPTH {
        let e = ExecError::LimitExceeded {
            limit: LimitKind::CallDepth,
            value: req.depth as u64,
            max: MAX_CALL_DEPTH as u64,
        };
        return fail(tx, &meter, e);
    }
    let Some(code_hash) = tx.overlay.account(&req.contract)?.code_hash else {
        return fail(tx, &meter, ExecError::ContractNotFound(req.contract));
    };
    let Some(code) = enter(&mut tx, &mut meter, &code_hash)? else {
        return fail(tx, &meter, ExecError::OutOfGas);
    };
    if tx.call_stack.contains(&req.contract) && !code.info.reentrant {
        return fail(tx, &meter, ExecError::ReentrancyRefused(req.contract));
    }
    let callable = match req.entry {
        Entry::Method => code.info.methods.binary_search(&req.method).is_ok(),
        Entry::Constructor => req.method == CONSTRUCTOR && code.info.has_constructor,
        Entry::Migrate => req.method == MIGRATE && code.info.has_migrate,
    };
    if !callable {
        return fail(tx, &meter, ExecError::MethodNotFound { contract: req.contract, method: req.method });
    }
    // Refused early when even the module's costliest frame would not fit; the export counts its
    // own, exact cost when entered, so the frame starts from the units already in use.
    if req.stack_base.saturating_add(code.info.max_frame_cost) > MAX_STACK_UNITS {
        return fail(tx, &meter, ExecError::Trap { contract: req.contract, kind: TrapKind::StackLimit });
    }
    if let Err(e) = move_balance(&mut tx.overlay, &req.caller, &req.contract, req.value)? {
        return fail(tx, &meter, e);
    }
    tx.call_stack.push(req.contract);
    let frame = Frame::new(req.contract, req.caller, req.value, req.input, req.depth);
    let ticks = tx.deadline.map(|d| tx.vm.ticks_left(d));
    let end = code.run(tx, frame, &req.method, meter.remaining(), req.stack_base, ticks)?;
    let mut tx = end.host;
    // Only the context's first trap keeps its backtrace (see `TxCtx::trap_backtrace`).
    if tx.trap_backtrace.is_none() {
        tx.trap_backtrace = end.backtrace;
    }
    tx.call_stack.pop();
    // The frame never uses more than it was given.
    let _ = meter.charge(end.gas_used);
    Ok((tx, CallOutcome { result: end.result, gas_used: meter.used() }))
}

/// Charges entering the code of `code_hash` and returns its module, or `None` when `meter`
/// cannot pay. Code this context has entered before is warm ([`Warm`]); other code pays its
/// load as well, charged before it is loaded.
pub(crate) fn enter(
    tx: &mut TxCtx,
    meter: &mut GasMeter,
    code_hash: &Hash,
) -> Result<Option<Arc<LoadedCode<TxCtx>>>, RuntimeError> {
    if let Some(code) = tx.warm.modules.get(code_hash) {
        let paid = meter.charge(SCHEDULE.enter(code.info.code_len as usize)).is_ok();
        return Ok(paid.then(|| code.clone()));
    }
    if meter.charge(load_cost(tx, code_hash)?).is_err() {
        return Ok(None);
    }
    let code = load_code(tx, code_hash)?;
    tx.warm.keep(code_hash, &code);
    Ok(Some(code))
}

/// What entering code the context has not entered yet costs, charged before it is loaded
/// (`GasSchedule::load`: `call_base`, its size and its compile weight), whether this node has
/// it in memory or not.
fn load_cost(tx: &TxCtx, code_hash: &Hash) -> Result<Gas, RuntimeError> {
    if let Some(cost) = tx.vm.load_cost(code_hash) {
        return Ok(cost);
    }
    // Every code in state has its cost known (from its upload or the node's start); this is only
    // for state the node did not prepare, e.g. a test's. Validating it is work no call pays for,
    // so it is done once per code and remembered.
    let code = stored_code(tx, code_hash)?;
    let prepared = crate::vm::prepare::prepare_at_any_price(&code).map_err(|e| {
        RuntimeError::Engine(format!("stored code {code_hash} passed validation at upload but not now: {e}"))
    })?;
    tx.vm.note_code(code_hash, code.len(), prepared.compile_weight);
    Ok(SCHEDULE.load(code.len(), prepared.compile_weight))
}

/// The compiled module of `code_hash`. Loaded from its artifact; compiled from state only when
/// the artifact is gone (a block VM only: a query VM refuses instead).
fn load_code(tx: &TxCtx, code_hash: &Hash) -> Result<Arc<LoadedCode<TxCtx>>, RuntimeError> {
    // An artifact that cannot be loaded is rebuilt like a missing one.
    if let Ok(Some(code)) = tx.vm.loaded(code_hash) {
        return Ok(code);
    }
    if tx.vm.role() == Role::Queries {
        return Err(RuntimeError::NotCompiled(*code_hash));
    }
    tx.vm.compile(code_hash, &stored_code(tx, code_hash)?).map_err(|e| {
        RuntimeError::Engine(format!("stored code {code_hash} passed validation at upload but not now: {e}"))
    })
}

fn stored_code(tx: &TxCtx, code_hash: &Hash) -> Result<Vec<u8>, RuntimeError> {
    Ok(tx.overlay.get(&code_key(code_hash))?.ok_or_else(|| {
        StateError::Corrupt(format!("a contract refers to code {code_hash}, which is not stored"))
    })?)
}

/// Moves `amount` from `from` to `to` in `overlay`. The outer error is a state fault; the inner
/// one the contract's or sender's.
pub(crate) fn move_balance(
    overlay: &mut Overlay,
    from: &Address,
    to: &Address,
    amount: Amount,
) -> Result<Result<(), ExecError>, RuntimeError> {
    let mut payer = overlay.account(from)?;
    let Some(left) = payer.balance.checked_sub(amount) else {
        return Ok(Err(ExecError::InsufficientBalance {
            account: *from,
            needed: amount,
            available: payer.balance,
        }));
    };
    if amount == 0 || from == to {
        return Ok(Ok(()));
    }
    let mut payee = overlay.account(to)?;
    let Some(credited) = payee.balance.checked_add(amount) else {
        return Ok(Err(ExecError::BalanceOverflow(*to)));
    };
    payer.balance = left;
    payee.balance = credited;
    overlay.put_account(from, &payer);
    overlay.put_account(to, &payee);
    Ok(Ok(()))
}

/// Executes an includable transaction (already checked by the caller) and returns its receipt.
/// Never fails because of the transaction; only state faults are errors.
pub(crate) fn execute_tx(
    mut tx: Box<TxCtx>,
    signed: &SignedTransaction,
    tx_hash: Hash,
    intrinsic: Gas,
) -> Result<(Box<TxCtx>, Receipt), RuntimeError> {
    let t = &signed.tx;
    let sender = t.sender;
    let mut meter = GasMeter::new(t.gas_limit);
    let _ = meter.charge(intrinsic);
    // Checked by the caller: the sender can pay the maximum fee and the product fits.
    let max_fee = Amount::from(t.gas_limit).saturating_mul(t.gas_price);
    let mut account = tx.overlay.account(&sender)?;
    account.nonce = account.nonce.saturating_add(1);
    account.balance = account.balance.saturating_sub(max_fee);
    tx.overlay.put_account(&sender, &account);

    let checkpoint = tx.overlay.checkpoint();
    tx.events.clear();
    tx.touched.clear();
    let mut created = None;
    let (mut tx, result) = match &t.action {
        Action::Transfer { to, amount } => {
            let new_account = if tx.account_exists(to)? { 0 } else { SCHEDULE.new_account };
            let r = match meter.charge(SCHEDULE.transfer.saturating_add(new_account)) {
                Err(_) => Err(ExecError::OutOfGas),
                Ok(()) => tx.transfer(&sender, to, *amount)?,
            };
            (tx, r.map(|()| Vec::new()))
        }
        Action::UploadCode { code } => {
            let r = upload(&mut tx, &mut meter, code);
            (tx, r?)
        }
        Action::Instantiate { code_hash, args, value, salt } => {
            let address = Address::contract(&sender, code_hash, salt);
            created = Some(address);
            lifecycle::instantiate(tx, &mut meter, &sender, code_hash, address, args.to_vec(), *value)?
        }
        Action::Upgrade { contract, code_hash, args } => {
            lifecycle::upgrade(tx, &mut meter, &sender, contract, code_hash, args.to_vec())?
        }
        Action::SetAdmin { contract, admin } => {
            let r = lifecycle::set_admin(&mut tx, &mut meter, &sender, contract, *admin);
            (tx, r?)
        }
        Action::Call { contract, method, args, value } => {
            let req = CallRequest {
                caller: sender,
                contract: *contract,
                method: method.as_str().to_owned(),
                input: args.to_vec(),
                value: *value,
                gas: meter.remaining(),
                depth: 1,
                stack_base: 0,
                entry: Entry::Method,
            };
            let (tx, outcome) = call_contract(tx, req)?;
            let _ = meter.charge(outcome.gas_used);
            (tx, outcome.result)
        }
    };

    let mut deposit = (0, 0);
    let result = match result {
        Ok(out) => match settle_deposits(&mut tx, &sender)? {
            Ok(d) => {
                deposit = d;
                Ok(out)
            }
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let (status, return_data, events) = match result {
        Ok(out) => (ExecStatus::Success, out, std::mem::take(&mut tx.events)),
        Err(e) => {
            tx.overlay.revert_to(checkpoint);
            tx.events.clear();
            created = None;
            (ExecStatus::Failed(e), Vec::new(), Vec::new())
        }
    };

    let gas_used = meter.used();
    let fee = Amount::from(gas_used).saturating_mul(t.gas_price);
    let refund = max_fee - fee;
    let mut account = tx.overlay.account(&sender)?;
    account.balance = account.balance.checked_add(refund).ok_or_else(supply_overflow)?;
    tx.overlay.put_account(&sender, &account);
    let mut proposer = tx.overlay.account(&tx.env.proposer)?;
    proposer.balance = proposer.balance.checked_add(fee).ok_or_else(supply_overflow)?;
    let proposer_address = tx.env.proposer;
    tx.overlay.put_account(&proposer_address, &proposer);
    tx.overlay.forget_journal();

    let receipt = Receipt {
        tx_hash,
        status,
        gas_used,
        fee,
        deposit_charged: deposit.0,
        deposit_refunded: deposit.1,
        events,
        return_data,
        contract_address: created,
    };
    Ok((tx, receipt))
}

/// Balances are bounded by the total supply, which genesis checks fits in u128; overflowing
/// one means the state is corrupt.
fn supply_overflow() -> RuntimeError {
    RuntimeError::State(StateError::Corrupt("a balance exceeds the total supply".into()))
}

/// Uploads `code`: hashing it is charged first, like a hash call; code already stored succeeds
/// at that (an upload is idempotent, and a repeated one costs only its hash). New code is
/// charged `upload_byte` per byte before validation reads it (validation is linear in its
/// size) and its compile weight once validation has measured it, before compiling: no compile
/// starts that is not paid for. Block and query VMs charge the same.
fn upload(
    tx: &mut TxCtx,
    meter: &mut GasMeter,
    code: &[u8],
) -> Result<Result<Vec<u8>, ExecError>, RuntimeError> {
    if meter.charge(GasSchedule::linear(SCHEDULE.hash_base, SCHEDULE.hash_byte, code.len())).is_err() {
        return Ok(Err(ExecError::OutOfGas));
    }
    let hash = sha3_256(code);
    if tx.overlay.code(&hash)?.is_some() {
        return Ok(Ok(hash.0.to_vec()));
    }
    if meter.charge(SCHEDULE.upload(code.len(), 0)).is_err() {
        return Ok(Err(ExecError::OutOfGas));
    }
    let invalid = |e: LoadError| match e {
        LoadError::Invalid(e) => ExecError::InvalidCode(e.to_string()),
        LoadError::Compile(e) => ExecError::InvalidCode(e),
    };
    let checked = match tx.vm.check_upload(&hash, code) {
        Ok(checked) => checked,
        Err(e) => return Ok(Err(invalid(e))),
    };
    if meter.charge(checked.compile_weight).is_err() {
        return Ok(Err(ExecError::OutOfGas));
    }
    if let Err(e) = tx.vm.finish_upload(&hash, code, checked) {
        return Ok(Err(invalid(e)));
    }
    tx.overlay.set(code_key(&hash), Some(code.to_vec()));
    Ok(Ok(hash.0.to_vec()))
}

/// The deposit an account created by a transaction holds: `account_deposit` for its record and
/// `deposit_per_byte` per byte of its contract storage.
fn required_deposit(account: &Account) -> Amount {
    Amount::from(account.storage_bytes)
        .saturating_mul(SCHEDULE.deposit_per_byte)
        .saturating_add(SCHEDULE.account_deposit)
}

/// Brings each touched account's deposit to [`required_deposit`]: the sender pays for accounts
/// created and bytes added and is refunded for bytes freed. Returns (charged, refunded).
fn settle_deposits(
    tx: &mut TxCtx,
    sender: &Address,
) -> Result<Result<(Amount, Amount), ExecError>, RuntimeError> {
    let (mut charged, mut refunded) = (0u128, 0u128);
    for address in std::mem::take(&mut tx.touched) {
        let mut account = tx.overlay.account(&address)?;
        let required = required_deposit(&account);
        if required == account.deposit {
            continue;
        }
        let mut payer = tx.overlay.account(sender)?;
        if required > account.deposit {
            let needed = required - account.deposit;
            let Some(left) = payer.balance.checked_sub(needed) else {
                return Ok(Err(ExecError::InsufficientDeposit { needed, available: payer.balance }));
            };
            payer.balance = left;
            charged += needed;
        } else {
            let back = account.deposit - required;
            payer.balance = payer.balance.checked_add(back).ok_or_else(supply_overflow)?;
            refunded += back;
        }
        account.deposit = required;
        tx.overlay.put_account(&address, &account);
        tx.overlay.put_account(sender, &payer);
    }
    Ok(Ok((charged, refunded)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::MemoryArtifacts;

    #[test]
    fn warm_code_is_bounded_by_its_uploaded_bytes_in_the_order_first_entered() {
        let vm = Vm::<TxCtx>::new(Role::Blocks, Arc::new(MemoryArtifacts::default())).unwrap();
        let data = "a".repeat(60_000);
        let wasm = wat::parse_str(format!(
            "(module (memory (export \"memory\") 1) (data (i32.const 0) \"{data}\") (func (export \"m\")))"
        ))
        .unwrap();
        let code = vm.compile(&sha3_256(&wasm), &wasm).unwrap();
        let per = u64::from(code.info.code_len);
        let fit = SCHEDULE.warm_code_bytes / per;
        let mut warm = Warm::default();
        let hash = |i: u64| Hash(sha3_256(&i.to_le_bytes()).0);
        for i in 0..fit + 3 {
            warm.keep(&hash(i), &code);
        }
        assert_eq!(warm.modules.len() as u64, fit);
        assert_eq!(warm.code_bytes, fit * per);
        assert!(warm.modules.contains_key(&hash(0)) && !warm.modules.contains_key(&hash(fit)));
    }
}
