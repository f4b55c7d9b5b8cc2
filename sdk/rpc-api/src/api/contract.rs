//! `contract_*`: read-only calls, dry runs, code and ABIs, and events (past and live).

use jsonrpsee::{core::SubscriptionResult, proc_macros::rpc};
use serde_json::Value;
use weft_types::Address;

use crate::{Bytes, Estimate, EstimateRequest, EventFilter, EventPage, QueryRequest, QueryResult, RpcResult};

/// The `contract_*` methods.
#[cfg_attr(not(feature = "client"), rpc(server))]
#[cfg_attr(feature = "client", rpc(server, client))]
pub trait ContractApi {
    /// A read-only call at the head.
    #[method(name = "contract_query")]
    async fn contract_query(&self, request: QueryRequest) -> RpcResult<QueryResult>;

    /// An exact dry run of a transaction at the head: gas used and storage deposit.
    #[method(name = "contract_estimateGas")]
    async fn contract_estimate_gas(&self, request: EstimateRequest) -> RpcResult<Estimate>;

    /// A contract's ABI (docs/abi.md); null when its code carries none.
    #[method(name = "contract_getAbi")]
    async fn contract_get_abi(&self, contract: Address) -> RpcResult<Option<Value>>;

    /// A contract's wasm code.
    #[method(name = "contract_getCode")]
    async fn contract_get_code(&self, contract: Address) -> RpcResult<Bytes>;

    /// Past events matching a filter, a page at a time.
    #[method(name = "contract_getEvents")]
    async fn contract_get_events(&self, filter: EventFilter) -> RpcResult<EventPage>;

    /// Events matching a filter as their blocks are committed.
    #[subscription(name = "contract_subscribeEvents" => "contract_event", unsubscribe = "contract_unsubscribeEvents", item = crate::EventInfo)]
    async fn contract_subscribe_events(&self, filter: EventFilter) -> SubscriptionResult;
}
