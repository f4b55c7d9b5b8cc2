//! Procedural macros of weft-contract: #[contract], events, ABI generation.
//!
//! Use them through `weft_contract` (which re-exports them and documents the syntax): generated
//! code refers to `::weft_contract::…` paths only.

use proc_macro::TokenStream;

mod abi_type;
mod contract;
mod event;
mod storage;
mod util;

/// The contract's entry points and ABI, on its inherent `impl` block.
///
/// `#[contract(events = [A, B], name = "…", reentrant)]`; see the `weft_contract` crate docs.
#[proc_macro_attribute]
pub fn contract(attr: TokenStream, item: TokenStream) -> TokenStream {
    contract::expand(attr.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// The contract's storage layout: a struct whose fields are storage collections.
#[proc_macro_attribute]
pub fn storage(attr: TokenStream, item: TokenStream) -> TokenStream {
    storage::expand(attr.into(), item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Implements `weft_contract::Event`; mark up to three fields `#[indexed]`.
#[proc_macro_derive(Event, attributes(indexed))]
pub fn derive_event(item: TokenStream) -> TokenStream {
    event::expand(item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Implements `weft_contract::AbiType` for a struct or enum (its ABI definition).
#[proc_macro_derive(AbiType)]
pub fn derive_abi_type(item: TokenStream) -> TokenStream {
    abi_type::expand(item.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
