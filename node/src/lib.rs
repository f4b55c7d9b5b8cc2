//! The Weft node: the redb store, the shared chain view, the mempool, the JSON-RPC server, the
//! development chain (`weft-node dev`), networking, consensus and the validator
//! (`weft-node run`).

pub mod admission;
pub mod chain;
pub mod config;
pub mod consensus;
pub mod dev;
pub mod estimate;
pub mod event_scan;
pub mod events;
pub mod examples;
pub mod genesis;
pub mod ledger;
pub mod mempool;
pub mod net;
pub mod producer;
pub mod rpc;
pub mod status;
pub mod store;
pub mod testnet;
pub mod validator;
