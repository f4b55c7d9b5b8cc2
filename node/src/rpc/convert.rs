//! Protocol values to their JSON shapes (`weft_rpc_api::types`), decoded through contract ABIs
//! where there is one, and node errors to JSON-RPC error objects with stable codes.

use jsonrpsee::types::ErrorObjectOwned;
use parity_scale_codec::Encode;
use weft_abi::{Abi, Revert};
use weft_rpc_api::{
    ActionInfo, BlockRefInfo, Bytes, Conflict, ErrorInfo, EventInfo, EvidenceInfo, ExecErrorInfo, HeaderInfo,
    ProposalInfo, ReceiptInfo, TxInfo, TxLocation, VoteInfo,
    codes::{self, err},
};
use weft_runtime::{RuntimeError, TxError};
use weft_types::{
    Event, ExecError, Hash, Header, Height, Receipt, SignedTransaction,
    consensus::{BlockRef, Evidence, SignedProposal, SignedVote, Vote},
    receipt::ExecStatus,
    tx::Action,
};

use crate::{
    chain::{ChainError, SubmitError},
    dev::control::DevError,
    estimate::DryRunFailure,
    mempool::AddError,
};

/// A piece of evidence of equivocation as JSON.
pub fn evidence_info(evidence: &Evidence) -> EvidenceInfo {
    let block = |b: &BlockRef| BlockRefInfo { height: b.height, hash: b.hash };
    let vote = |v: &SignedVote| {
        let kind = match v.vote {
            Vote::Notarize(_) => "notarize",
            Vote::Nullify(_) => "nullify",
            Vote::Finalize(_) => "finalize",
        };
        VoteInfo { kind: kind.to_owned(), view: v.vote.view(), block: v.vote.block().map(block) }
    };
    let proposal = |p: &SignedProposal| ProposalInfo {
        parent_view: p.proposal.parent_view,
        block: BlockRefInfo { height: p.proposal.height, hash: p.proposal.block_hash },
    };
    let conflict = match evidence {
        Evidence::ConflictingVotes(a, b) => Conflict::Votes { first: vote(a), second: vote(b) },
        Evidence::ConflictingProposals(a, b) => {
            Conflict::Proposals { first: proposal(a), second: proposal(b) }
        }
    };
    EvidenceInfo {
        view: evidence.view(),
        offender: evidence.offender(),
        conflict,
        raw: Bytes(evidence.encode()),
    }
}

/// A header as JSON.
pub fn header_info(header: &Header, tx_count: usize) -> HeaderInfo {
    HeaderInfo {
        hash: header.hash(),
        height: header.height,
        parent_hash: header.parent_hash,
        timestamp_ms: header.timestamp_ms,
        proposer: header.proposer,
        tx_root: header.tx_root,
        receipts_root: header.receipts_root,
        state_root: header.state_root,
        gas_used: header.gas_used,
        tx_count: u32::try_from(tx_count).unwrap_or(u32::MAX),
    }
}

/// A transaction as JSON.
pub fn tx_info(signed: &SignedTransaction, hash: Hash, location: Option<TxLocation>) -> TxInfo {
    let t = &signed.tx;
    let action = match &t.action {
        Action::Transfer { to, amount } => ActionInfo::Transfer { to: *to, amount: *amount },
        Action::UploadCode { code } => ActionInfo::UploadCode {
            code_hash: weft_types::sha3_256(code),
            size: u32::try_from(code.len()).unwrap_or(u32::MAX),
        },
        Action::Instantiate { code_hash, args, value, salt } => ActionInfo::Instantiate {
            code_hash: *code_hash,
            args: Bytes(args.to_vec()),
            value: *value,
            salt: Bytes(salt.to_vec()),
        },
        Action::Call { contract, method, args, value } => ActionInfo::Call {
            contract: *contract,
            method: method.as_str().to_owned(),
            args: Bytes(args.to_vec()),
            value: *value,
        },
        Action::Upgrade { contract, code_hash, args } => {
            ActionInfo::Upgrade { contract: *contract, code_hash: *code_hash, args: Bytes(args.to_vec()) }
        }
        Action::SetAdmin { contract, admin } => ActionInfo::SetAdmin { contract: *contract, admin: *admin },
    };
    TxInfo {
        hash,
        chain_id: t.chain_id,
        sender: t.sender,
        nonce: t.nonce,
        gas_limit: t.gas_limit,
        gas_price: t.gas_price,
        action,
        signature: Bytes(signed.signature.0.to_vec()),
        location,
    }
}

/// An event as JSON, decoded when `abi` declares it.
pub fn event_info(event: &Event, abi: Option<&Abi>, at: Option<(Height, Hash)>, index: usize) -> EventInfo {
    let decoded = abi.and_then(|a| a.decode_event(event));
    EventInfo {
        contract: event.contract,
        topics: event.topics.clone(),
        data: Bytes(event.data.clone()),
        name: decoded.as_ref().map(|d| d.name.clone()),
        fields: decoded.map(|d| serde_json::Value::Object(d.fields)),
        block_height: at.map(|(h, _)| h),
        tx_hash: at.map(|(_, t)| t),
        index: u32::try_from(index).unwrap_or(u32::MAX),
    }
}

/// A failed execution as JSON. `abi` and `error_type` decode a typed revert of the contract
/// that was called; a revert from another contract is decoded without them.
pub fn exec_error_info(
    error: &ExecError,
    abi: Option<&Abi>,
    called: Option<&weft_types::Address>,
    error_type: Option<&weft_abi::TypeRef>,
) -> ExecErrorInfo {
    let mut info = ExecErrorInfo {
        kind: exec_error_kind(error).to_owned(),
        message: error.to_string(),
        contract: None,
        panic: None,
        error: None,
        revert_data: None,
        backtrace: None,
        raw: Bytes(error.encode()),
    };
    match error {
        ExecError::Reverted { contract, data } => {
            info.contract = Some(*contract);
            let revert = match abi {
                Some(abi) if called == Some(contract) => abi.decode_revert(error_type, data),
                _ => Revert::untyped(data),
            };
            info.message = format!("contract {contract} reverted: {revert}");
            match revert {
                Revert::Panic(msg) => info.panic = Some(msg),
                Revert::Error(value) => info.error = Some(value),
                Revert::Raw(_) => {}
            }
            info.revert_data = Some(Bytes(data.clone()));
        }
        ExecError::Trap { contract, .. } => info.contract = Some(*contract),
        ExecError::MethodNotFound { contract, .. } => info.contract = Some(*contract),
        ExecError::ContractNotFound(a) | ExecError::ContractExists(a) | ExecError::ReentrancyRefused(a) => {
            info.contract = Some(*a)
        }
        _ => {}
    }
    info
}

fn exec_error_kind(error: &ExecError) -> &'static str {
    match error {
        ExecError::OutOfGas => "out_of_gas",
        ExecError::Reverted { .. } => "reverted",
        ExecError::Trap { .. } => "trap",
        ExecError::InsufficientBalance { .. } => "insufficient_balance",
        ExecError::InsufficientDeposit { .. } => "insufficient_deposit",
        ExecError::CodeNotFound(_) => "code_not_found",
        ExecError::ContractNotFound(_) => "contract_not_found",
        ExecError::ContractExists(_) => "contract_exists",
        ExecError::MethodNotFound { .. } => "method_not_found",
        ExecError::ReentrancyRefused(_) => "reentrancy_refused",
        ExecError::LimitExceeded { .. } => "limit_exceeded",
        ExecError::InvalidCode(_) => "invalid_code",
        ExecError::CodeExists(_) => "code_exists",
        ExecError::BalanceOverflow(_) => "balance_overflow",
        ExecError::NotAdmin { .. } => "not_admin",
        ExecError::NoMigrate(_) => "no_migrate",
    }
}

/// The method a transaction calls, if it is a call.
pub fn called_method(signed: &SignedTransaction) -> Option<(&weft_types::Address, &str)> {
    match &signed.tx.action {
        Action::Call { contract, method, .. } => Some((contract, method.as_str())),
        _ => None,
    }
}

/// A receipt as JSON; `abi_of` gives the ABI of a contract (the called one decodes the return
/// value and a typed error; every emitter decodes its events).
pub fn receipt_info(
    receipt: &Receipt,
    signed: Option<&SignedTransaction>,
    location: TxLocation,
    abi_of: &dyn Fn(&weft_types::Address) -> Option<std::sync::Arc<Abi>>,
) -> ReceiptInfo {
    let call = signed.and_then(called_method);
    let called_abi = call.and_then(|(c, _)| abi_of(c));
    let method = call.and_then(|(_, m)| called_abi.as_ref().and_then(|a| a.method(m)));
    let (success, error) = match &receipt.status {
        ExecStatus::Success => (true, None),
        ExecStatus::Failed(e) => (
            false,
            Some(exec_error_info(
                e,
                called_abi.as_deref(),
                call.map(|(c, _)| c),
                method.and_then(|m| m.error.as_ref()),
            )),
        ),
    };
    let return_value = match (success, &called_abi, method) {
        (true, Some(abi), Some(m)) => abi.decode_value(&m.returns, &receipt.return_data).ok(),
        _ => None,
    };
    let at = Some((location.block_height, receipt.tx_hash));
    let events = receipt
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| event_info(e, abi_of(&e.contract).as_deref(), at, i))
        .collect();
    ReceiptInfo {
        tx_hash: receipt.tx_hash,
        location,
        success,
        error,
        gas_used: receipt.gas_used,
        fee: receipt.fee,
        deposit_charged: receipt.deposit_charged,
        deposit_refunded: receipt.deposit_refunded,
        events,
        return_data: Bytes(receipt.return_data.clone()),
        return_value,
        contract_address: receipt.contract_address,
    }
}

/// A refused submission as an error object with its stable code.
pub fn submit_error(e: &SubmitError) -> ErrorObjectOwned {
    err(submit_code(e), e.to_string())
}

/// A refused submission as an [`ErrorInfo`] (for batch results).
pub fn submit_error_info(e: &SubmitError) -> ErrorInfo {
    ErrorInfo { code: submit_code(e), message: e.to_string() }
}

fn submit_code(e: &SubmitError) -> i32 {
    match e {
        SubmitError::Decode(_) => codes::TX_DECODE,
        SubmitError::Invalid(tx) => match tx {
            TxError::WrongChain { .. } => codes::TX_WRONG_CHAIN,
            TxError::BadSignature(_) => codes::TX_BAD_SIGNATURE,
            TxError::NonceTooLow { .. } => codes::TX_NONCE_TOO_LOW,
            TxError::NonceTooHigh { .. } => codes::TX_NONCE_TOO_HIGH,
            TxError::IntrinsicGas { .. }
            | TxError::GasLimitTooHigh { .. }
            | TxError::GasPriceTooLow { .. }
            | TxError::FeeOverflow { .. } => codes::TX_BAD_GAS,
            TxError::InsufficientFee { .. } => codes::TX_INSUFFICIENT_BALANCE,
            TxError::TooLarge { .. } => codes::TX_DECODE,
            _ => codes::TX_INVALID,
        },
        SubmitError::Pool(pool) => match pool {
            AddError::AlreadyKnown(_) => codes::TX_ALREADY_KNOWN,
            AddError::NonceTooLow { .. } => codes::TX_NONCE_TOO_LOW,
            AddError::NonceTooHigh { .. } => codes::TX_NONCE_TOO_HIGH,
            AddError::InsufficientBalance { .. } => codes::TX_INSUFFICIENT_BALANCE,
            AddError::ReplacementUnderpriced { .. } => codes::TX_REPLACEMENT_UNDERPRICED,
            AddError::SenderFull { .. } | AddError::PoolFull { .. } => codes::TX_POOL_FULL,
        },
        SubmitError::Node(_) => codes::NODE_ERROR,
    }
}

/// A node fault as an error object.
pub fn chain_error(e: ChainError) -> ErrorObjectOwned {
    tracing::error!("RPC read failed: {e}");
    err(codes::NODE_ERROR, format!("node error: {e}"))
}

/// A dev command's failure as an error object.
pub fn dev_error(e: DevError) -> ErrorObjectOwned {
    match e {
        DevError::UnknownSnapshot(_) => err(codes::UNKNOWN_SNAPSHOT, e.to_string()),
        other => err(codes::NODE_ERROR, other.to_string()),
    }
}

/// A dry run's failure as an error object: a transaction that could never be included is the
/// caller's fault (`TX_INVALID`), anything else the node's.
pub fn dry_run_error(e: DryRunFailure) -> ErrorObjectOwned {
    match e {
        DryRunFailure::Chain(e) => chain_error(e),
        DryRunFailure::Tx(e) => err(codes::TX_INVALID, e.to_string()),
        DryRunFailure::Runtime(RuntimeError::NotCompiled(_)) => err(codes::BUSY, e.to_string()),
        DryRunFailure::Runtime(_) => err(codes::NODE_ERROR, e.to_string()),
    }
}

/// A blocking task that did not finish (it panicked or the runtime is shutting down).
pub fn join_error(e: tokio::task::JoinError) -> ErrorObjectOwned {
    err(codes::NODE_ERROR, format!("node error: {e}"))
}
