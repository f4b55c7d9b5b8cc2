//! The Weft JSON-RPC API: one jsonrpsee trait for server and client, and its JSON types.
