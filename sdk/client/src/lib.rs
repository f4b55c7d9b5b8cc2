//! Rust client SDK for Weft: keys, transactions, typed RPC, contracts through their ABI.
//!
//! ```no_run
//! # async fn demo() -> Result<(), weft_client::ClientError> {
//! use serde_json::json;
//! use weft_client::{Client, Signer};
//!
//! let client = Client::connect("ws://127.0.0.1:9944").await?;
//! let alice = Signer::dev("alice").expect("a dev account");
//! let bob = weft_types::dev::dev_address("bob");
//! let receipt = client.transfer(&alice, bob, 1_000).await?; // waits for finality
//! println!("fee {}", receipt.fee);
//!
//! # let wasm = vec![];
//! let (token, _) = client.deploy(&alice, &wasm, json!({"supply": "1000000"})).await?;
//! let token = client.contract(token).await?;
//! token.call(&alice, "transfer", json!({"to": bob, "amount": "5"})).await?;
//! let balance = token.query("balance_of", json!({"owner": bob})).await?;
//! # let _ = balance;
//! # Ok(()) }
//! ```
//!
//! - [`Client`] (`client`): one WebSocket connection; every RPC method typed; subscriptions as
//!   [`ClientStream`]s.
//! - `tx`: nonces, gas, chain id, submit and wait ([`Client::send`], [`TxOptions`], [`WaitFor`]).
//! - `keys`: [`Signer`], [`Keystore`] (unencrypted key files), dev accounts.
//! - `contract`: [`Contract`] handles driven by the ABI, [`Client::deploy`].
//! - `proof` (feature `proofs`): state proofs verified against a finalized header.
//! - `error`: [`ClientError`], split by who is to blame.

pub mod client;
pub mod contract;
pub mod error;
pub mod keys;
#[cfg(feature = "proofs")]
pub mod proof;
pub mod tx;

pub use client::{
    ChainParams, Client, ClientStream, ConnectOptions, DEFAULT_REQUEST_TIMEOUT, DEFAULT_URL, ws_url,
};
pub use contract::{CallOutcome, Contract, DeployOptions, Deployed};
pub use error::{ClientError, Result, describe_exec_error};
pub use keys::{KeyEntry, KeyFile, Keystore, Signer};
#[cfg(feature = "proofs")]
pub use proof::{VerifiedState, verify_state_proof};
pub use tx::{DEFAULT_WAIT_TIMEOUT, MAX_NONCE_ATTEMPTS, TxOptions, WaitFor, gas_with_margin};

/// The ABI reader, re-exported.
pub use weft_abi as abi;
/// The RPC API's types and trait, re-exported.
pub use weft_rpc_api as api;
/// The protocol types, re-exported.
pub use weft_types as types;
