//! The ABI document of docs/abi.md as Rust types: loading from JSON with every rule checked
//! (version, defined types, unique names, finite types, size and nesting limits), lookups, and
//! the one-line signatures tools print.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use weft_types::{Hash, MethodName, limits::MAX_EVENT_TOPICS, sha3_256};

use crate::AbiError;

/// The ABI version this crate reads and writes (`"weft_abi": 1`).
pub const ABI_VERSION: u64 = 1;
/// The largest ABI document accepted, in bytes.
pub const MAX_ABI_BYTES: usize = 256 * 1024;
/// The deepest nesting of types (in one type expression, and of values through named types).
pub const MAX_TYPE_DEPTH: usize = 32;
/// The largest `len` of an `{"array": …}` type.
pub const MAX_ARRAY_LEN: u32 = 65_536;
/// Most fields of one event that may be `indexed` (one topic is the event's name).
pub const MAX_INDEXED_FIELDS: usize = MAX_EVENT_TOPICS - 1;

/// A contract's ABI: the document stored in its `weft:abi` custom section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Abi {
    /// The document version; always [`ABI_VERSION`] once loaded.
    pub weft_abi: u64,
    /// The contract's name.
    #[serde(default)]
    pub contract: String,
    /// The contract crate's version.
    #[serde(default)]
    pub version: String,
    /// The constructor (`init`), `None` when the contract has none.
    #[serde(default)]
    pub constructor: Option<Constructor>,
    /// The migration (`migrate`), run by an upgrade to this code; absent when the code has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrate: Option<Constructor>,
    /// Callable methods, in source order.
    #[serde(default)]
    pub methods: Vec<Method>,
    /// Events the contract emits.
    #[serde(default)]
    pub events: Vec<EventDef>,
    /// Named types (structs, enums, tuple structs).
    #[serde(default)]
    pub types: BTreeMap<String, TypeDef>,
}

/// The constructor, run once by `Instantiate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constructor {
    /// Its arguments, in order.
    #[serde(default)]
    pub args: Vec<Arg>,
    /// Whether it accepts a value other than 0.
    #[serde(default)]
    pub payable: bool,
    /// The error type `E` when it returns `Result<(), E>`.
    #[serde(default)]
    pub error: Option<TypeRef>,
}

/// A callable method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Method {
    /// The export name.
    pub name: String,
    /// Its arguments, in order.
    #[serde(default)]
    pub args: Vec<Arg>,
    /// The return type (`T` of `Result<T, E>`), `unit` for none.
    #[serde(default = "unit")]
    pub returns: TypeRef,
    /// The error type `E` when the method returns `Result<T, E>`.
    #[serde(default)]
    pub error: Option<TypeRef>,
    /// `false` for a read-only method, which clients should query rather than send.
    #[serde(default = "yes")]
    pub mutates: bool,
    /// Whether it accepts a value other than 0.
    #[serde(default)]
    pub payable: bool,
    /// The method's doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
}

fn unit() -> TypeRef {
    TypeRef::Unit
}

fn yes() -> bool {
    true
}

/// A named, typed slot: a method or constructor argument, or a field of a struct or an enum
/// variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arg {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: TypeRef,
}

/// A field of a struct or enum variant (same shape as an argument).
pub type Field = Arg;

/// An event the contract emits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDef {
    /// Its name; `topics[0]` is `sha3_256(name)`.
    pub name: String,
    /// Its fields, in order.
    #[serde(default)]
    pub fields: Vec<EventField>,
}

/// A field of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventField {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: TypeRef,
    /// Whether it is carried as a topic rather than in the data.
    #[serde(default)]
    pub indexed: bool,
}

/// A definition in the document's `types`. Reading it, keys other than `struct`, `enum` and
/// `tuple` are ignored (forward compatibility); exactly one of those must be present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeDef {
    /// `{"struct": [{"name", "type"}, …]}`: fields in order; JSON object.
    Struct(Vec<Field>),
    /// `{"enum": [{"name", "fields"}, …]}`: a variant index byte, then its fields.
    Enum(Vec<Variant>),
    /// `{"tuple": [T, …]}`: a tuple struct; JSON array.
    Tuple(Vec<TypeRef>),
}

impl<'de> Deserialize<'de> for TypeDef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let Value::Object(mut map) = Value::deserialize(d)? else {
            return Err(D::Error::custom("a type definition must be an object"));
        };
        let known: Vec<String> =
            map.keys().filter(|k| matches!(k.as_str(), "struct" | "enum" | "tuple")).cloned().collect();
        let [key] = &known[..] else {
            return Err(D::Error::custom(format!(
                "a type definition must have exactly one of struct, enum, tuple; found {known:?}"
            )));
        };
        let body = map.remove(key).unwrap_or(Value::Null);
        match key.as_str() {
            "struct" => serde_json::from_value(body).map(TypeDef::Struct),
            "enum" => serde_json::from_value(body).map(TypeDef::Enum),
            _ => serde_json::from_value(body).map(TypeDef::Tuple),
        }
        .map_err(|e| D::Error::custom(format!("`{key}`: {e}")))
    }
}

/// A variant of an enum definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// Its name.
    pub name: String,
    /// Its fields (empty for a unit variant).
    #[serde(default)]
    pub fields: Vec<Field>,
}

/// A type expression (the table of docs/abi.md, "Types").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TypeRef {
    /// `"unit"`: nothing; JSON `null`.
    Unit,
    /// `"bool"`.
    Bool,
    /// `"u8"`.
    U8,
    /// `"u16"`.
    U16,
    /// `"u32"`.
    U32,
    /// `"u64"`.
    U64,
    /// `"u128"`: JSON decimal string.
    U128,
    /// `"i8"`.
    I8,
    /// `"i16"`.
    I16,
    /// `"i32"`.
    I32,
    /// `"i64"`.
    I64,
    /// `"i128"`: JSON decimal string.
    I128,
    /// `"string"`.
    String,
    /// `"bytes"`: JSON `"0x…"`.
    Bytes,
    /// `"address"`: 32 bytes, JSON `"0x…"`.
    Address,
    /// `"hash"`: 32 bytes, JSON `"0x…"`.
    Hash,
    /// `{"option": T}`.
    Option(Box<TypeRef>),
    /// `{"vec": T}`.
    Vec(Box<TypeRef>),
    /// `{"array": {"type": T, "len": N}}`.
    Array(Box<TypeRef>, u32),
    /// `{"tuple": [T, …]}`.
    Tuple(Vec<TypeRef>),
    /// Any other string: a definition in `types`.
    Named(String),
}

const PRIMITIVES: &[(&str, TypeRef)] = &[
    ("unit", TypeRef::Unit),
    ("bool", TypeRef::Bool),
    ("u8", TypeRef::U8),
    ("u16", TypeRef::U16),
    ("u32", TypeRef::U32),
    ("u64", TypeRef::U64),
    ("u128", TypeRef::U128),
    ("i8", TypeRef::I8),
    ("i16", TypeRef::I16),
    ("i32", TypeRef::I32),
    ("i64", TypeRef::I64),
    ("i128", TypeRef::I128),
    ("string", TypeRef::String),
    ("bytes", TypeRef::Bytes),
    ("address", TypeRef::Address),
    ("hash", TypeRef::Hash),
];

impl TypeRef {
    /// The primitive named `name` (`"u128"`, `"address"`…), if it is one.
    pub fn primitive(name: &str) -> Option<TypeRef> {
        PRIMITIVES.iter().find(|(n, _)| *n == name).map(|(_, t)| t.clone())
    }

    /// A named type.
    pub fn named(name: &str) -> TypeRef {
        TypeRef::primitive(name).unwrap_or_else(|| TypeRef::Named(name.to_owned()))
    }

    /// Parses a type expression from its JSON form, refusing nesting deeper than
    /// [`MAX_TYPE_DEPTH`].
    pub fn from_json(value: &Value) -> Result<TypeRef, String> {
        Self::parse(value, 0)
    }

    fn parse(value: &Value, depth: usize) -> Result<TypeRef, String> {
        if depth >= MAX_TYPE_DEPTH {
            return Err(format!("type nested deeper than {MAX_TYPE_DEPTH} levels"));
        }
        match value {
            Value::String(s) => {
                if s.is_empty() {
                    return Err("empty type name".into());
                }
                Ok(TypeRef::named(s))
            }
            Value::Object(map) => {
                let known: Vec<&String> = map
                    .keys()
                    .filter(|k| matches!(k.as_str(), "option" | "vec" | "array" | "tuple"))
                    .collect();
                let [key] = known[..] else {
                    let keys: Vec<&String> = map.keys().collect();
                    return Err(format!(
                        "a type object must have exactly one of option, vec, array, tuple; found keys {keys:?}"
                    ));
                };
                let inner = &map[key];
                match key.as_str() {
                    "option" => Ok(TypeRef::Option(Box::new(Self::parse(inner, depth + 1)?))),
                    "vec" => Ok(TypeRef::Vec(Box::new(Self::parse(inner, depth + 1)?))),
                    "tuple" => {
                        let Value::Array(items) = inner else {
                            return Err(format!("`tuple` must be an array of types, got {}", short(inner)));
                        };
                        let items =
                            items.iter().map(|t| Self::parse(t, depth + 1)).collect::<Result<_, _>>()?;
                        Ok(TypeRef::Tuple(items))
                    }
                    _ => {
                        let (Some(ty), Some(len)) = (inner.get("type"), inner.get("len")) else {
                            return Err(format!(
                                "`array` must be {{\"type\": T, \"len\": N}}, got {}",
                                short(inner)
                            ));
                        };
                        let len = len
                            .as_u64()
                            .and_then(|n| u32::try_from(n).ok())
                            .filter(|n| *n <= MAX_ARRAY_LEN)
                            .ok_or_else(|| {
                                format!("array `len` must be an integer from 0 to {MAX_ARRAY_LEN}, got {len}")
                            })?;
                        Ok(TypeRef::Array(Box::new(Self::parse(ty, depth + 1)?), len))
                    }
                }
            }
            other => Err(format!("a type must be a string or an object, got {}", short(other))),
        }
    }

    /// The JSON form of the type expression.
    pub fn to_json(&self) -> Value {
        match self {
            TypeRef::Option(t) => json_obj("option", t.to_json()),
            TypeRef::Vec(t) => json_obj("vec", t.to_json()),
            TypeRef::Array(t, len) => {
                let mut inner = Map::new();
                inner.insert("type".into(), t.to_json());
                inner.insert("len".into(), Value::from(*len));
                json_obj("array", Value::Object(inner))
            }
            TypeRef::Tuple(items) => {
                json_obj("tuple", Value::Array(items.iter().map(Self::to_json).collect()))
            }
            TypeRef::Named(name) => Value::String(name.clone()),
            primitive => Value::String(primitive.primitive_name().unwrap_or("unit").to_owned()),
        }
    }

    /// The name of a primitive type, `None` for composite and named types.
    pub fn primitive_name(&self) -> Option<&'static str> {
        PRIMITIVES.iter().find(|(_, t)| t == self).map(|(n, _)| *n)
    }

    /// Every named type this expression mentions, directly or inside composites.
    fn visit_named<'a>(&'a self, f: &mut impl FnMut(&'a str)) {
        match self {
            TypeRef::Named(n) => f(n),
            TypeRef::Option(t) | TypeRef::Vec(t) | TypeRef::Array(t, _) => t.visit_named(f),
            TypeRef::Tuple(items) => items.iter().for_each(|t| t.visit_named(f)),
            _ => {}
        }
    }
}

fn json_obj(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.into(), value);
    Value::Object(m)
}

/// A short rendering of a JSON value for error messages (at most about 60 characters).
pub(crate) fn short(value: &Value) -> String {
    let s = value.to_string();
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}

impl fmt::Display for TypeRef {
    /// Rust-like: `u128`, `option<address>`, `vec<u8>`, `[u8; 4]`, `(u8, bool)`, `TokenError`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeRef::Option(t) => write!(f, "option<{t}>"),
            TypeRef::Vec(t) => write!(f, "vec<{t}>"),
            TypeRef::Array(t, n) => write!(f, "[{t}; {n}]"),
            TypeRef::Tuple(items) => {
                f.write_str("(")?;
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                if items.len() == 1 {
                    f.write_str(",")?;
                }
                f.write_str(")")
            }
            TypeRef::Named(n) => f.write_str(n),
            primitive => f.write_str(primitive.primitive_name().unwrap_or("unit")),
        }
    }
}

impl Serialize for TypeRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for TypeRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        TypeRef::from_json(&value).map_err(serde::de::Error::custom)
    }
}

/// `sha3_256(name)`: the first topic of every event named `name`.
pub fn event_topic(name: &str) -> Hash {
    sha3_256(name.as_bytes())
}

fn args_signature(args: &[Arg]) -> String {
    args.iter().map(|a| format!("{}: {}", a.name, a.ty)).collect::<Vec<_>>().join(", ")
}

impl Method {
    /// One line: `transfer(to: address, amount: u128) -> unit`.
    pub fn signature(&self) -> String {
        format!("{}({}) -> {}", self.name, args_signature(&self.args), self.returns)
    }

    /// The signature with the error type and flags, for summaries:
    /// `transfer(to: address, amount: u128) -> unit ! TokenError [payable]`.
    pub fn describe(&self) -> String {
        let mut s = self.signature();
        if let Some(e) = &self.error {
            s.push_str(&format!(" ! {e}"));
        }
        if self.payable {
            s.push_str(" [payable]");
        }
        if !self.mutates {
            s.push_str(" [read-only]");
        }
        s
    }
}

impl Constructor {
    /// One line: `init(supply: u128)`, with the error type and `[payable]` when present.
    pub fn signature(&self) -> String {
        let mut s = format!("init({})", args_signature(&self.args));
        if let Some(e) = &self.error {
            s.push_str(&format!(" ! {e}"));
        }
        if self.payable {
            s.push_str(" [payable]");
        }
        s
    }
}

impl EventDef {
    /// One line: `Transfer(indexed from: address, indexed to: address, amount: u128)`.
    pub fn signature(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|f| format!("{}{}: {}", if f.indexed { "indexed " } else { "" }, f.name, f.ty))
            .collect();
        format!("{}({})", self.name, fields.join(", "))
    }

    /// This event's first topic, `sha3_256(name)`.
    pub fn topic(&self) -> Hash {
        event_topic(&self.name)
    }
}

impl Abi {
    /// Parses and validates a document (see [`Abi::validate`]); refuses documents over
    /// [`MAX_ABI_BYTES`] before parsing them.
    pub fn from_json(json: &str) -> Result<Abi, AbiError> {
        if json.len() > MAX_ABI_BYTES {
            return Err(AbiError::TooLarge { len: json.len(), max: MAX_ABI_BYTES });
        }
        let value: Value = serde_json::from_str(json).map_err(|e| AbiError::Json(e.to_string()))?;
        // Check the version first, so a future document gives a version error rather than a
        // shape error.
        match value.get("weft_abi") {
            Some(Value::Number(n)) if n.as_u64() == Some(ABI_VERSION) => {}
            Some(Value::Number(n)) => {
                return Err(AbiError::UnsupportedVersion {
                    found: n.as_u64().unwrap_or(0),
                    known: ABI_VERSION,
                });
            }
            Some(other) => return Err(AbiError::Json(format!("`weft_abi` must be a number, got {other}"))),
            None => return Err(AbiError::Json("missing field `weft_abi`".into())),
        }
        let abi: Abi = serde_json::from_value(value).map_err(|e| AbiError::Json(e.to_string()))?;
        abi.validate()?;
        Ok(abi)
    }

    /// The document as compact JSON.
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Checks the rules of docs/abi.md and this reader's limits: version 1; method names are
    /// valid method names and unique; argument, field, variant and event names unique where
    /// they share a scope; at most [`MAX_INDEXED_FIELDS`] indexed fields per event and at most
    /// 256 variants per enum; every named type defined and not shadowing a primitive; and
    /// every named type has a finite value (no type contains itself without an `option`,
    /// `vec`, empty array or another enum variant in between).
    pub fn validate(&self) -> Result<(), AbiError> {
        let invalid = |m: String| Err(AbiError::Invalid(m));
        if self.weft_abi != ABI_VERSION {
            return Err(AbiError::UnsupportedVersion { found: self.weft_abi, known: ABI_VERSION });
        }
        let mut mentioned: Vec<(String, &TypeRef)> = Vec::new();
        if let Some(c) = &self.constructor {
            unique(c.args.iter().map(|a| a.name.as_str()), "argument", "constructor")?;
            mentioned.extend(c.args.iter().map(|a| (format!("constructor argument `{}`", a.name), &a.ty)));
            mentioned.extend(c.error.iter().map(|e| ("constructor error".to_owned(), e)));
        }
        if let Some(c) = &self.migrate {
            unique(c.args.iter().map(|a| a.name.as_str()), "argument", "migrate")?;
            mentioned.extend(c.args.iter().map(|a| (format!("migrate argument `{}`", a.name), &a.ty)));
            mentioned.extend(c.error.iter().map(|e| ("migrate error".to_owned(), e)));
        }
        unique(self.methods.iter().map(|m| m.name.as_str()), "method", "the ABI")?;
        for m in &self.methods {
            if MethodName::new(&m.name).is_err() {
                return invalid(format!(
                    "method name {:?} must match [A-Za-z_][A-Za-z0-9_]* (1 to 64 bytes)",
                    m.name
                ));
            }
            let scope = format!("method `{}`", m.name);
            unique(m.args.iter().map(|a| a.name.as_str()), "argument", &scope)?;
            mentioned.extend(m.args.iter().map(|a| (format!("{scope} argument `{}`", a.name), &a.ty)));
            mentioned.push((format!("{scope} return type"), &m.returns));
            mentioned.extend(m.error.iter().map(|e| (format!("{scope} error type"), e)));
        }
        unique(self.events.iter().map(|e| e.name.as_str()), "event", "the ABI")?;
        for e in &self.events {
            let scope = format!("event `{}`", e.name);
            unique(e.fields.iter().map(|f| f.name.as_str()), "field", &scope)?;
            let indexed = e.fields.iter().filter(|f| f.indexed).count();
            if indexed > MAX_INDEXED_FIELDS {
                return invalid(format!(
                    "{scope} has {indexed} indexed fields, at most {MAX_INDEXED_FIELDS} allowed"
                ));
            }
            mentioned.extend(e.fields.iter().map(|f| (format!("{scope} field `{}`", f.name), &f.ty)));
        }
        for (name, def) in &self.types {
            if TypeRef::primitive(name).is_some() || name.is_empty() {
                return invalid(format!("type name {name:?} is reserved for a primitive type"));
            }
            let scope = format!("type `{name}`");
            match def {
                TypeDef::Struct(fields) => {
                    unique(fields.iter().map(|f| f.name.as_str()), "field", &scope)?;
                    mentioned.extend(fields.iter().map(|f| (format!("{scope} field `{}`", f.name), &f.ty)));
                }
                TypeDef::Tuple(items) => {
                    mentioned.extend(items.iter().enumerate().map(|(i, t)| (format!("{scope} item {i}"), t)));
                }
                TypeDef::Enum(variants) => {
                    if variants.len() > 256 {
                        return invalid(format!(
                            "{scope} has {} variants, at most 256 allowed",
                            variants.len()
                        ));
                    }
                    unique(variants.iter().map(|v| v.name.as_str()), "variant", &scope)?;
                    for v in variants {
                        let vscope = format!("{scope} variant `{}`", v.name);
                        unique(v.fields.iter().map(|f| f.name.as_str()), "field", &vscope)?;
                        mentioned
                            .extend(v.fields.iter().map(|f| (format!("{vscope} field `{}`", f.name), &f.ty)));
                    }
                }
            }
        }
        for (place, ty) in &mentioned {
            let mut missing = None;
            ty.visit_named(&mut |n| {
                if missing.is_none() && !self.types.contains_key(n) {
                    missing = Some(n.to_owned());
                }
            });
            if let Some(n) = missing {
                return invalid(format!("{place} refers to type `{n}`, which `types` does not define"));
            }
        }
        self.check_finite()
    }

    /// Refuses named types that have no finite value, such as `struct A { a: A }`: computes the
    /// set of types with a finite value as a fixpoint and reports any type left out.
    fn check_finite(&self) -> Result<(), AbiError> {
        let mut finite: BTreeSet<&str> = BTreeSet::new();
        loop {
            let before = finite.len();
            for (name, def) in &self.types {
                if finite.contains(name.as_str()) {
                    continue;
                }
                let ok = match def {
                    TypeDef::Struct(fields) => fields.iter().all(|f| has_finite_value(&f.ty, &finite)),
                    TypeDef::Tuple(items) => items.iter().all(|t| has_finite_value(t, &finite)),
                    TypeDef::Enum(variants) => {
                        variants.iter().any(|v| v.fields.iter().all(|f| has_finite_value(&f.ty, &finite)))
                    }
                };
                if ok {
                    finite.insert(name);
                }
            }
            if finite.len() == before {
                break;
            }
        }
        match self.types.keys().find(|n| !finite.contains(n.as_str())) {
            Some(n) => Err(AbiError::Invalid(format!(
                "type `{n}` has no finite value (it contains itself with no option, vec or other variant in between)"
            ))),
            None => Ok(()),
        }
    }

    /// The method named `name`.
    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.name == name)
    }

    /// The event named `name`.
    pub fn event(&self, name: &str) -> Option<&EventDef> {
        self.events.iter().find(|e| e.name == name)
    }

    /// The event whose first topic is `topic`.
    pub fn event_by_topic(&self, topic: &Hash) -> Option<&EventDef> {
        self.events.iter().find(|e| e.topic() == *topic)
    }

    /// The definition of the named type `name`.
    pub fn type_def(&self, name: &str) -> Option<&TypeDef> {
        self.types.get(name)
    }

    /// A multi-line summary: the constructor, each method's [`Method::describe`] and each
    /// event's signature.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        if let Some(c) = &self.constructor {
            s.push_str(&format!("constructor: {}\n", c.signature()));
        }
        if let Some(c) = &self.migrate {
            s.push_str(&format!("migrate: {}\n", c.signature()));
        }
        if !self.methods.is_empty() {
            s.push_str("methods:\n");
            for m in &self.methods {
                s.push_str(&format!("  {}\n", m.describe()));
            }
        }
        if !self.events.is_empty() {
            s.push_str("events:\n");
            for e in &self.events {
                s.push_str(&format!("  {}\n", e.signature()));
            }
        }
        s
    }
}

fn has_finite_value(ty: &TypeRef, finite: &BTreeSet<&str>) -> bool {
    match ty {
        TypeRef::Named(n) => finite.contains(n.as_str()),
        TypeRef::Option(_) | TypeRef::Vec(_) | TypeRef::Array(_, 0) => true,
        TypeRef::Array(t, _) => has_finite_value(t, finite),
        TypeRef::Tuple(items) => items.iter().all(|t| has_finite_value(t, finite)),
        _ => true,
    }
}

fn unique<'a>(names: impl Iterator<Item = &'a str>, what: &str, scope: &str) -> Result<(), AbiError> {
    let mut seen = BTreeSet::new();
    for n in names {
        if n.is_empty() {
            return Err(AbiError::Invalid(format!("{scope} has a {what} with an empty name")));
        }
        if !seen.insert(n) {
            return Err(AbiError::Invalid(format!("{scope} has two {what}s named `{n}`")));
        }
    }
    Ok(())
}
