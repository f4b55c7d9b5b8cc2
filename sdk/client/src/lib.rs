//! Rust client SDK for Weft: keys, transactions, typed RPC, contracts through their ABI.
