//! Builds contract crates to size-optimized wasm and checks them with the node's deploy-time validation.
