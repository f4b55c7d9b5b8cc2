//! Cross-crate integration tests.

mod architecture;
mod tidy;
