//! Integration tests of the sandbox, on hand-written WAT contracts with ABIs attached.
#![allow(clippy::unwrap_used)]

mod accounts;
mod calls;
mod cross;
mod example;
mod failures;
mod support;
mod time;
