//! `#[derive(AbiType)]`: a struct's or enum's ABI definition (docs/abi.md, "Types").

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields};

use crate::util::{no_codec_attrs, no_generics, ty_of};

/// `[Field { name, ty }, …]` for named or tuple fields (tuple fields are named "0", "1", …).
fn field_list(fields: &Fields) -> syn::Result<TokenStream> {
    let mut out = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        no_codec_attrs(&f.attrs)?;
        let name = f.ident.as_ref().map_or_else(|| i.to_string(), |id| id.to_string());
        let ty = ty_of(&f.ty);
        out.push(quote! { ::weft_contract::abi::Field { name: #name, ty: #ty } });
    }
    Ok(quote! { &[#(#out),*] })
}

pub fn expand(item: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(item)?;
    no_generics(&input.generics, "an ABI type")?;
    no_codec_attrs(&input.attrs)?;
    let ident = &input.ident;
    let name = ident.to_string();
    let shape = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Unnamed(fields) => {
                let mut tys = Vec::new();
                for f in &fields.unnamed {
                    no_codec_attrs(&f.attrs)?;
                    tys.push(ty_of(&f.ty));
                }
                quote! { ::weft_contract::abi::Shape::Tuple(&[#(#tys),*]) }
            }
            fields => {
                let list = field_list(fields)?;
                quote! { ::weft_contract::abi::Shape::Struct(#list) }
            }
        },
        Data::Enum(e) => {
            if e.variants.len() > 256 {
                return Err(syn::Error::new_spanned(ident, "an ABI enum has at most 256 variants"));
            }
            let mut variants = Vec::new();
            for v in &e.variants {
                no_codec_attrs(&v.attrs)?;
                if let Some((_, d)) = &v.discriminant {
                    return Err(syn::Error::new_spanned(
                        d,
                        "explicit discriminants are not allowed: the SCALE index is the position",
                    ));
                }
                let vname = v.ident.to_string();
                let list = field_list(&v.fields)?;
                variants.push(quote! { ::weft_contract::abi::Variant { name: #vname, fields: #list } });
            }
            quote! { ::weft_contract::abi::Shape::Enum(&[#(#variants),*]) }
        }
        Data::Union(u) => {
            return Err(syn::Error::new_spanned(u.union_token, "unions have no ABI type"));
        }
    };
    Ok(quote! {
        impl ::weft_contract::abi::AbiType for #ident {
            const TY: ::weft_contract::abi::Ty = ::weft_contract::abi::Ty::Named(
                &::weft_contract::abi::TypeDef { name: #name, shape: #shape }
            );
        }
    })
}
