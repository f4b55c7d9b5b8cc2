//! libFuzzer driver of `weft_fuzz::rpc::target`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_fuzz::rpc::target(data));
