//! Integration tests of weft-build: real cargo builds of small fixture crates (in temporary
//! directories) and of the workspace's example token.
#![allow(clippy::unwrap_used)]

mod build;
mod fixture;
