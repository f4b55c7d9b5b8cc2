//! Example contract: token.
