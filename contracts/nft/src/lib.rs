//! Example contract: nft.
