//! The weft developer CLI.
