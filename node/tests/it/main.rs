//! Integration tests of the node: the redb store (round trips, refusals, state and proofs,
//! corruption, crash safety under `kill -9`, and agreement with the in-memory state).
// Tests may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod crash;
mod net;
mod process;
mod replay;
mod rpc;
mod store;
mod support;
