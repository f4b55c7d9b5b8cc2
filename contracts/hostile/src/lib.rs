//! Example contract: hostile.
