//! Helpers shared by the macros: doc comments, names, attribute checks.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Expr, Generics, Lit, Meta, Type};

/// The doc comment of an item: its `#[doc = "…"]` lines, one leading space stripped, joined
/// with newlines and trimmed.
pub fn docs(attrs: &[Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if let Meta::NameValue(nv) = &attr.meta
            && nv.path.is_ident("doc")
            && let Expr::Lit(lit) = &nv.value
            && let Lit::Str(s) = &lit.lit
        {
            let line = s.value();
            lines.push(line.strip_prefix(' ').map(str::to_owned).unwrap_or(line));
        }
    }
    lines.join("\n").trim().to_owned()
}

/// `SupplyChain` → `supply_chain`, `NFTRegistry` → `nft_registry`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p));
            let next = chars.get(i + 1);
            let boundary = match prev {
                None => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next.is_some_and(|n| n.is_lowercase()),
                Some(_) => false,
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Refuses generic parameters (the ABI names each type once).
pub fn no_generics(generics: &Generics, what: &str) -> syn::Result<()> {
    if generics.params.is_empty() && generics.where_clause.is_none() {
        return Ok(());
    }
    Err(syn::Error::new_spanned(generics, format!("{what} cannot be generic")))
}

/// Refuses `#[codec(…)]` attributes, which change the SCALE encoding in ways the ABI cannot
/// describe (compact fields, skipped fields, explicit variant indices).
pub fn no_codec_attrs(attrs: &[Attribute]) -> syn::Result<()> {
    match attrs.iter().find(|a| a.path().is_ident("codec")) {
        Some(a) => Err(syn::Error::new_spanned(
            a,
            "`#[codec(...)]` changes the SCALE encoding in a way the weft ABI cannot describe",
        )),
        None => Ok(()),
    }
}

/// `<T as ::weft_contract::abi::AbiType>::TY`.
pub fn ty_of(ty: &Type) -> TokenStream {
    quote! { <#ty as ::weft_contract::abi::AbiType>::TY }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_names() {
        assert_eq!(snake_case("Token"), "token");
        assert_eq!(snake_case("SupplyChain"), "supply_chain");
        assert_eq!(snake_case("IpRegistry"), "ip_registry");
        assert_eq!(snake_case("NFTRegistry"), "nft_registry");
        assert_eq!(snake_case("Nft"), "nft");
        assert_eq!(snake_case("Erc20V2"), "erc20_v2");
    }
}
