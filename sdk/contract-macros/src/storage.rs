//! `#[storage]`: gives each field of the state struct a one-byte key prefix (its position) and
//! implements `weft_contract::Storage`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Fields, ItemStruct};

use crate::util::no_generics;

pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    if !attr.is_empty() {
        return Err(syn::Error::new_spanned(attr, "#[storage] takes no arguments"));
    }
    let st: ItemStruct = syn::parse2(item)?;
    no_generics(&st.generics, "a storage struct")?;
    let ident = &st.ident;
    let inits = match &st.fields {
        Fields::Named(named) => {
            if named.named.len() > 256 {
                return Err(syn::Error::new_spanned(ident, "a storage struct has at most 256 fields"));
            }
            named
                .named
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let (name, ty, prefix) = (&f.ident, &f.ty, i as u8);
                    quote! { #name: <#ty as ::weft_contract::storage::StorageField>::at(&[#prefix]) }
                })
                .collect::<Vec<_>>()
        }
        Fields::Unit => Vec::new(),
        Fields::Unnamed(_) => {
            return Err(syn::Error::new_spanned(ident, "a storage struct has named fields"));
        }
    };
    let body = match &st.fields {
        Fields::Unit => quote! { #ident },
        _ => quote! { #ident { #(#inits),* } },
    };
    Ok(quote! {
        #st
        impl ::weft_contract::storage::Storage for #ident {
            fn root() -> Self {
                #body
            }
        }
    })
}
