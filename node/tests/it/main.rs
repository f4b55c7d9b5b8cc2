//! Integration tests of the node: the redb store (round trips, refusals, state and proofs,
//! corruption, crash safety under `kill -9`, and agreement with the in-memory state), the
//! consensus core in a deterministic simulation, libp2p networking between real swarms, the
//! JSON-RPC API over real HTTP/WebSocket, the `weft-node` binary, and attacks by a hostile peer on a
//! real network of validator processes.
// Tests may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod attack;
mod cluster;
mod consensus;
mod crash;
mod executions;
mod net;
mod network;
mod process;
mod raw;
mod replay;
mod rpc;
mod store;
mod support;
