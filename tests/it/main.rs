//! Cross-crate integration tests.

mod architecture;
