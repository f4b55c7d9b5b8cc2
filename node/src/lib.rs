//! The Weft node: the redb store, the shared chain view, the mempool, the JSON-RPC server, the
//! development chain (`weft-node dev`), networking, consensus and the validator service
//! (`weft-node run`).

pub mod chain;
pub mod config;
pub mod consensus;
pub mod dev;
pub mod estimate;
pub mod events;
pub mod examples;
pub mod genesis;
pub mod mempool;
pub mod net;
pub mod rpc;
pub mod service;
pub mod store;
pub mod testnet;
