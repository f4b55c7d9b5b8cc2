//! Sandbox tests of the example contracts.
