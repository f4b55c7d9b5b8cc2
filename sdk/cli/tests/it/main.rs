//! Integration tests of the weft CLI against an in-process dev node.
