//! Host tests of the SDK: the ABI document the macros write, event topics, storage keys.
#![allow(missing_docs, clippy::unwrap_used)]

mod abi;
mod call;
mod storage;
