//! The API's jsonrpsee traits, one per method namespace (`node_`, `chain_`, `state_`, `tx_`,
//! `contract_`, `dev_`, and `rpc.discover`). Each generates `<Name>Server` for the node and, with
//! the `client` feature, `<Name>Client` for clients; the node merges the servers into one module.

mod chain;
mod contract;
mod dev;
mod discover;
mod node;
mod state;
mod tx;

pub use chain::*;
pub use contract::*;
pub use dev::*;
pub use discover::*;
pub use node::*;
pub use state::*;
pub use tx::*;
