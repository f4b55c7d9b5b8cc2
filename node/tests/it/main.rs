//! Integration tests of the node: the redb store (round trips, refusals, state and proofs,
//! corruption, crash safety under `kill -9`, and agreement with the in-memory state), the
//! consensus core in a deterministic simulation, libp2p networking between real swarms, the
//! JSON-RPC API over real HTTP/WebSocket, and the `weft-node` binary.
// Tests may unwrap: a failure is a test failure.
#![allow(clippy::unwrap_used)]

mod consensus;
mod crash;
mod net;
mod network;
mod process;
mod replay;
mod rpc;
mod store;
mod support;
