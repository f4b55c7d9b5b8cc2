//! Example contract: escrow.
