//! The raw host imports of `weft_types::abi` (module `weft`), wrapped into slice-taking functions.
//!
//! This is the only module of the SDK that declares or calls foreign functions. Every wrapper
//! passes pointers and lengths of Rust slices the host reads from or writes to, so the host never
//! touches memory outside them. On targets other than wasm32 the imports are replaced by stubs
//! that panic, so that contract crates still compile, link and pass clippy on the host.
#![allow(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod imports {
    #[link(wasm_import_module = "weft")]
    unsafe extern "C" {
        pub fn input_len() -> i32;
        pub fn input_read(out: i32);
        pub fn set_return(ptr: i32, len: i32);
        pub fn revert(ptr: i32, len: i32);
        pub fn caller(out: i32);
        pub fn self_address(out: i32);
        pub fn value(out: i32);
        pub fn balance(addr: i32, out: i32);
        pub fn storage_read(key: i32, key_len: i32, out: i32, cap: i32) -> i32;
        pub fn storage_write(key: i32, key_len: i32, value: i32, value_len: i32);
        pub fn storage_remove(key: i32, key_len: i32) -> i32;
        pub fn emit_event(topics: i32, topic_count: i32, data: i32, data_len: i32);
        pub fn block_height() -> i64;
        pub fn block_timestamp() -> i64;
        pub fn gas_left() -> i64;
        pub fn sha3_256(ptr: i32, len: i32, out: i32);
        pub fn keccak_256(ptr: i32, len: i32, out: i32);
        pub fn ed25519_verify(sig: i32, pubkey: i32, msg: i32, msg_len: i32) -> i32;
        pub fn transfer(to: i32, amount: i32) -> i32;
        pub fn call(
            addr: i32,
            method: i32,
            method_len: i32,
            args: i32,
            args_len: i32,
            value: i32,
            gas: i64,
        ) -> i32;
        pub fn last_return_len() -> i32;
        pub fn last_return_read(out: i32);
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::imports as raw;

    // wasm32 pointers and lengths are 32 bits: these casts are lossless there.
    fn p(ptr: *const u8) -> i32 {
        ptr as usize as i32
    }
    fn l(s: &[u8]) -> i32 {
        s.len() as i32
    }

    pub fn input_len() -> usize {
        // SAFETY: no pointers.
        unsafe { raw::input_len() as u32 as usize }
    }
    pub fn input_read(out: &mut [u8]) {
        // SAFETY: the caller sized `out` to `input_len()`, which is what the host writes.
        unsafe { raw::input_read(p(out.as_mut_ptr())) }
    }
    pub fn set_return(data: &[u8]) {
        // SAFETY: the host reads `data.len()` bytes from `data`.
        unsafe { raw::set_return(p(data.as_ptr()), l(data)) }
    }
    pub fn revert(data: &[u8]) -> ! {
        // SAFETY: the host reads `data.len()` bytes from `data` and never returns.
        unsafe { raw::revert(p(data.as_ptr()), l(data)) };
        core::arch::wasm32::unreachable()
    }
    pub fn caller(out: &mut [u8; 32]) {
        // SAFETY: the host writes 32 bytes to `out`.
        unsafe { raw::caller(p(out.as_mut_ptr())) }
    }
    pub fn self_address(out: &mut [u8; 32]) {
        // SAFETY: the host writes 32 bytes to `out`.
        unsafe { raw::self_address(p(out.as_mut_ptr())) }
    }
    pub fn value(out: &mut [u8; 16]) {
        // SAFETY: the host writes 16 bytes to `out`.
        unsafe { raw::value(p(out.as_mut_ptr())) }
    }
    pub fn balance(addr: &[u8; 32], out: &mut [u8; 16]) {
        // SAFETY: the host reads 32 bytes from `addr` and writes 16 bytes to `out`.
        unsafe { raw::balance(p(addr.as_ptr()), p(out.as_mut_ptr())) }
    }
    pub fn storage_read(key: &[u8], out: &mut [u8]) -> i32 {
        // SAFETY: the host reads the key and writes to `out` only when the value fits its length.
        unsafe { raw::storage_read(p(key.as_ptr()), l(key), p(out.as_mut_ptr()), l(out)) }
    }
    pub fn storage_write(key: &[u8], value: &[u8]) {
        // SAFETY: the host reads both slices.
        unsafe { raw::storage_write(p(key.as_ptr()), l(key), p(value.as_ptr()), l(value)) }
    }
    pub fn storage_remove(key: &[u8]) -> bool {
        // SAFETY: the host reads the key.
        unsafe { raw::storage_remove(p(key.as_ptr()), l(key)) != 0 }
    }
    pub fn emit_event(topics: &[[u8; 32]], data: &[u8]) {
        // SAFETY: the host reads `topics.len()` × 32 bytes (contiguous arrays) and `data`.
        unsafe { raw::emit_event(p(topics.as_ptr().cast()), topics.len() as i32, p(data.as_ptr()), l(data)) }
    }
    pub fn block_height() -> u64 {
        // SAFETY: no pointers.
        unsafe { raw::block_height() as u64 }
    }
    pub fn block_timestamp() -> u64 {
        // SAFETY: no pointers.
        unsafe { raw::block_timestamp() as u64 }
    }
    pub fn gas_left() -> u64 {
        // SAFETY: no pointers.
        unsafe { raw::gas_left() as u64 }
    }
    pub fn sha3_256(data: &[u8], out: &mut [u8; 32]) {
        // SAFETY: the host reads `data` and writes 32 bytes to `out`.
        unsafe { raw::sha3_256(p(data.as_ptr()), l(data), p(out.as_mut_ptr())) }
    }
    pub fn keccak_256(data: &[u8], out: &mut [u8; 32]) {
        // SAFETY: the host reads `data` and writes 32 bytes to `out`.
        unsafe { raw::keccak_256(p(data.as_ptr()), l(data), p(out.as_mut_ptr())) }
    }
    pub fn ed25519_verify(sig: &[u8; 64], pubkey: &[u8; 32], msg: &[u8]) -> bool {
        // SAFETY: the host reads 64, 32 and `msg.len()` bytes.
        unsafe { raw::ed25519_verify(p(sig.as_ptr()), p(pubkey.as_ptr()), p(msg.as_ptr()), l(msg)) == 1 }
    }
    pub fn transfer(to: &[u8; 32], amount: &[u8; 16]) -> i32 {
        // SAFETY: the host reads 32 and 16 bytes.
        unsafe { raw::transfer(p(to.as_ptr()), p(amount.as_ptr())) }
    }
    pub fn call(addr: &[u8; 32], method: &[u8], args: &[u8], value: &[u8; 16], gas: u64) -> i32 {
        // SAFETY: the host reads 32 bytes, both slices and 16 bytes.
        unsafe {
            raw::call(
                p(addr.as_ptr()),
                p(method.as_ptr()),
                l(method),
                p(args.as_ptr()),
                l(args),
                p(value.as_ptr()),
                gas as i64,
            )
        }
    }
    pub fn last_return_len() -> usize {
        // SAFETY: no pointers.
        unsafe { raw::last_return_len() as u32 as usize }
    }
    pub fn last_return_read(out: &mut [u8]) {
        // SAFETY: the caller sized `out` to `last_return_len()`, which is what the host writes.
        unsafe { raw::last_return_read(p(out.as_mut_ptr())) }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    //! Host stubs: the same signatures, each panicking.
    #![allow(missing_docs, clippy::missing_panics_doc)]

    const MSG: &str = "weft host functions exist only in wasm";

    pub fn input_len() -> usize {
        panic!("{MSG}")
    }
    pub fn input_read(_: &mut [u8]) {
        panic!("{MSG}")
    }
    pub fn set_return(_: &[u8]) {
        panic!("{MSG}")
    }
    pub fn revert(_: &[u8]) -> ! {
        panic!("{MSG}")
    }
    pub fn caller(_: &mut [u8; 32]) {
        panic!("{MSG}")
    }
    pub fn self_address(_: &mut [u8; 32]) {
        panic!("{MSG}")
    }
    pub fn value(_: &mut [u8; 16]) {
        panic!("{MSG}")
    }
    pub fn balance(_: &[u8; 32], _: &mut [u8; 16]) {
        panic!("{MSG}")
    }
    pub fn storage_read(_: &[u8], _: &mut [u8]) -> i32 {
        panic!("{MSG}")
    }
    pub fn storage_write(_: &[u8], _: &[u8]) {
        panic!("{MSG}")
    }
    pub fn storage_remove(_: &[u8]) -> bool {
        panic!("{MSG}")
    }
    pub fn emit_event(_: &[[u8; 32]], _: &[u8]) {
        panic!("{MSG}")
    }
    pub fn block_height() -> u64 {
        panic!("{MSG}")
    }
    pub fn block_timestamp() -> u64 {
        panic!("{MSG}")
    }
    pub fn gas_left() -> u64 {
        panic!("{MSG}")
    }
    pub fn sha3_256(_: &[u8], _: &mut [u8; 32]) {
        panic!("{MSG}")
    }
    pub fn keccak_256(_: &[u8], _: &mut [u8; 32]) {
        panic!("{MSG}")
    }
    pub fn ed25519_verify(_: &[u8; 64], _: &[u8; 32], _: &[u8]) -> bool {
        panic!("{MSG}")
    }
    pub fn transfer(_: &[u8; 32], _: &[u8; 16]) -> i32 {
        panic!("{MSG}")
    }
    pub fn call(_: &[u8; 32], _: &[u8], _: &[u8], _: &[u8; 16], _: u64) -> i32 {
        panic!("{MSG}")
    }
    pub fn last_return_len() -> usize {
        panic!("{MSG}")
    }
    pub fn last_return_read(_: &mut [u8]) {
        panic!("{MSG}")
    }
}

pub(crate) use imp::*;
