//! Procedural macros of weft-contract: #[contract], events, ABI generation.
