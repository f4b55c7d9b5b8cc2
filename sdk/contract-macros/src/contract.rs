//! `#[contract]`: turns the `pub fn`s of the contract's inherent `impl` into wasm exports
//! (argument decoding, payable check, return data or typed-error revert) and embeds the ABI
//! document (docs/abi.md) in the `weft:abi` custom section, composed at compile time.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{
    FnArg, GenericArgument, Ident, ImplItem, ImplItemFn, ItemImpl, LitStr, Pat, Path, PathArguments,
    ReturnType, Token, Type, Visibility, ext::IdentExt, punctuated::Punctuated,
};

use crate::util::{docs, snake_case, ty_of};

/// Exports starting with this are reserved for the protocol (`weft_types::abi::RESERVED_PREFIX`).
const RESERVED_PREFIX: &str = "__weft";
/// The constructor's export (`weft_types::abi::CONSTRUCTOR`).
const CONSTRUCTOR: &str = "init";
/// The migration's export (`weft_types::abi::MIGRATE`).
const MIGRATE: &str = "migrate";
/// `weft_types::limits::MAX_METHOD_NAME_BYTES`.
const MAX_METHOD_NAME_BYTES: usize = 64;

/// Options of `#[contract(...)]`.
#[derive(Default)]
struct Options {
    events: Vec<Path>,
    name: Option<String>,
    reentrant: bool,
}

fn parse_options(attr: TokenStream) -> syn::Result<Options> {
    let mut opts = Options::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("events") {
            let content;
            let value = meta.value()?;
            syn::bracketed!(content in value);
            let list = Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
            opts.events.extend(list);
            Ok(())
        } else if meta.path.is_ident("name") {
            opts.name = Some(meta.value()?.parse::<LitStr>()?.value());
            Ok(())
        } else if meta.path.is_ident("reentrant") {
            opts.reentrant = true;
            Ok(())
        } else {
            Err(meta.error("expected `events = [...]`, `name = \"...\"` or `reentrant`"))
        }
    });
    syn::parse::Parser::parse2(parser, attr)?;
    Ok(opts)
}

/// One exported method.
struct Method {
    /// The Rust name.
    ident: Ident,
    /// The export name.
    export: String,
    constructor: bool,
    migrate: bool,
    payable: bool,
    mutates: bool,
    args: Vec<(String, Type)>,
    ret: Ret,
    docs: String,
}

/// What a method returns.
enum Ret {
    Unit,
    Value(Box<Type>),
    Result(Box<Type>, Box<Type>),
}

/// `Result<T, E>` (by the last path segment), as `(T, E)`.
fn as_result(ty: &Type) -> Option<(Type, Type)> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    let mut types = args.args.iter().filter_map(|a| match a {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    });
    match (types.next(), types.next(), types.next()) {
        (Some(t), Some(e), None) => Some((t, e)),
        _ => None,
    }
}

/// Takes `#[name]` marker attributes off a method; returns whether it had one.
fn take_marker(f: &mut ImplItemFn, name: &str) -> syn::Result<bool> {
    let mut found = false;
    let mut err = None;
    f.attrs.retain(|a| {
        if !a.path().is_ident(name) {
            return true;
        }
        if !matches!(a.meta, syn::Meta::Path(_)) {
            err = Some(syn::Error::new_spanned(a, format!("`#[{name}]` takes no arguments")));
        }
        found = true;
        false
    });
    match err {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

fn parse_method(f: &mut ImplItemFn) -> syn::Result<Option<Method>> {
    let constructor = take_marker(f, "init")?;
    let migrate = take_marker(f, "migrate")?;
    let payable = take_marker(f, "payable")?;
    let ident = f.sig.ident.clone();
    if migrate && (constructor || payable) {
        return Err(syn::Error::new_spanned(
            &ident,
            "`#[migrate]` runs on an upgrade, which sends no value: it cannot also be `#[init]` or `#[payable]`",
        ));
    }
    if !matches!(f.vis, Visibility::Public(_)) {
        if constructor || migrate || payable {
            return Err(syn::Error::new_spanned(
                &ident,
                "only `pub fn`s are exported; make this method `pub`",
            ));
        }
        return Ok(None);
    }
    let sig = &f.sig;
    if let Some(t) = &sig.asyncness {
        return Err(syn::Error::new_spanned(t, "contract methods cannot be async"));
    }
    if let Some(t) = &sig.unsafety {
        return Err(syn::Error::new_spanned(t, "contract methods cannot be unsafe"));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(&sig.generics, "contract methods cannot be generic"));
    }
    let mutates = match sig.receiver() {
        Some(r) if r.reference.is_some() && r.colon_token.is_none() => r.mutability.is_some(),
        _ => {
            return Err(syn::Error::new_spanned(
                &ident,
                "a contract method takes `&self` (read-only) or `&mut self` (state-changing)",
            ));
        }
    };
    let mut args = Vec::new();
    for input in sig.inputs.iter().skip(1) {
        let FnArg::Typed(pt) = input else { continue };
        let Pat::Ident(pi) = &*pt.pat else {
            return Err(syn::Error::new_spanned(&pt.pat, "contract method arguments must be plain names"));
        };
        args.push((pi.ident.unraw().to_string(), (*pt.ty).clone()));
    }
    let ret = match &sig.output {
        ReturnType::Default => Ret::Unit,
        ReturnType::Type(_, ty) => match as_result(ty) {
            Some((t, e)) => Ret::Result(Box::new(t), Box::new(e)),
            None => Ret::Value(ty.clone()),
        },
    };
    let name = ident.unraw().to_string();
    let export = match (constructor, migrate) {
        (true, _) => CONSTRUCTOR.to_owned(),
        (_, true) => MIGRATE.to_owned(),
        _ => name,
    };
    if !constructor && export == CONSTRUCTOR {
        return Err(syn::Error::new_spanned(
            &ident,
            "`init` is the constructor's export: mark this method `#[init]` or rename it",
        ));
    }
    if !migrate && export == MIGRATE {
        return Err(syn::Error::new_spanned(
            &ident,
            "`migrate` is the migration's export: mark this method `#[migrate]` or rename it",
        ));
    }
    if export.starts_with(RESERVED_PREFIX) {
        return Err(syn::Error::new_spanned(&ident, "names starting with `__weft` are reserved"));
    }
    if export.len() > MAX_METHOD_NAME_BYTES {
        return Err(syn::Error::new_spanned(&ident, "a method name has at most 64 bytes"));
    }
    Ok(Some(Method {
        ident,
        export,
        constructor,
        migrate,
        payable,
        mutates,
        args,
        ret,
        docs: docs(&f.attrs),
    }))
}

/// The export function of one method.
fn export_fn(self_ty: &Type, m: &Method) -> TokenStream {
    let export = &m.export;
    let wrapper = format_ident!("__weft_export_{}", m.export);
    let ident = &m.ident;
    let payable_check = if m.payable {
        quote! {}
    } else {
        quote! { ::weft_contract::rt::not_payable(#export); }
    };
    let vars: Vec<Ident> = (0..m.args.len()).map(|i| format_ident!("__weft_arg{}", i)).collect();
    let decode = if m.args.is_empty() {
        quote! { ::weft_contract::rt::no_args(#export); }
    } else {
        let reads = m.args.iter().zip(&vars).map(|((name, ty), var)| {
            quote! { let #var: #ty = __weft_args.arg(#name); }
        });
        quote! {
            let mut __weft_args = ::weft_contract::rt::Args::read(#export);
            #(#reads)*
            __weft_args.finish();
        }
    };
    let (this, this_ref) = if m.mutates {
        (quote! { let mut __weft_this }, quote! { &mut __weft_this })
    } else {
        (quote! { let __weft_this }, quote! { &__weft_this })
    };
    let call = quote! { <#self_ty>::#ident(#this_ref #(, #vars)*) };
    let finish = match &m.ret {
        Ret::Unit => quote! { #call; },
        Ret::Value(_) => quote! { ::weft_contract::rt::ret(&#call); },
        Ret::Result(..) => quote! { ::weft_contract::rt::ret_result(#call); },
    };
    quote! {
        #[doc(hidden)]
        #[allow(unsafe_code)]
        #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
        #[cfg_attr(target_arch = "wasm32", unsafe(export_name = #export))]
        extern "C" fn #wrapper() {
            #payable_check
            #decode
            #this: #self_ty = <#self_ty as ::weft_contract::storage::Storage>::root();
            #finish
        }
    }
}

/// `&[Field { name, ty }, …]` for a method's arguments.
fn args_abi(m: &Method) -> TokenStream {
    let fields = m.args.iter().map(|(name, ty)| {
        let ty = ty_of(ty);
        quote! { ::weft_contract::abi::Field { name: #name, ty: #ty } }
    });
    quote! { &[#(#fields),*] }
}

/// `(returns, error)` of a method's ABI entry.
fn ret_abi(m: &Method) -> (TokenStream, TokenStream) {
    match &m.ret {
        Ret::Unit => (quote! { ::weft_contract::abi::Ty::Prim("unit") }, quote! { None }),
        Ret::Value(t) => (ty_of(t), quote! { None }),
        Ret::Result(t, e) => {
            let e = ty_of(e);
            (ty_of(t), quote! { Some(#e) })
        }
    }
}

pub fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let opts = parse_options(attr)?;
    let mut imp: ItemImpl = syn::parse2(item)?;
    if let Some((_, path, _)) = &imp.trait_ {
        return Err(syn::Error::new_spanned(path, "#[contract] goes on the contract's inherent `impl`"));
    }
    crate::util::no_generics(&imp.generics, "a contract")?;
    let self_ty = (*imp.self_ty).clone();
    let type_name = match &self_ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    };
    let Some(type_name) = type_name else {
        return Err(syn::Error::new_spanned(&self_ty, "#[contract] goes on `impl YourStorageStruct`"));
    };

    let mut methods = Vec::new();
    for item in &mut imp.items {
        if let ImplItem::Fn(f) = item
            && let Some(m) = parse_method(f)?
        {
            methods.push(m);
        }
    }
    let mut ctors = methods.iter().filter(|m| m.constructor);
    let ctor = ctors.next();
    if let Some(second) = ctors.next() {
        return Err(syn::Error::new_spanned(
            &second.ident,
            "a contract has at most one `#[init]` constructor",
        ));
    }
    let mut migrations = methods.iter().filter(|m| m.migrate);
    let migration = migrations.next();
    if let Some(second) = migrations.next() {
        return Err(syn::Error::new_spanned(&second.ident, "a contract has at most one `#[migrate]` entry"));
    }

    let exports = methods.iter().map(|m| export_fn(&self_ty, m));
    let reentrant = opts.reentrant.then(|| {
        quote! {
            #[doc(hidden)]
            #[allow(unsafe_code)]
            #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
            #[cfg_attr(target_arch = "wasm32", unsafe(export_name = "__weft_reentrant"))]
            extern "C" fn __weft_reentrant_marker() {}
        }
    });

    let entry_def = |entry: Option<&Method>| match entry {
        None => quote! { None },
        Some(m) => {
            let (args, payable, docs) = (args_abi(m), m.payable, &m.docs);
            let (_, error) = ret_abi(m);
            quote! {
                Some(::weft_contract::abi::ConstructorDef { args: #args, payable: #payable, error: #error, docs: #docs })
            }
        }
    };
    let (constructor, migrate) = (entry_def(ctor), entry_def(migration));
    let method_defs = methods.iter().filter(|m| !m.constructor && !m.migrate).map(|m| {
        let (name, args, mutates, payable, docs) = (&m.export, args_abi(m), m.mutates, m.payable, &m.docs);
        let (returns, error) = ret_abi(m);
        quote! {
            ::weft_contract::abi::MethodDef {
                name: #name, args: #args, returns: #returns, error: #error,
                mutates: #mutates, payable: #payable, docs: #docs,
            }
        }
    });
    let events = opts.events.iter().map(|e| quote! { <#e as ::weft_contract::event::Event>::DEF });
    let name = opts.name.unwrap_or_else(|| snake_case(&type_name));
    let section = LitStr::new("weft:abi", Span::call_site());

    Ok(quote! {
        #imp

        impl #self_ty {
            #(#exports)*
            #reentrant
        }

        impl ::weft_contract::Contract for #self_ty {
            const ABI: ::weft_contract::abi::ContractDef = ::weft_contract::abi::ContractDef {
                name: #name,
                version: ::core::env!("CARGO_PKG_VERSION"),
                constructor: #constructor,
                migrate: #migrate,
                methods: &[#(#method_defs),*],
                events: &[#(#events),*],
            };
        }

        // The ABI document, rendered while compiling (on every target, so that an ABI error
        // shows on the host too) and placed in the `weft:abi` custom section of the wasm module.
        const _: () = {
            const LEN: usize = ::weft_contract::abi::json_len(&<#self_ty as ::weft_contract::Contract>::ABI);
            #[cfg(target_arch = "wasm32")]
            #[allow(unsafe_code)]
            #[unsafe(link_section = #section)]
            static WEFT_ABI: [u8; LEN] =
                ::weft_contract::abi::json::<LEN>(&<#self_ty as ::weft_contract::Contract>::ABI);
        };
    })
}
