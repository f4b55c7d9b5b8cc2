//! The Weft JSON-RPC API: one jsonrpsee trait per method namespace (`NodeApi`, `ChainApi`,
//! `StateApi`, `TxApi`, `ContractApi`, `DevApi`, `DiscoverApi`; each generates `…Server` for the
//! node, e.g. [`NodeApiServer`], and with the `client` feature `…Client` for clients), its JSON
//! types, the stable application error codes, and the OpenRPC document that `rpc.discover`
//! serves.
//!
//! Method names are public API: renaming one is a breaking change.

mod api;
pub mod codes;
pub mod openrpc;
pub mod types;

use jsonrpsee::types::ErrorObjectOwned;

pub use api::*;
pub use types::*;

/// The result of an RPC method.
pub type RpcResult<T> = Result<T, ErrorObjectOwned>;
