//! The Weft validator node. It owns everything outside the deterministic state transition of
//! `weft-runtime`: today the redb [`store`] of blocks, receipts and committed state; consensus,
//! the mempool, networking, sync and JSON-RPC join it as they land.

pub mod store;
