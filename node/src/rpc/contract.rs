//! `contract_*`: read-only calls and gas estimates (run by `crate::estimate`), code and ABIs,
//! and events (scanned by `crate::event_scan`). Handlers encode JSON arguments through the
//! contract's ABI, call, and decode results through it.

use std::sync::Arc;

use jsonrpsee::{
    PendingSubscriptionSink,
    core::{SubscriptionResult, async_trait},
    types::{ErrorObjectOwned, error::INVALID_PARAMS_CODE},
};
use serde_json::Value;
use weft_abi::Abi;
use weft_rpc_api::{
    Bytes, ContractApiServer, Estimate, EstimateAction, EstimateRequest, EventFilter, EventPage,
    ExecErrorInfo, QueryRequest, QueryResult, RpcResult,
    codes::{self, err},
};
use weft_runtime::RuntimeError;
use weft_types::{
    Address, MethodName, codec::BoundedBytes, receipt::ExecStatus, state::code_key, tx::Action,
};

use super::{
    WeftRpc,
    convert::{chain_error, dry_run_error, event_info, exec_error_info},
    handle::InputOf,
};
use crate::{
    chain::ChainEvent,
    estimate::{self, DryRunFailure},
    event_scan::{self, Cursor, FilterError, Matcher},
};

/// The domain matcher of a JSON filter.
fn matcher(filter: &EventFilter) -> Result<Matcher, FilterError> {
    Matcher::new(filter.contract, filter.event.as_deref(), filter.topics.clone().unwrap_or_default())
}

/// The contract an estimated call goes to, with what decodes its result and errors.
struct CallTarget {
    contract: Address,
    abi: Option<Arc<Abi>>,
    method: String,
}

impl WeftRpc {
    /// The ABI of uploaded code `code_hash`, if it is stored and carries one.
    fn abi_of_code(&self, code_hash: &weft_types::Hash) -> RpcResult<Option<Abi>> {
        let state = self.chain.ledger.state().map_err(chain_error)?;
        let code = state.get(&code_key(code_hash)).map_err(|e| chain_error(e.into()))?;
        Ok(code.and_then(|c| Abi::from_wasm(&c).ok().flatten()))
    }

    /// A failed query or estimate as an error object; running past the time limit is the
    /// request's to fix (less gas), so it says which limit.
    fn execution_error(&self, e: DryRunFailure) -> ErrorObjectOwned {
        match e {
            DryRunFailure::Runtime(RuntimeError::Interrupted) => err(
                codes::LIMIT_EXCEEDED,
                format!(
                    "the execution ran past this node's limit of {} ms per contract execution \
                     (rpc max_execution_ms); give it a smaller gas limit",
                    self.config.max_execution_time.as_millis()
                ),
            ),
            other => dry_run_error(other),
        }
    }

    /// The action an estimate request describes, its arguments encoded through the ABI when
    /// given as JSON; for a call, also its target.
    fn estimate_action(&self, action: &EstimateAction) -> RpcResult<(Action, Option<CallTarget>)> {
        let bad = |e: String| err(codes::ABI_MISMATCH, e);
        Ok(match action {
            EstimateAction::Transfer { to, amount } => (Action::Transfer { to: *to, amount: *amount }, None),
            EstimateAction::UploadCode { code } => {
                let code = BoundedBytes::new(code.0.clone())
                    .map_err(|e| err(codes::LIMIT_EXCEEDED, format!("code: {e}")))?;
                (Action::UploadCode { code }, None)
            }
            EstimateAction::Instantiate { code_hash, input, value, salt } => {
                let abi = self.abi_of_code(code_hash)?;
                let args = Self::encode_input(abi.as_ref(), InputOf::Constructor, input, code_hash)?;
                let action = Action::Instantiate {
                    code_hash: *code_hash,
                    args: BoundedBytes::new(args).map_err(|e| bad(format!("args: {e}")))?,
                    value: value.unwrap_or(0),
                    salt: BoundedBytes::new(salt.clone().unwrap_or_default().0)
                        .map_err(|e| bad(format!("salt: {e}")))?,
                };
                (action, None)
            }
            EstimateAction::Call { contract, method, input, value } => {
                let abi = self.chain.ledger.abi(contract).map_err(chain_error)?;
                let args = Self::encode_input(abi.as_deref(), InputOf::Method(method), input, contract)?;
                let action = Action::Call {
                    contract: *contract,
                    method: MethodName::new(method).map_err(|e| bad(format!("method: {e}")))?,
                    args: BoundedBytes::new(args).map_err(|e| bad(format!("args: {e}")))?,
                    value: value.unwrap_or(0),
                };
                (action, Some(CallTarget { contract: *contract, abi, method: method.clone() }))
            }
            EstimateAction::Upgrade { contract, code_hash, input } => {
                let abi = self.abi_of_code(code_hash)?;
                let args = Self::encode_input(abi.as_ref(), InputOf::Migrate, input, code_hash)?;
                let args = BoundedBytes::new(args).map_err(|e| bad(format!("args: {e}")))?;
                (Action::Upgrade { contract: *contract, code_hash: *code_hash, args }, None)
            }
            EstimateAction::SetAdmin { contract, admin } => {
                (Action::SetAdmin { contract: *contract, admin: *admin }, None)
            }
        })
    }
}

#[async_trait]
impl ContractApiServer for WeftRpc {
    async fn contract_query(&self, request: QueryRequest) -> RpcResult<QueryResult> {
        let contract = request.contract;
        let Some(_) = self.chain.ledger.code(&contract).map_err(chain_error)? else {
            return Err(err(codes::NOT_A_CONTRACT, format!("{contract} is not a contract")));
        };
        let abi = self.chain.ledger.abi(&contract).map_err(chain_error)?;
        let input =
            Self::encode_input(abi.as_deref(), InputOf::Method(&request.method), &request.input, contract)?;
        let ledger = self.chain.ledger.clone();
        let max_gas = self.config.max_execution_gas;
        let gas = request.gas_limit.unwrap_or(max_gas).min(max_gas);
        let (caller, method) = (request.caller, request.method.clone());
        let run = self
            .executions
            .run(move || estimate::query(&ledger, caller, contract, &method, input, gas))
            .await?
            .map_err(|e| self.execution_error(e))?;
        let (height, outcome) = (run.height, run.outcome);
        let m = abi.as_ref().and_then(|a| a.method(&request.method));
        let abi_of = self.abi_of();
        Ok(match outcome.result {
            Ok(data) => QueryResult {
                success: true,
                value: match (&abi, m) {
                    (Some(abi), Some(m)) => abi.decode_value(&m.returns, &data).ok(),
                    _ => None,
                },
                return_data: Bytes(data),
                gas_used: outcome.gas_used,
                events: (0..)
                    .zip(&outcome.events)
                    .map(|(i, e)| event_info(e, abi_of(&e.contract).as_deref(), None, i))
                    .collect(),
                error: None,
                height,
            },
            Err(e) => QueryResult {
                success: false,
                value: None,
                return_data: Bytes::default(),
                gas_used: outcome.gas_used,
                events: Vec::new(),
                error: Some(ExecErrorInfo {
                    backtrace: outcome.backtrace,
                    ..exec_error_info(&e, abi.as_deref(), Some(&contract), m.and_then(|m| m.error.as_ref()))
                }),
                height,
            },
        })
    }

    async fn contract_estimate_gas(&self, request: EstimateRequest) -> RpcResult<Estimate> {
        let (action, target) = self.estimate_action(&request.action)?;
        let ledger = self.chain.ledger.clone();
        let from = request.from;
        let gas = self.config.max_execution_gas;
        let time_limit = self.config.max_execution_time;
        let estimation = self
            .executions
            .run(move || estimate::estimate(&ledger, from, action, gas, Some(time_limit)))
            .await?
            .map_err(|e| self.execution_error(e))?;
        let receipt = estimation.receipt;
        let (contract, abi, method) = match &target {
            Some(t) => {
                (Some(&t.contract), t.abi.as_deref(), t.abi.as_ref().and_then(|a| a.method(&t.method)))
            }
            None => (None, None, None),
        };
        let (success, error, value) = match &receipt.status {
            ExecStatus::Success => {
                let value = match (abi, method) {
                    (Some(a), Some(m)) => a.decode_value(&m.returns, &receipt.return_data).ok(),
                    _ => None,
                };
                (true, None, value)
            }
            ExecStatus::Failed(e) => {
                (false, Some(exec_error_info(e, abi, contract, method.and_then(|m| m.error.as_ref()))), None)
            }
        };
        Ok(Estimate {
            success,
            gas_used: estimation.gas_limit,
            storage_deposit: receipt.deposit_charged,
            storage_refund: receipt.deposit_refunded,
            fee: estimation.fee,
            value,
            contract_address: receipt.contract_address,
            error,
        })
    }

    async fn contract_get_abi(&self, contract: Address) -> RpcResult<Option<Value>> {
        let Some((_, code)) = self.chain.ledger.code(&contract).map_err(chain_error)? else {
            return Err(err(codes::NOT_A_CONTRACT, format!("{contract} is not a contract")));
        };
        match Abi::from_wasm(&code) {
            Ok(Some(abi)) => {
                serde_json::to_value(&abi).map(Some).map_err(|e| err(codes::NODE_ERROR, e.to_string()))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(err(codes::ABI_MISMATCH, format!("{contract}'s embedded ABI is invalid: {e}"))),
        }
    }

    async fn contract_get_code(&self, contract: Address) -> RpcResult<Bytes> {
        match self.chain.ledger.code(&contract).map_err(chain_error)? {
            Some((_, code)) => Ok(Bytes(code)),
            None => Err(err(codes::NOT_A_CONTRACT, format!("{contract} is not a contract"))),
        }
    }

    async fn contract_get_events(&self, filter: EventFilter) -> RpcResult<EventPage> {
        let matcher = matcher(&filter).map_err(|e| err(codes::LIMIT_EXCEEDED, e.to_string()))?;
        let head = self.head()?.height;
        let max_page = self.config.max_event_page;
        let limit = filter.limit.unwrap_or(self.config.default_event_page);
        if limit == 0 || limit > max_page {
            return Err(err(
                codes::LIMIT_EXCEEDED,
                format!("limit {limit}: pages hold 1 to {max_page} events"),
            ));
        }
        let start = match &filter.cursor {
            Some(c) => Cursor::parse(c).map_err(|e| err(INVALID_PARAMS_CODE, e.to_string()))?,
            None => Cursor::at_block(filter.from_block.unwrap_or(0)),
        };
        let to = filter.to_block.unwrap_or(head).min(head);
        let store = self.chain.ledger.store();
        let page = event_scan::scan(
            |height| store.block_receipts(height),
            &matcher,
            start,
            to,
            self.config.max_event_range,
            limit as usize,
        )
        .map_err(|e| chain_error(e.into()))?;
        let abi_of = self.abi_of();
        let events = page
            .events
            .iter()
            .map(|f| {
                let at = Some((f.height, f.tx_hash));
                event_info(&f.event, abi_of(&f.event.contract).as_deref(), at, f.index as usize)
            })
            .collect();
        Ok(EventPage { events, next_cursor: page.next.map(|c| c.to_string()) })
    }

    async fn contract_subscribe_events(
        &self,
        pending: PendingSubscriptionSink,
        filter: EventFilter,
    ) -> SubscriptionResult {
        let matcher = match matcher(&filter) {
            Ok(m) => m,
            Err(e) => {
                pending.reject(err(INVALID_PARAMS_CODE, e.to_string())).await;
                return Ok(());
            }
        };
        let mut rx = self.chain.events.subscribe();
        let sink = pending.accept().await?;
        while let Some(ev) = super::handle::next_event(&sink, &mut rx).await? {
            let ChainEvent::Block(b) = ev else { continue };
            for (tx_hash, i, event) in matcher.in_block(&b.receipts) {
                let at = Some((b.block.header.height, tx_hash));
                let info = event_info(event, self.abi_of()(&event.contract).as_deref(), at, i as usize);
                self.push(&sink, &info).await?;
            }
        }
        Ok(())
    }
}
