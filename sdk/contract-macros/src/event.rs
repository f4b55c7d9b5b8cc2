//! `#[derive(Event)]`: topics and data exactly as docs/abi.md ("Events") specifies, with
//! `topics[0] = sha3_256(name)` computed here, at expansion time.

use proc_macro2::TokenStream;
use quote::quote;
use sha3::{Digest, Sha3_256};
use syn::{Data, DeriveInput, Fields};

use crate::util::{no_generics, ty_of};

/// At most this many indexed fields (the runtime allows 4 topics, one is the name).
const MAX_INDEXED: usize = 3;

pub fn expand(item: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(item)?;
    no_generics(&input.generics, "an event")?;
    let ident = &input.ident;
    let Data::Struct(s) = &input.data else {
        return Err(syn::Error::new_spanned(ident, "an event is a struct with named fields"));
    };
    let fields = match &s.fields {
        Fields::Named(named) => named.named.iter().collect::<Vec<_>>(),
        Fields::Unit => Vec::new(),
        Fields::Unnamed(_) => {
            return Err(syn::Error::new_spanned(ident, "an event is a struct with named fields"));
        }
    };
    let name = ident.to_string();
    let topic0 = Sha3_256::digest(name.as_bytes());
    let topic0 = topic0.iter();

    let (mut defs, mut topics, mut data, mut indexed_count) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for f in fields {
        let Some(fident) = &f.ident else { continue };
        let indexed = f.attrs.iter().any(|a| a.path().is_ident("indexed"));
        if indexed {
            indexed_count += 1;
            if indexed_count > MAX_INDEXED {
                return Err(syn::Error::new_spanned(fident, "an event has at most 3 indexed fields"));
            }
            topics.push(quote! { push(::weft_contract::event::topic(&self.#fident)); });
        } else {
            data.push(quote! { ::weft_contract::scale::Encode::encode_to(&self.#fident, out); });
        }
        let fname = fident.to_string();
        let ty = ty_of(&f.ty);
        defs.push(quote! {
            ::weft_contract::abi::EventField { name: #fname, ty: #ty, indexed: #indexed }
        });
    }
    let push = if topics.is_empty() {
        quote! { _push }
    } else {
        quote! { push }
    };
    let out = if data.is_empty() {
        quote! { _out }
    } else {
        quote! { out }
    };
    Ok(quote! {
        impl ::weft_contract::event::Event for #ident {
            const DEF: ::weft_contract::abi::EventDef =
                ::weft_contract::abi::EventDef { name: #name, fields: &[#(#defs),*] };
            const TOPIC0: [u8; 32] = [#(#topic0),*];
            fn topics(&self, #push: &mut impl FnMut([u8; 32])) {
                #(#topics)*
            }
            fn data(&self, #out: &mut ::weft_contract::rt::Vec<u8>) {
                #(#data)*
            }
        }
    })
}
