//! The Weft contract SDK (no_std): host function wrappers, storage collections, the #[contract] macro.
