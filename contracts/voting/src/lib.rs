//! Example contract: voting.
