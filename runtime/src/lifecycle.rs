//! A contract's life besides its calls: instantiation (its constructor, its admin and the first
//! entry of its code history), upgrades by its admin (new code, its `migrate` entry, the next
//! history entry and an event) and changes of admin. Storage and balance stay with the address
//! across upgrades.

use parity_scale_codec::{Decode, Encode};
use weft_types::{
    Address, Amount, Event, ExecError, Hash,
    abi::{ADMIN_CHANGED_EVENT, CONSTRUCTOR, MIGRATE, UPGRADED_EVENT},
    sha3_256,
    state::{CodeRecord, ContractInfo, code_record_key, contract_info_key},
};

use crate::{
    error::RuntimeError,
    exec::{TxCtx, call_contract, enter, move_balance},
    gas::{GasMeter, SCHEDULE},
    state::StateError,
    vm::{CallRequest, CallResult, Entry},
};

/// Creates the contract at `address` from `code_hash`, with `sender` as its admin, and runs its
/// constructor with `args` and `value` when it has one.
pub(crate) fn instantiate(
    mut tx: Box<TxCtx>,
    meter: &mut GasMeter,
    sender: &Address,
    code_hash: &Hash,
    address: Address,
    args: Vec<u8>,
    value: Amount,
) -> Result<(Box<TxCtx>, CallResult), RuntimeError> {
    if meter.charge(SCHEDULE.instantiate_base).is_err() {
        return Ok((tx, Err(ExecError::OutOfGas)));
    }
    if tx.overlay.code(code_hash)?.is_none() {
        return Ok((tx, Err(ExecError::CodeNotFound(*code_hash))));
    }
    let mut account = tx.overlay.account(&address)?;
    if account.code_hash.is_some() {
        return Ok((tx, Err(ExecError::ContractExists(address))));
    }
    account.code_hash = Some(*code_hash);
    tx.overlay.put_account(&address, &account);
    tx.touched.insert(address);
    let info = ContractInfo { admin: Some(*sender), codes: 0 };
    if record_code(&mut tx, meter, &address, info, code_hash).is_err() {
        return Ok((tx, Err(ExecError::OutOfGas)));
    }
    let Some(code) = enter(&mut tx, meter, code_hash)? else {
        return Ok((tx, Err(ExecError::OutOfGas)));
    };
    if !code.info.has_constructor {
        let r = move_balance(&mut tx.overlay, sender, &address, value)?;
        return Ok((tx, r.map(|()| Vec::new())));
    }
    run_entry(tx, meter, sender, address, Entry::Constructor, args, value)
}

/// Replaces `contract`'s code with `code_hash` for its admin `sender` and runs the new code's
/// `migrate` with `args` when it has one (arguments for code without one are refused). Any
/// failure, the migration's included, leaves the contract as it was (the transaction reverts).
pub(crate) fn upgrade(
    mut tx: Box<TxCtx>,
    meter: &mut GasMeter,
    sender: &Address,
    contract: &Address,
    code_hash: &Hash,
    args: Vec<u8>,
) -> Result<(Box<TxCtx>, CallResult), RuntimeError> {
    if meter.charge(SCHEDULE.instantiate_base).is_err() {
        return Ok((tx, Err(ExecError::OutOfGas)));
    }
    let mut account = tx.overlay.account(contract)?;
    let Some(old) = account.code_hash else {
        return Ok((tx, Err(ExecError::ContractNotFound(*contract))));
    };
    let info = contract_info(&tx, contract)?;
    if info.admin != Some(*sender) {
        return Ok((tx, Err(ExecError::NotAdmin { contract: *contract, admin: info.admin })));
    }
    if tx.overlay.code(code_hash)?.is_none() {
        return Ok((tx, Err(ExecError::CodeNotFound(*code_hash))));
    }
    let Some(code) = enter(&mut tx, meter, code_hash)? else {
        return Ok((tx, Err(ExecError::OutOfGas)));
    };
    if !args.is_empty() && !code.info.has_migrate {
        return Ok((tx, Err(ExecError::NoMigrate(*code_hash))));
    }
    account.code_hash = Some(*code_hash);
    tx.overlay.put_account(contract, &account);
    if record_code(&mut tx, meter, contract, info, code_hash).is_err() {
        return Ok((tx, Err(ExecError::OutOfGas)));
    }
    // Emitted before the migration runs, so that the per-transaction event bound counts it.
    emit(&mut tx, contract, UPGRADED_EVENT, (old, *code_hash).encode());
    if !code.info.has_migrate {
        return Ok((tx, Ok(Vec::new())));
    }
    run_entry(tx, meter, sender, *contract, Entry::Migrate, args, 0)
}

/// Sets `contract`'s admin to `admin` for its admin `sender`; `None` makes it immutable.
pub(crate) fn set_admin(
    tx: &mut TxCtx,
    meter: &mut GasMeter,
    sender: &Address,
    contract: &Address,
    admin: Option<Address>,
) -> Result<CallResult, RuntimeError> {
    if meter.charge(SCHEDULE.storage_write).is_err() {
        return Ok(Err(ExecError::OutOfGas));
    }
    if tx.overlay.account(contract)?.code_hash.is_none() {
        return Ok(Err(ExecError::ContractNotFound(*contract)));
    }
    let mut info = contract_info(tx, contract)?;
    if info.admin != Some(*sender) {
        return Ok(Err(ExecError::NotAdmin { contract: *contract, admin: info.admin }));
    }
    info.admin = admin;
    tx.overlay.set(contract_info_key(contract), Some(info.encode()));
    emit(tx, contract, ADMIN_CHANGED_EVENT, admin.encode());
    Ok(Ok(Vec::new()))
}

/// `contract`'s info; a contract without one (instantiated before contracts had admins) has no
/// admin.
fn contract_info(tx: &TxCtx, contract: &Address) -> Result<ContractInfo, RuntimeError> {
    let Some(bytes) = tx.overlay.get(&contract_info_key(contract))? else {
        return Ok(ContractInfo::default());
    };
    ContractInfo::decode(&mut &bytes[..])
        .map_err(|e| RuntimeError::State(StateError::Corrupt(format!("contract info of {contract}: {e}"))))
}

/// Appends `code_hash` to `contract`'s code history from this block on and saves `info` with the
/// count: two state writes, charged as such. The history grows by one ~80-byte entry per
/// upgrade, paid in gas only (no deposit): an upgrade costs at least `instantiate_base`, two
/// `storage_write`s and the new code's load, over 500 gas per byte kept, so a block of
/// `MAX_BLOCK_GAS` adds at most ~4 MB, and only through a contract's own admin.
fn record_code(
    tx: &mut TxCtx,
    meter: &mut GasMeter,
    contract: &Address,
    mut info: ContractInfo,
    code_hash: &Hash,
) -> Result<(), crate::gas::OutOfGas> {
    meter.charge(SCHEDULE.storage_write.saturating_mul(2))?;
    let record = CodeRecord { code_hash: *code_hash, height: tx.env.height };
    tx.overlay.set(code_record_key(contract, info.codes), Some(record.encode()));
    info.codes = info.codes.saturating_add(1);
    tx.overlay.set(contract_info_key(contract), Some(info.encode()));
    Ok(())
}

/// Emits the protocol's event `name` (its topic: the name's sha3) from `contract`.
fn emit(tx: &mut TxCtx, contract: &Address, name: &str, data: Vec<u8>) {
    tx.events.push(Event { contract: *contract, topics: vec![sha3_256(name.as_bytes())], data });
}

/// Runs `contract`'s constructor or migration with all the gas left.
fn run_entry(
    tx: Box<TxCtx>,
    meter: &mut GasMeter,
    sender: &Address,
    contract: Address,
    entry: Entry,
    input: Vec<u8>,
    value: Amount,
) -> Result<(Box<TxCtx>, CallResult), RuntimeError> {
    let method = if entry == Entry::Migrate { MIGRATE } else { CONSTRUCTOR };
    let req = CallRequest {
        caller: *sender,
        contract,
        method: method.to_owned(),
        input,
        value,
        gas: meter.remaining(),
        depth: 1,
        stack_base: 0,
        entry,
    };
    let (tx, outcome) = call_contract(tx, req)?;
    let _ = meter.charge(outcome.gas_used);
    Ok((tx, outcome.result))
}
