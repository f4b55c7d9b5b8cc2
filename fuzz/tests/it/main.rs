//! Smoke runs of the fuzz targets: each target gets a few thousand deterministic mutations of
//! valid seeds (fixed RNG seeds, so every run tries the same inputs), and every input that
//! once crashed a target (`fuzz/regressions/<target>/`) is replayed.
#![allow(clippy::unwrap_used)]

mod regressions;
mod rpc;
mod tx;
mod wasm;
