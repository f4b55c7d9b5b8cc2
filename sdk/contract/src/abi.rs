//! The contract ABI of docs/abi.md as Rust constants, and its JSON writer, which runs at compile
//! time.
//!
//! Every ABI type implements [`AbiType`], whose constant [`AbiType::TY`] describes it: the
//! primitive and standard types here (`Vec<u8>` is `"bytes"`, `Address` is `"address"`, `()`
//! is `"unit"`, tuples up to 12), user structs and enums through `#[derive(AbiType)]`. Because
//! the description is a trait constant, type aliases and generic containers resolve exactly as
//! the compiler sees them. `#[contract]` assembles a [`ContractDef`] from the method signatures
//! and the listed events, and [`json`] renders it at compile time into the fixed-size byte array
//! placed in the `weft:abi` custom section; [`to_json`] renders the same bytes at run time (for
//! tests and tools).
//!
//! Limits, checked while compiling: at most [`MAX_TYPES`] named types per contract; two
//! different types may not share a name; recursive types cannot be described.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::{Address, Hash};

/// A type as the ABI writes it (docs/abi.md, "Types").
#[derive(Clone, Copy)]
pub enum Ty {
    /// A type named by a fixed string: `"unit"`, `"bool"`, the integers, `"string"`, `"bytes"`,
    /// `"address"`, `"hash"`.
    Prim(&'static str),
    /// `{"option": T}`.
    Option(&'static Ty),
    /// `{"vec": T}`.
    Vec(&'static Ty),
    /// `{"array": {"type": T, "len": N}}`.
    Array(&'static Ty, usize),
    /// `{"tuple": [T, …]}`.
    Tuple(&'static [Ty]),
    /// `"Name"`, defined in the document's `types`.
    Named(&'static TypeDef),
}

/// A named type's definition (an entry of `types`).
#[derive(Clone, Copy)]
pub struct TypeDef {
    /// The name the ABI refers to it by.
    pub name: &'static str,
    /// Its shape.
    pub shape: Shape,
}

/// The shape of a named type.
#[derive(Clone, Copy)]
pub enum Shape {
    /// `{"struct": [fields]}`.
    Struct(&'static [Field]),
    /// `{"enum": [variants]}`; the SCALE variant index is the position in the list.
    Enum(&'static [Variant]),
    /// `{"tuple": [types]}`: a tuple struct.
    Tuple(&'static [Ty]),
}

/// A named, typed field (of a struct, enum variant, or a method argument).
#[derive(Clone, Copy)]
pub struct Field {
    /// Field or argument name.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
}

/// An enum variant.
#[derive(Clone, Copy)]
pub struct Variant {
    /// Variant name.
    pub name: &'static str,
    /// Its fields (tuple variants name them `"0"`, `"1"`, …).
    pub fields: &'static [Field],
}

/// A field of an event.
#[derive(Clone, Copy)]
pub struct EventField {
    /// Field name.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
    /// Whether it is a topic.
    pub indexed: bool,
}

/// An event.
#[derive(Clone, Copy)]
pub struct EventDef {
    /// The event's name; `topics[0]` is its SHA3-256.
    pub name: &'static str,
    /// Its fields, in order.
    pub fields: &'static [EventField],
}

/// A callable method.
#[derive(Clone, Copy)]
pub struct MethodDef {
    /// Export name.
    pub name: &'static str,
    /// Arguments, in order.
    pub args: &'static [Field],
    /// `T` (of `Result<T, E>` or the plain return type).
    pub returns: Ty,
    /// `E` of `Result<T, E>`.
    pub error: Option<Ty>,
    /// `false` for `&self` methods.
    pub mutates: bool,
    /// Whether it accepts a value.
    pub payable: bool,
    /// The doc comment, or empty.
    pub docs: &'static str,
}

/// The constructor (`init`).
#[derive(Clone, Copy)]
pub struct ConstructorDef {
    /// Arguments, in order.
    pub args: &'static [Field],
    /// Whether it accepts a value.
    pub payable: bool,
    /// `E` when it returns `Result<(), E>`.
    pub error: Option<Ty>,
    /// The doc comment, or empty.
    pub docs: &'static str,
}

/// A whole contract ABI document.
#[derive(Clone, Copy)]
pub struct ContractDef {
    /// The contract's name.
    pub name: &'static str,
    /// The contract crate's version.
    pub version: &'static str,
    /// The constructor, if the contract has one.
    pub constructor: Option<ConstructorDef>,
    /// The migration an upgrade to this code runs (`#[migrate]`), if it has one.
    pub migrate: Option<ConstructorDef>,
    /// Methods in source order.
    pub methods: &'static [MethodDef],
    /// Events the contract emits.
    pub events: &'static [EventDef],
}

/// A type the ABI can describe. Implement it for your own structs and enums with
/// `#[derive(AbiType)]` (next to `Encode, Decode`).
pub trait AbiType {
    /// The type's description.
    const TY: Ty;
    /// `true` only for `u8`, so that `Vec<u8>` is `"bytes"`.
    #[doc(hidden)]
    const IS_BYTE: bool = false;
}

macro_rules! prim {
    ($($t:ty => $name:literal),* $(,)?) => {
        $(impl AbiType for $t { const TY: Ty = Ty::Prim($name); })*
    };
}

prim! {
    () => "unit", bool => "bool", u16 => "u16", u32 => "u32", u64 => "u64", u128 => "u128",
    i8 => "i8", i16 => "i16", i32 => "i32", i64 => "i64", i128 => "i128", String => "string",
    Address => "address", Hash => "hash",
}

impl AbiType for u8 {
    const TY: Ty = Ty::Prim("u8");
    const IS_BYTE: bool = true;
}

impl<T: AbiType> AbiType for Option<T> {
    const TY: Ty = Ty::Option(&T::TY);
}

impl<T: AbiType> AbiType for Vec<T> {
    const TY: Ty = if T::IS_BYTE { Ty::Prim("bytes") } else { Ty::Vec(&T::TY) };
}

impl<T: AbiType> AbiType for BTreeSet<T> {
    const TY: Ty = Ty::Vec(&T::TY);
}

impl<K: AbiType, V: AbiType> AbiType for BTreeMap<K, V> {
    const TY: Ty = Ty::Vec(&Ty::Tuple(&[K::TY, V::TY]));
}

impl<T: AbiType> AbiType for Box<T> {
    const TY: Ty = T::TY;
}

impl<T: AbiType, const N: usize> AbiType for [T; N] {
    const TY: Ty = Ty::Array(&T::TY, N);
}

macro_rules! tuples {
    ($(($($t:ident),+))*) => {
        $(impl<$($t: AbiType),+> AbiType for ($($t,)+) { const TY: Ty = Ty::Tuple(&[$($t::TY),+]); })*
    };
}

tuples! {
    (A) (A, B) (A, B, C) (A, B, C, D) (A, B, C, D, E) (A, B, C, D, E, F) (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H) (A, B, C, D, E, F, G, H, I) (A, B, C, D, E, F, G, H, I, J)
    (A, B, C, D, E, F, G, H, I, J, K) (A, B, C, D, E, F, G, H, I, J, K, L)
}

/// Whether an indexed event field of type `ty` is its own topic (addresses, hashes, `bool` and
/// integers: SCALE, zero-padded) rather than the SHA3-256 of its encoding.
pub const fn topic_is_direct(ty: &Ty) -> bool {
    const DIRECT: [&str; 13] =
        ["address", "hash", "bool", "u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64", "i128"];
    let Ty::Prim(name) = ty else { return false };
    let mut i = 0;
    while i < DIRECT.len() {
        if str_eq(name, DIRECT[i]) {
            return true;
        }
        i += 1;
    }
    false
}

/// Named types one contract ABI may hold.
pub const MAX_TYPES: usize = 128;

/// Length in bytes of the JSON document of `def`.
pub const fn json_len(def: &ContractDef) -> usize {
    let mut w = Writer { buf: &mut [], pos: 0, counting: true };
    w.document(def);
    w.pos
}

/// The JSON document of `def` (docs/abi.md); `N` must be [`json_len`]`(def)`.
pub const fn json<const N: usize>(def: &ContractDef) -> [u8; N] {
    let mut buf = [0u8; N];
    let mut w = Writer { buf: &mut buf, pos: 0, counting: false };
    w.document(def);
    if w.pos != N {
        panic!("weft ABI: the buffer length is not json_len(def)");
    }
    buf
}

/// The JSON document of `def`, rendered at run time (the same bytes as [`json`]).
pub fn to_json(def: &ContractDef) -> String {
    let mut buf = vec![0u8; json_len(def)];
    let mut w = Writer { buf: &mut buf, pos: 0, counting: false };
    w.document(def);
    // The writer only emits ASCII and the UTF-8 of `&str`s, escaped.
    String::from_utf8(buf).unwrap_or_default()
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn ty_eq(a: &Ty, b: &Ty) -> bool {
    match (a, b) {
        (Ty::Prim(x), Ty::Prim(y)) => str_eq(x, y),
        (Ty::Option(x), Ty::Option(y)) | (Ty::Vec(x), Ty::Vec(y)) => ty_eq(x, y),
        (Ty::Array(x, n), Ty::Array(y, m)) => *n == *m && ty_eq(x, y),
        (Ty::Tuple(x), Ty::Tuple(y)) => tys_eq(x, y),
        // Named types are compared by name; their definitions are compared once, when collected.
        (Ty::Named(x), Ty::Named(y)) => str_eq(x.name, y.name),
        _ => false,
    }
}

const fn tys_eq(a: &[Ty], b: &[Ty]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !ty_eq(&a[i], &b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

const fn fields_eq(a: &[Field], b: &[Field]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !str_eq(a[i].name, b[i].name) || !ty_eq(&a[i].ty, &b[i].ty) {
            return false;
        }
        i += 1;
    }
    true
}

const fn def_eq(a: &TypeDef, b: &TypeDef) -> bool {
    match (&a.shape, &b.shape) {
        (Shape::Struct(x), Shape::Struct(y)) => fields_eq(x, y),
        (Shape::Tuple(x), Shape::Tuple(y)) => tys_eq(x, y),
        (Shape::Enum(x), Shape::Enum(y)) => {
            if x.len() != y.len() {
                return false;
            }
            let mut i = 0;
            while i < x.len() {
                if !str_eq(x[i].name, y[i].name) || !fields_eq(x[i].fields, y[i].fields) {
                    return false;
                }
                i += 1;
            }
            true
        }
        _ => false,
    }
}

/// The named types reachable from a document, each once, in order of first use.
struct Types {
    list: [Option<&'static TypeDef>; MAX_TYPES],
    len: usize,
}

impl Types {
    const fn collect(def: &ContractDef) -> Types {
        let mut t = Types { list: [None; MAX_TYPES], len: 0 };
        if let Some(c) = &def.constructor {
            t.fields(c.args);
            if let Some(e) = &c.error {
                t.ty(e);
            }
        }
        if let Some(c) = &def.migrate {
            t.fields(c.args);
            if let Some(e) = &c.error {
                t.ty(e);
            }
        }
        let mut i = 0;
        while i < def.methods.len() {
            let m = &def.methods[i];
            t.fields(m.args);
            t.ty(&m.returns);
            if let Some(e) = &m.error {
                t.ty(e);
            }
            i += 1;
        }
        let mut i = 0;
        while i < def.events.len() {
            let fields = def.events[i].fields;
            let mut j = 0;
            while j < fields.len() {
                t.ty(&fields[j].ty);
                j += 1;
            }
            i += 1;
        }
        t
    }

    const fn fields(&mut self, fields: &[Field]) {
        let mut i = 0;
        while i < fields.len() {
            self.ty(&fields[i].ty);
            i += 1;
        }
    }

    const fn ty(&mut self, ty: &Ty) {
        match ty {
            Ty::Prim(_) => {}
            Ty::Option(t) | Ty::Vec(t) | Ty::Array(t, _) => self.ty(t),
            Ty::Tuple(ts) => {
                let mut i = 0;
                while i < ts.len() {
                    self.ty(&ts[i]);
                    i += 1;
                }
            }
            Ty::Named(def) => self.named(def),
        }
    }

    const fn named(&mut self, def: &'static TypeDef) {
        let mut i = 0;
        while i < self.len {
            if let Some(seen) = self.list[i]
                && str_eq(seen.name, def.name)
            {
                if !def_eq(seen, def) {
                    panic!("weft ABI: two different types have the same name");
                }
                return;
            }
            i += 1;
        }
        if self.len == MAX_TYPES {
            panic!("weft ABI: more than MAX_TYPES named types");
        }
        self.list[self.len] = Some(def);
        self.len += 1;
        match &def.shape {
            Shape::Struct(fields) => self.fields(fields),
            Shape::Tuple(ts) => {
                let mut i = 0;
                while i < ts.len() {
                    self.ty(&ts[i]);
                    i += 1;
                }
            }
            Shape::Enum(variants) => {
                let mut i = 0;
                while i < variants.len() {
                    self.fields(variants[i].fields);
                    i += 1;
                }
            }
        }
    }
}

/// Writes JSON into `buf`, or only counts its length.
struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    counting: bool,
}

impl Writer<'_> {
    const fn byte(&mut self, b: u8) {
        if !self.counting {
            if self.pos >= self.buf.len() {
                panic!("weft ABI: buffer too small");
            }
            self.buf[self.pos] = b;
        }
        self.pos += 1;
    }

    /// Raw ASCII.
    const fn raw(&mut self, s: &str) {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            self.byte(b[i]);
            i += 1;
        }
    }

    /// A JSON string literal.
    const fn string(&mut self, s: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.byte(b'"');
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            match c {
                b'"' => self.raw("\\\""),
                b'\\' => self.raw("\\\\"),
                b'\n' => self.raw("\\n"),
                b'\r' => self.raw("\\r"),
                b'\t' => self.raw("\\t"),
                0..=0x1f => {
                    self.raw("\\u00");
                    self.byte(HEX[(c >> 4) as usize]);
                    self.byte(HEX[(c & 0xf) as usize]);
                }
                _ => self.byte(c),
            }
            i += 1;
        }
        self.byte(b'"');
    }

    const fn number(&mut self, n: usize) {
        let mut digits = [0u8; 20];
        let (mut n, mut len) = (n, 0);
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        while len > 0 {
            len -= 1;
            self.byte(digits[len]);
        }
    }

    const fn bool(&mut self, b: bool) {
        self.raw(if b { "true" } else { "false" });
    }

    /// `"key":`
    const fn key(&mut self, k: &str) {
        self.string(k);
        self.byte(b':');
    }

    const fn comma(&mut self, i: usize) {
        if i > 0 {
            self.byte(b',');
        }
    }

    const fn ty(&mut self, ty: &Ty) {
        match ty {
            Ty::Prim(name) => self.string(name),
            Ty::Option(t) => {
                self.raw("{\"option\":");
                self.ty(t);
                self.byte(b'}');
            }
            Ty::Vec(t) => {
                self.raw("{\"vec\":");
                self.ty(t);
                self.byte(b'}');
            }
            Ty::Array(t, n) => {
                self.raw("{\"array\":{\"type\":");
                self.ty(t);
                self.raw(",\"len\":");
                self.number(*n);
                self.raw("}}");
            }
            Ty::Tuple(ts) => {
                self.raw("{\"tuple\":");
                self.tys(ts);
                self.byte(b'}');
            }
            Ty::Named(def) => self.string(def.name),
        }
    }

    const fn tys(&mut self, ts: &[Ty]) {
        self.byte(b'[');
        let mut i = 0;
        while i < ts.len() {
            self.comma(i);
            self.ty(&ts[i]);
            i += 1;
        }
        self.byte(b']');
    }

    const fn opt_ty(&mut self, ty: &Option<Ty>) {
        match ty {
            Some(t) => self.ty(t),
            None => self.raw("null"),
        }
    }

    /// `[{"name":…,"type":…},…]`
    const fn fields(&mut self, fields: &[Field]) {
        self.byte(b'[');
        let mut i = 0;
        while i < fields.len() {
            self.comma(i);
            self.byte(b'{');
            self.key("name");
            self.string(fields[i].name);
            self.byte(b',');
            self.key("type");
            self.ty(&fields[i].ty);
            self.byte(b'}');
            i += 1;
        }
        self.byte(b']');
    }

    const fn docs(&mut self, docs: &str) {
        if !docs.is_empty() {
            self.byte(b',');
            self.key("docs");
            self.string(docs);
        }
    }

    const fn type_def(&mut self, def: &TypeDef) {
        self.key(def.name);
        match &def.shape {
            Shape::Struct(fields) => {
                self.raw("{\"struct\":");
                self.fields(fields);
            }
            Shape::Tuple(ts) => {
                self.raw("{\"tuple\":");
                self.tys(ts);
            }
            Shape::Enum(variants) => {
                self.raw("{\"enum\":[");
                let mut i = 0;
                while i < variants.len() {
                    self.comma(i);
                    self.byte(b'{');
                    self.key("name");
                    self.string(variants[i].name);
                    self.byte(b',');
                    self.key("fields");
                    self.fields(variants[i].fields);
                    self.byte(b'}');
                    i += 1;
                }
                self.byte(b']');
            }
        }
        self.byte(b'}');
    }

    /// A constructor or migration entry: `{"args":…,"payable":…,"error":…[,"docs":…]}`.
    const fn entry(&mut self, c: &ConstructorDef) {
        self.byte(b'{');
        self.key("args");
        self.fields(c.args);
        self.byte(b',');
        self.key("payable");
        self.bool(c.payable);
        self.byte(b',');
        self.key("error");
        self.opt_ty(&c.error);
        self.docs(c.docs);
        self.byte(b'}');
    }

    const fn document(&mut self, def: &ContractDef) {
        self.raw("{\"weft_abi\":1,");
        self.key("contract");
        self.string(def.name);
        self.byte(b',');
        self.key("version");
        self.string(def.version);
        self.byte(b',');
        self.key("constructor");
        match &def.constructor {
            None => self.raw("null"),
            Some(c) => self.entry(c),
        }
        self.byte(b',');
        // Only when present, so that documents of contracts without one are unchanged.
        if let Some(c) = &def.migrate {
            self.key("migrate");
            self.entry(c);
            self.byte(b',');
        }
        self.key("methods");
        self.byte(b'[');
        let mut i = 0;
        while i < def.methods.len() {
            let m = &def.methods[i];
            self.comma(i);
            self.byte(b'{');
            self.key("name");
            self.string(m.name);
            self.byte(b',');
            self.key("args");
            self.fields(m.args);
            self.byte(b',');
            self.key("returns");
            self.ty(&m.returns);
            self.byte(b',');
            self.key("error");
            self.opt_ty(&m.error);
            self.byte(b',');
            self.key("mutates");
            self.bool(m.mutates);
            self.byte(b',');
            self.key("payable");
            self.bool(m.payable);
            self.docs(m.docs);
            self.byte(b'}');
            i += 1;
        }
        self.raw("],");
        self.key("events");
        self.byte(b'[');
        let mut i = 0;
        while i < def.events.len() {
            let e = &def.events[i];
            self.comma(i);
            self.byte(b'{');
            self.key("name");
            self.string(e.name);
            self.raw(",\"fields\":[");
            let mut j = 0;
            while j < e.fields.len() {
                let f = &e.fields[j];
                self.comma(j);
                self.byte(b'{');
                self.key("name");
                self.string(f.name);
                self.byte(b',');
                self.key("type");
                self.ty(&f.ty);
                self.byte(b',');
                self.key("indexed");
                self.bool(f.indexed);
                self.byte(b'}');
                j += 1;
            }
            self.raw("]}");
            i += 1;
        }
        self.raw("],");
        self.key("types");
        self.byte(b'{');
        let types = Types::collect(def);
        let mut i = 0;
        while i < types.len {
            self.comma(i);
            if let Some(t) = types.list[i] {
                self.type_def(t);
            }
            i += 1;
        }
        self.raw("}}");
    }
}
