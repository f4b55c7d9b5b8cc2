//! Example contract: supply-chain.
