//! Example contract: ip-registry.
