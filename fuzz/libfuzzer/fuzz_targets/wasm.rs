//! libFuzzer driver of `weft_fuzz::wasm::target`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weft_fuzz::wasm::target(data));
