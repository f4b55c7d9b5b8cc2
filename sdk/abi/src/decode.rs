//! SCALE → JSON: decodes return data, revert data and events by the rules of docs/abi.md. Every
//! decode is exact (trailing bytes are an error) and bounded: lengths are checked against the
//! input left before anything is allocated, nesting is limited to [`MAX_TYPE_DEPTH`] and the
//! number of values produced to the input's size plus [`MAX_EMPTY_VALUES`].

use std::{collections::BTreeMap, fmt};

use parity_scale_codec::{Compact, Decode};
use serde_json::{Map, Value};
use weft_types::{Address, Event, Hash, sha3_256};

use crate::{
    AbiError,
    doc::{Abi, Field, MAX_TYPE_DEPTH, TypeDef, TypeRef, Variant},
};

/// How many values that occupy no bytes (units, empty tuples) a decode may produce beyond one
/// per input byte: the bound on the work and memory of decoding a `vec<unit>` of huge length.
pub const MAX_EMPTY_VALUES: usize = 65_536;

/// What a failed call's revert data says (docs/abi.md, "Calls").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revert {
    /// `0x00 ‖ UTF-8 message`: the contract panicked with this message.
    Panic(String),
    /// `0x01 ‖ SCALE(E)`: the method returned `Err(e)`; `e` decoded with its error type.
    Error(Value),
    /// Anything else (or a typed error whose type is unknown or does not decode).
    Raw(Vec<u8>),
}

impl Revert {
    /// Decodes revert data without an ABI: a panic message, or raw bytes.
    pub fn untyped(data: &[u8]) -> Revert {
        match data.split_first() {
            Some((0, msg)) => match std::str::from_utf8(msg) {
                Ok(msg) => Revert::Panic(msg.to_owned()),
                Err(_) => Revert::Raw(data.to_vec()),
            },
            _ => Revert::Raw(data.to_vec()),
        }
    }

    /// The panic message, if this is a panic.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            Revert::Panic(m) => Some(m),
            _ => None,
        }
    }

    /// The decoded typed error, if this is one.
    pub fn error_value(&self) -> Option<&Value> {
        match self {
            Revert::Error(v) => Some(v),
            _ => None,
        }
    }
}

impl fmt::Display for Revert {
    /// `panicked: insufficient balance`, `error: {"NotOwner":…}` or `0x…` (raw data in hex).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Revert::Panic(m) => write!(f, "panicked: {m}"),
            Revert::Error(v) => write!(f, "error: {v}"),
            Revert::Raw(data) if data.is_empty() => write!(f, "no revert data"),
            Revert::Raw(data) => fmt::Display::fmt(&weft_types::hex::Hex(data), f),
        }
    }
}

/// An event decoded with the emitting contract's ABI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedEvent {
    /// The contract that emitted it.
    pub contract: Address,
    /// The event's name.
    pub name: String,
    /// Its fields by name. An indexed field of a type other than `address`, `hash`, `bool` or
    /// an integer is only known by its hash: `{"hash": "0x…"}`.
    pub fields: Map<String, Value>,
}

impl Abi {
    /// Decodes exactly one value of type `ty` from `bytes`; trailing bytes are an error.
    pub fn decode_value(&self, ty: &TypeRef, bytes: &[u8]) -> Result<Value, AbiError> {
        let mut d = Decoder::new(self, bytes);
        let v = d.value(ty).map_err(|reason| AbiError::Decode { what: format!("{ty}{}", d.path), reason })?;
        if !d.input.is_empty() {
            return Err(AbiError::TrailingBytes { what: ty.to_string(), extra: d.input.len() });
        }
        Ok(v)
    }

    /// Decodes the return data of `method`.
    pub fn decode_return(&self, method: &str, bytes: &[u8]) -> Result<Value, AbiError> {
        let m = self.method(method).ok_or_else(|| AbiError::UnknownMethod(method.to_owned()))?;
        self.decode_value(&m.returns, bytes)
    }

    /// Decodes revert data: `0x00 ‖ UTF-8` is a panic; `0x01 ‖ SCALE(E)` is a typed error when
    /// `error_type` is given and the rest decodes exactly as it; anything else is raw.
    pub fn decode_revert(&self, error_type: Option<&TypeRef>, data: &[u8]) -> Revert {
        match (data.split_first(), error_type) {
            (Some((1, rest)), Some(ty)) => match self.decode_value(ty, rest) {
                Ok(v) => Revert::Error(v),
                Err(_) => Revert::Raw(data.to_vec()),
            },
            _ => Revert::untyped(data),
        }
    }

    /// Decodes `event` if this ABI declares an event whose `sha3_256(name)` is its first topic
    /// and its topics and data match that declaration exactly; `None` otherwise.
    pub fn decode_event(&self, event: &Event) -> Option<DecodedEvent> {
        let def = self.event_by_topic(event.topics.first()?)?;
        let indexed = def.fields.iter().filter(|f| f.indexed).count();
        if event.topics.len() != 1 + indexed {
            return None;
        }
        let mut topics = event.topics[1..].iter();
        let mut data = Decoder::new(self, &event.data);
        let mut fields = Map::new();
        for f in &def.fields {
            let value =
                if f.indexed { self.decode_topic(&f.ty, topics.next()?)? } else { data.value(&f.ty).ok()? };
            fields.insert(f.name.clone(), value);
        }
        if !data.input.is_empty() {
            return None;
        }
        Some(DecodedEvent { contract: event.contract, name: def.name.clone(), fields })
    }

    fn decode_topic(&self, ty: &TypeRef, topic: &Hash) -> Option<Value> {
        match topic_kind(ty) {
            TopicKind::Verbatim => self.decode_value(ty, &topic.0).ok(),
            TopicKind::Padded(width) => {
                if topic.0[width..].iter().any(|b| *b != 0) {
                    return None;
                }
                self.decode_value(ty, &topic.0[..width]).ok()
            }
            TopicKind::Hashed => {
                let mut m = Map::new();
                m.insert("hash".into(), Value::String(topic.to_string()));
                Some(Value::Object(m))
            }
        }
    }

    /// Encodes event `name` with `fields` (an object keyed by field name) into its topics and
    /// data, as a contract built with `weft-contract` emits it: the inverse of
    /// [`Abi::decode_event`] for events without hashed topics.
    pub fn encode_event(&self, name: &str, fields: &Value) -> Result<(Vec<Hash>, Vec<u8>), AbiError> {
        let def = self.event(name).ok_or_else(|| AbiError::UnknownEvent(name.to_owned()))?;
        let Value::Object(map) = fields else {
            return Err(AbiError::ArgsShape { hint: "", got: crate::doc::short(fields) });
        };
        let mut topics = vec![def.topic()];
        let mut data = Vec::new();
        for f in &def.fields {
            let v = map.get(&f.name).ok_or_else(|| AbiError::MissingArgument(f.name.clone()))?;
            let bytes = self
                .encode_value(&f.ty, v)
                .map_err(|e| relabel(e, &format!("field `{}` of event `{name}`", f.name)))?;
            if !f.indexed {
                data.extend_from_slice(&bytes);
                continue;
            }
            topics.push(match topic_kind(&f.ty) {
                TopicKind::Hashed => sha3_256(&bytes),
                TopicKind::Verbatim | TopicKind::Padded(_) => {
                    let mut t = [0u8; 32];
                    t[..bytes.len()].copy_from_slice(&bytes);
                    Hash(t)
                }
            });
        }
        if let Some(extra) = map.keys().find(|k| !def.fields.iter().any(|f| &f.name == *k)) {
            return Err(AbiError::UnknownArgument(extra.clone()));
        }
        Ok((topics, data))
    }
}

fn relabel(e: AbiError, path: &str) -> AbiError {
    match e {
        AbiError::Value { message, .. } => AbiError::Value { path: path.to_owned(), message },
        other => other,
    }
}

/// How an indexed field becomes a topic.
enum TopicKind {
    /// `address`, `hash`: the 32 bytes.
    Verbatim,
    /// `bool` and integers: SCALE, zero-padded on the right to 32 bytes.
    Padded(usize),
    /// Anything else: `sha3_256(SCALE(value))`.
    Hashed,
}

fn topic_kind(ty: &TypeRef) -> TopicKind {
    match ty {
        TypeRef::Address | TypeRef::Hash => TopicKind::Verbatim,
        TypeRef::Bool | TypeRef::U8 | TypeRef::I8 => TopicKind::Padded(1),
        TypeRef::U16 | TypeRef::I16 => TopicKind::Padded(2),
        TypeRef::U32 | TypeRef::I32 => TopicKind::Padded(4),
        TypeRef::U64 | TypeRef::I64 => TopicKind::Padded(8),
        TypeRef::U128 | TypeRef::I128 => TopicKind::Padded(16),
        _ => TopicKind::Hashed,
    }
}

struct Decoder<'a> {
    abi: &'a Abi,
    input: &'a [u8],
    depth: usize,
    /// Values that may still be produced.
    budget: usize,
    /// Where in the value we are (`.field`, `[3]`), for errors.
    path: String,
    /// Whether each named type's encoding is at least one byte (memoized).
    sized: BTreeMap<String, bool>,
}

type Msg = String;

impl<'a> Decoder<'a> {
    fn new(abi: &'a Abi, input: &'a [u8]) -> Self {
        Self {
            abi,
            input,
            depth: 0,
            budget: input.len().saturating_add(MAX_EMPTY_VALUES),
            path: String::new(),
            sized: BTreeMap::new(),
        }
    }

    fn take(&mut self, n: usize, what: &TypeRef) -> Result<&'a [u8], Msg> {
        if n > self.input.len() {
            return Err(format!("input ends inside {what} ({n} bytes needed, {} left)", self.input.len()));
        }
        let (head, rest) = self.input.split_at(n);
        self.input = rest;
        Ok(head)
    }

    fn compact_len(&mut self) -> Result<usize, Msg> {
        let mut input = self.input;
        let len = <Compact<u32>>::decode(&mut input).map_err(|e| format!("bad length prefix: {e}"))?.0;
        self.input = input;
        usize::try_from(len).map_err(|_| "length prefix does not fit in memory".to_owned())
    }

    fn at<T>(&mut self, segment: &str, f: impl FnOnce(&mut Self) -> Result<T, Msg>) -> Result<T, Msg> {
        let len = self.path.len();
        self.path.push_str(segment);
        let r = f(self)?;
        self.path.truncate(len);
        Ok(r)
    }

    fn value(&mut self, ty: &TypeRef) -> Result<Value, Msg> {
        self.depth += 1;
        if self.depth > MAX_TYPE_DEPTH {
            return Err(format!("value nested deeper than {MAX_TYPE_DEPTH} levels"));
        }
        self.budget = self
            .budget
            .checked_sub(1)
            .ok_or_else(|| format!("more than {MAX_EMPTY_VALUES} values beyond the input's size"))?;
        let v = self.value_inner(ty)?;
        self.depth -= 1;
        Ok(v)
    }

    fn value_inner(&mut self, ty: &TypeRef) -> Result<Value, Msg> {
        Ok(match ty {
            TypeRef::Unit => Value::Null,
            TypeRef::Bool => match self.take(1, ty)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(format!("invalid bool byte 0x{b:02x}")),
            },
            TypeRef::U8 => Value::from(self.le::<1>(ty)?[0]),
            TypeRef::U16 => Value::from(u16::from_le_bytes(self.le(ty)?)),
            TypeRef::U32 => Value::from(u32::from_le_bytes(self.le(ty)?)),
            TypeRef::U64 => Value::from(u64::from_le_bytes(self.le(ty)?)),
            TypeRef::U128 => Value::String(u128::from_le_bytes(self.le(ty)?).to_string()),
            TypeRef::I8 => Value::from(i8::from_le_bytes(self.le(ty)?)),
            TypeRef::I16 => Value::from(i16::from_le_bytes(self.le(ty)?)),
            TypeRef::I32 => Value::from(i32::from_le_bytes(self.le(ty)?)),
            TypeRef::I64 => Value::from(i64::from_le_bytes(self.le(ty)?)),
            TypeRef::I128 => Value::String(i128::from_le_bytes(self.le(ty)?).to_string()),
            TypeRef::String => {
                let bytes = self.prefixed(ty)?;
                let s = std::str::from_utf8(bytes).map_err(|e| format!("string is not UTF-8: {e}"))?;
                Value::String(s.to_owned())
            }
            TypeRef::Bytes => Value::String(weft_types::hex::encode(self.prefixed(ty)?)),
            TypeRef::Address => Value::String(Address(self.le(ty)?).to_string()),
            TypeRef::Hash => Value::String(Hash(self.le(ty)?).to_string()),
            TypeRef::Option(inner) => match self.take(1, ty)?[0] {
                0 => Value::Null,
                1 => self.value(inner)?,
                b => return Err(format!("invalid option byte 0x{b:02x}")),
            },
            TypeRef::Vec(inner) => {
                let len = self.compact_len()?;
                if len > self.input.len() && self.is_sized(inner, 0) {
                    return Err(format!(
                        "length prefix {len} runs past the end of the input ({} bytes left)",
                        self.input.len()
                    ));
                }
                self.items(inner, len)?
            }
            TypeRef::Array(inner, len) => self.items(inner, *len as usize)?,
            TypeRef::Tuple(types) => self.tuple(types)?,
            TypeRef::Named(name) => {
                let abi = self.abi;
                match abi.types.get(name) {
                    None => return Err(format!("type `{name}` is not defined")),
                    Some(TypeDef::Struct(fields)) => self.fields(fields)?,
                    Some(TypeDef::Tuple(types)) => self.tuple(types)?,
                    Some(TypeDef::Enum(variants)) => self.enum_value(name, variants)?,
                }
            }
        })
    }

    fn le<const N: usize>(&mut self, ty: &TypeRef) -> Result<[u8; N], Msg> {
        let bytes = self.take(N, ty)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn prefixed(&mut self, ty: &TypeRef) -> Result<&'a [u8], Msg> {
        let len = self.compact_len()?;
        if len > self.input.len() {
            return Err(format!(
                "length prefix {len} of {ty} runs past the end of the input ({} bytes left)",
                self.input.len()
            ));
        }
        self.take(len, ty)
    }

    fn items(&mut self, ty: &TypeRef, len: usize) -> Result<Value, Msg> {
        let mut items = Vec::new();
        for i in 0..len {
            items.push(self.at(&format!("[{i}]"), |d| d.value(ty))?);
        }
        Ok(Value::Array(items))
    }

    fn tuple(&mut self, types: &[TypeRef]) -> Result<Value, Msg> {
        let mut items = Vec::with_capacity(types.len());
        for (i, t) in types.iter().enumerate() {
            items.push(self.at(&format!("[{i}]"), |d| d.value(t))?);
        }
        Ok(Value::Array(items))
    }

    fn fields(&mut self, fields: &[Field]) -> Result<Value, Msg> {
        let mut map = Map::new();
        for f in fields {
            let v = self.at(&format!(".{}", f.name), |d| d.value(&f.ty))?;
            map.insert(f.name.clone(), v);
        }
        Ok(Value::Object(map))
    }

    fn enum_value(&mut self, name: &str, variants: &[Variant]) -> Result<Value, Msg> {
        let index = self.take(1, &TypeRef::U8)?[0];
        let Some(v) = variants.get(index as usize) else {
            return Err(format!("variant index {index} does not exist in enum `{name}`"));
        };
        if v.fields.is_empty() {
            return Ok(Value::String(v.name.clone()));
        }
        let fields = self.at(&format!(".{}", v.name), |d| d.fields(&v.fields))?;
        let mut m = Map::new();
        m.insert(v.name.clone(), fields);
        Ok(Value::Object(m))
    }

    /// Whether every value of `ty` encodes to at least one byte (so a length prefix can be
    /// compared with the bytes left). Named types are memoized; a type reached again through
    /// itself counts as unsized, which only weakens the early check (the budget still holds).
    fn is_sized(&mut self, ty: &TypeRef, depth: usize) -> bool {
        if depth > MAX_TYPE_DEPTH {
            return false;
        }
        match ty {
            TypeRef::Unit => false,
            TypeRef::Array(t, n) => *n > 0 && self.is_sized(t, depth + 1),
            TypeRef::Tuple(items) => items.iter().any(|t| self.is_sized(t, depth + 1)),
            TypeRef::Named(name) => {
                if let Some(known) = self.sized.get(name) {
                    return *known;
                }
                self.sized.insert(name.clone(), false);
                let abi = self.abi;
                let sized = match abi.types.get(name) {
                    None => false,
                    Some(TypeDef::Enum(_)) => true,
                    Some(TypeDef::Struct(fields)) => fields.iter().any(|f| self.is_sized(&f.ty, depth + 1)),
                    Some(TypeDef::Tuple(items)) => items.iter().any(|t| self.is_sized(t, depth + 1)),
                };
                self.sized.insert(name.clone(), sized);
                sized
            }
            _ => true,
        }
    }
}
