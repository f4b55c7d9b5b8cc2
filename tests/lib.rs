//! Cross-crate tests of Weft live in `it/`; this library is empty on purpose.
