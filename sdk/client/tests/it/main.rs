//! Integration tests of weft-client against an in-process dev node.
