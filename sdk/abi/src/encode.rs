//! JSON → SCALE: encodes call arguments and values by the table of docs/abi.md, with errors that
//! name the argument (and the path inside it) and say what was expected and what was given.

use parity_scale_codec::{Compact, Encode};
use serde_json::Value;
use weft_types::{Address, Hash, ParseHexError};

use crate::{
    AbiError,
    doc::{Abi, Arg, Field, MAX_TYPE_DEPTH, TypeDef, TypeRef, short},
};

impl Abi {
    /// Encodes the input of a method or constructor: the SCALE encodings of `args`, in order.
    ///
    /// `json` is an object keyed by argument name (every argument present, no other key) or an
    /// array in argument order; for a method without arguments, `null`, `{}` and `[]` all mean
    /// "no arguments". For a method with exactly one argument, its bare value is accepted too
    /// where that is not ambiguous: a scalar (`"100"`, `true`, `"0x…"`); an object that does
    /// not have the argument's name as a key, when the argument is a struct or enum; an array,
    /// when the argument is a vec, array or tuple, unless it is an array of exactly one array
    /// (`[[1, 2]]` is read as the argument list).
    pub fn encode_args(&self, args: &[Arg], json: &Value) -> Result<Vec<u8>, AbiError> {
        let mut enc = Encoder { abi: self, out: Vec::new(), path: String::new(), depth: 0 };
        let single = match args {
            [one] => Some(one),
            _ => None,
        };
        match json {
            Value::Object(map)
                if single.is_some_and(|a| !map.contains_key(&a.name) && self.is_object_like(&a.ty)) =>
            {
                if let Some(arg) = single {
                    enc.arg(arg, json)?;
                }
            }
            Value::Object(map) => {
                if let Some(extra) = map.keys().find(|k| !args.iter().any(|a| &a.name == *k)) {
                    return Err(AbiError::UnknownArgument(extra.clone()));
                }
                for arg in args {
                    let value =
                        map.get(&arg.name).ok_or_else(|| AbiError::MissingArgument(arg.name.clone()))?;
                    enc.arg(arg, value)?;
                }
            }
            Value::Array(items)
                if single.is_some_and(|a| {
                    self.is_array_like(&a.ty) && !(items.len() == 1 && items[0].is_array())
                }) =>
            {
                if let Some(arg) = single {
                    enc.arg(arg, json)?;
                }
            }
            Value::Array(items) => {
                if items.len() != args.len() {
                    return Err(AbiError::ArgumentCount { expected: args.len(), found: items.len() });
                }
                for (arg, value) in args.iter().zip(items) {
                    enc.arg(arg, value)?;
                }
            }
            Value::Null if args.is_empty() => {}
            bare => match single {
                Some(arg) => enc.arg(arg, bare)?,
                None => return Err(AbiError::ArgsShape { hint: "", got: short(bare) }),
            },
        }
        Ok(enc.out)
    }

    /// Whether `ty`'s JSON form is an object (a struct, or an enum variant with fields).
    fn is_object_like(&self, ty: &TypeRef) -> bool {
        matches!(ty, TypeRef::Named(n) if matches!(self.types.get(n), Some(TypeDef::Struct(_) | TypeDef::Enum(_))))
    }

    /// Whether `ty`'s JSON form is an array.
    fn is_array_like(&self, ty: &TypeRef) -> bool {
        match ty {
            TypeRef::Vec(_) | TypeRef::Array(..) | TypeRef::Tuple(_) => true,
            TypeRef::Named(n) => matches!(self.types.get(n), Some(TypeDef::Tuple(_))),
            _ => false,
        }
    }

    /// Encodes the input of `method` (see [`Abi::encode_args`]).
    pub fn encode_call(&self, method: &str, json: &Value) -> Result<Vec<u8>, AbiError> {
        let m = self.method(method).ok_or_else(|| AbiError::UnknownMethod(method.to_owned()))?;
        self.encode_args(&m.args, json)
    }

    /// Encodes the input of the constructor; a contract without one takes no arguments.
    pub fn encode_constructor(&self, json: &Value) -> Result<Vec<u8>, AbiError> {
        let args = self.constructor.as_ref().map(|c| c.args.as_slice()).unwrap_or(&[]);
        self.encode_args(args, json)
    }

    /// Encodes the input of the migration an upgrade to this code runs; code without one takes
    /// no arguments.
    pub fn encode_migrate(&self, json: &Value) -> Result<Vec<u8>, AbiError> {
        let args = self.migrate.as_ref().map(|c| c.args.as_slice()).unwrap_or(&[]);
        self.encode_args(args, json)
    }

    /// Encodes one value of type `ty`; errors name the path inside it (``value at `.items[2]` ``).
    pub fn encode_value(&self, ty: &TypeRef, json: &Value) -> Result<Vec<u8>, AbiError> {
        let mut enc = Encoder { abi: self, out: Vec::new(), path: String::new(), depth: 0 };
        enc.value(ty, json).map_err(|message| AbiError::Value {
            path: if enc.path.is_empty() { "value".into() } else { format!("value at `{}`", enc.path) },
            message,
        })?;
        Ok(enc.out)
    }
}

struct Encoder<'a> {
    abi: &'a Abi,
    out: Vec<u8>,
    /// Where in the current argument we are: `.field`, `[3]`.
    path: String,
    depth: usize,
}

/// An error message for the value at the encoder's current path.
type Msg = String;

impl Encoder<'_> {
    fn arg(&mut self, arg: &Arg, value: &Value) -> Result<(), AbiError> {
        self.path.clear();
        self.depth = 0;
        self.value(&arg.ty, value).map_err(|message| AbiError::Value {
            path: format!("argument `{}{}`", arg.name, self.path),
            message,
        })
    }

    /// Runs `f` with `segment` appended to the path, removing it again on success (on failure
    /// the path is kept, so the error can name where it happened).
    fn at<T>(&mut self, segment: &str, f: impl FnOnce(&mut Self) -> Result<T, Msg>) -> Result<T, Msg> {
        let len = self.path.len();
        self.path.push_str(segment);
        let r = f(self)?;
        self.path.truncate(len);
        Ok(r)
    }

    fn value(&mut self, ty: &TypeRef, v: &Value) -> Result<(), Msg> {
        self.depth += 1;
        if self.depth > MAX_TYPE_DEPTH {
            return Err(format!("value nested deeper than {MAX_TYPE_DEPTH} levels"));
        }
        self.value_inner(ty, v)?;
        self.depth -= 1;
        Ok(())
    }

    fn value_inner(&mut self, ty: &TypeRef, v: &Value) -> Result<(), Msg> {
        match ty {
            TypeRef::Unit => match v {
                Value::Null => Ok(()),
                other => Err(format!("expected null for unit, got {}", short(other))),
            },
            TypeRef::Bool => match v {
                Value::Bool(b) => {
                    b.encode_to(&mut self.out);
                    Ok(())
                }
                other => Err(format!("expected bool (true or false), got {}", short(other))),
            },
            TypeRef::U8 => self.int(ty, v, 0, u8::MAX.into(), 1),
            TypeRef::U16 => self.int(ty, v, 0, u16::MAX.into(), 2),
            TypeRef::U32 => self.int(ty, v, 0, u32::MAX.into(), 4),
            TypeRef::U64 => self.int(ty, v, 0, u64::MAX.into(), 8),
            TypeRef::I8 => self.int(ty, v, i8::MIN.into(), i8::MAX as u128, 1),
            TypeRef::I16 => self.int(ty, v, i16::MIN.into(), i16::MAX as u128, 2),
            TypeRef::I32 => self.int(ty, v, i32::MIN.into(), i32::MAX as u128, 4),
            TypeRef::I64 => self.int(ty, v, i64::MIN.into(), i64::MAX as u128, 8),
            TypeRef::I128 => self.int(ty, v, i128::MIN, i128::MAX as u128, 16),
            TypeRef::U128 => self.int(ty, v, 0, u128::MAX, 16),
            TypeRef::String => match v {
                Value::String(s) => {
                    s.encode_to(&mut self.out);
                    Ok(())
                }
                other => Err(format!("expected a string, got {}", short(other))),
            },
            TypeRef::Bytes => {
                let bytes = parse_bytes(v)?;
                bytes.encode_to(&mut self.out);
                Ok(())
            }
            TypeRef::Address => {
                let a: Address = parse_hex32(v, "address")?;
                self.out.extend_from_slice(&a.0);
                Ok(())
            }
            TypeRef::Hash => {
                let h: Hash = parse_hex32(v, "hash")?;
                self.out.extend_from_slice(&h.0);
                Ok(())
            }
            TypeRef::Option(inner) => {
                if v.is_null() {
                    self.out.push(0);
                    Ok(())
                } else {
                    self.out.push(1);
                    self.value(inner, v)
                }
            }
            TypeRef::Vec(inner) => {
                let Value::Array(items) = v else {
                    return Err(format!("expected an array for {ty}, got {}", short(v)));
                };
                let len = u32::try_from(items.len()).map_err(|_| "array too long".to_owned())?;
                Compact(len).encode_to(&mut self.out);
                self.items(inner.as_ref(), items)
            }
            TypeRef::Array(inner, len) => {
                let Value::Array(items) = v else {
                    return Err(format!("expected an array of {len} items for {ty}, got {}", short(v)));
                };
                if items.len() != *len as usize {
                    return Err(format!(
                        "expected an array of {len} items for {ty}, got {} items",
                        items.len()
                    ));
                }
                self.items(inner.as_ref(), items)
            }
            TypeRef::Tuple(types) => self.tuple(&ty.to_string(), types, v),
            TypeRef::Named(name) => {
                let Some(def) = self.abi.types.get(name) else {
                    return Err(format!("type `{name}` is not defined"));
                };
                match def {
                    TypeDef::Struct(fields) => self.fields(&format!("struct `{name}`"), fields, v),
                    TypeDef::Tuple(types) => self.tuple(&format!("`{name}`"), types, v),
                    TypeDef::Enum(variants) => self.enum_value(name, variants, v),
                }
            }
        }
    }

    fn items(&mut self, ty: &TypeRef, items: &[Value]) -> Result<(), Msg> {
        for (i, item) in items.iter().enumerate() {
            self.at(&format!("[{i}]"), |e| e.value(ty, item))?;
        }
        Ok(())
    }

    fn tuple(&mut self, what: &str, types: &[TypeRef], v: &Value) -> Result<(), Msg> {
        let Value::Array(items) = v else {
            return Err(format!("expected an array of {} items for {what}, got {}", types.len(), short(v)));
        };
        if items.len() != types.len() {
            return Err(format!(
                "expected an array of {} items for {what}, got {} items",
                types.len(),
                items.len()
            ));
        }
        for (i, (t, item)) in types.iter().zip(items).enumerate() {
            self.at(&format!("[{i}]"), |e| e.value(t, item))?;
        }
        Ok(())
    }

    fn fields(&mut self, what: &str, fields: &[Field], v: &Value) -> Result<(), Msg> {
        let Value::Object(map) = v else {
            return Err(format!("expected an object for {what}, got {}", short(v)));
        };
        if let Some(extra) = map.keys().find(|k| !fields.iter().any(|f| &f.name == *k)) {
            return Err(format!("unknown field `{extra}` of {what}"));
        }
        for f in fields {
            let value = map.get(&f.name).ok_or_else(|| format!("missing field `{}` of {what}", f.name))?;
            self.at(&format!(".{}", f.name), |e| e.value(&f.ty, value))?;
        }
        Ok(())
    }

    fn enum_value(&mut self, name: &str, variants: &[crate::doc::Variant], v: &Value) -> Result<(), Msg> {
        let names = || variants.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ");
        let (variant, fields) = match v {
            Value::String(s) => (s.as_str(), None),
            Value::Object(map) if map.len() == 1 => {
                let Some((k, fields)) = map.iter().next() else {
                    return Err(format!("expected a variant of enum `{name}`, got {{}}"));
                };
                (k.as_str(), Some(fields))
            }
            other => {
                return Err(format!(
                    "expected a variant of enum `{name}` (\"Variant\" or {{\"Variant\": {{fields}}}}), got {}",
                    short(other)
                ));
            }
        };
        let Some(index) = variants.iter().position(|x| x.name == variant) else {
            return Err(format!(
                "unknown variant `{variant}` of enum `{name}` (expected one of {})",
                names()
            ));
        };
        let def = &variants[index];
        // At most 256 variants (checked when the ABI was loaded).
        self.out.push(u8::try_from(index).map_err(|_| format!("enum `{name}` has too many variants"))?);
        match fields {
            None | Some(Value::Null) if def.fields.is_empty() => Ok(()),
            None => Err(format!(
                "variant `{variant}` of enum `{name}` has fields: write {{\"{variant}\": {{…}}}}"
            )),
            Some(fields) => {
                let what = format!("variant `{variant}` of enum `{name}`");
                self.at(&format!(".{variant}"), |e| e.fields(&what, &def.fields, fields))
            }
        }
    }

    /// Encodes an integer given as a JSON number or decimal string, checking `min..=max`, as
    /// `width` bytes little-endian (two's complement for negative values).
    fn int(&mut self, ty: &TypeRef, v: &Value, min: i128, max: u128, width: usize) -> Result<(), Msg> {
        let big = width == 16;
        let expected = if big {
            format!("expected {ty} as a decimal string or number")
        } else {
            format!("expected {ty} as a number or decimal string")
        };
        let n: Int = match v {
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Int::Pos(u.into())
                } else if let Some(i) = n.as_i64() {
                    Int::Neg(i.into())
                } else {
                    return Err(format!(
                        "{expected}, got {n} (not an integer; write large integers as decimal strings)"
                    ));
                }
            }
            Value::String(s) => parse_decimal(s).ok_or_else(|| format!("{expected}, got {}", short(v)))?,
            other => return Err(format!("{expected}, got {}", short(other))),
        };
        let value: i128 = match n {
            // A u128 above i128::MAX wraps here, with the same two's-complement bytes.
            Int::Pos(u) if u <= max => u as i128,
            Int::Neg(i) if i >= min => i,
            _ => return Err(format!("{} is out of range for {ty}", render(v))),
        };
        let bytes = value.to_le_bytes();
        self.out.extend_from_slice(&bytes[..width]);
        Ok(())
    }
}

fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A parsed decimal integer: non-negative (any `u128`), negative (any `i128` below 0), or
/// beyond both.
enum Int {
    Pos(u128),
    Neg(i128),
    Huge,
}

/// `[-]digits`, nothing else (no `+`, spaces, `0x` or exponent).
fn parse_decimal(s: &str) -> Option<Int> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let Ok(magnitude) = digits.parse::<u128>() else { return Some(Int::Huge) };
    Some(match (neg, magnitude) {
        (false, m) | (true, m @ 0) => Int::Pos(m),
        (true, m) => 0i128.checked_sub_unsigned(m).map_or(Int::Huge, Int::Neg),
    })
}

/// `"0x…"` with an even number of hex digits (either case).
pub(crate) fn parse_bytes(v: &Value) -> Result<Vec<u8>, Msg> {
    let Value::String(s) = v else {
        return Err(format!("expected bytes as a 0x-prefixed hex string, got {}", short(v)));
    };
    weft_types::hex::decode(s).map_err(|e| match e {
        ParseHexError::MissingPrefix => format!("bytes must be 0x followed by hex digits, got {}", short(v)),
        ParseHexError::OddLength { found } => {
            format!("bytes must be 0x followed by an even number of hex digits, found {found}")
        }
        e @ (ParseHexError::InvalidDigit { .. } | ParseHexError::WrongLength { .. }) => {
            format!("bytes must be 0x followed by hex digits: {e}")
        }
    })
}

fn parse_hex32<T: std::str::FromStr<Err = ParseHexError>>(v: &Value, what: &str) -> Result<T, Msg> {
    let Value::String(s) = v else {
        return Err(format!("{what} must be 0x followed by 64 hex digits, got {}", short(v)));
    };
    s.parse::<T>().map_err(|e| format!("{what} must be 0x followed by 64 hex digits, got {} ({e})", short(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_parsing_is_strict() {
        assert!(matches!(parse_decimal("0"), Some(Int::Pos(0))));
        assert!(matches!(parse_decimal("-0"), Some(Int::Pos(0))));
        assert!(matches!(parse_decimal("-5"), Some(Int::Neg(-5))));
        assert!(parse_decimal("+5").is_none());
        assert!(parse_decimal(" 5").is_none());
        assert!(parse_decimal("").is_none());
        assert!(parse_decimal("-").is_none());
        assert!(parse_decimal("0x10").is_none());
        assert!(parse_decimal("1e3").is_none());
        assert!(matches!(parse_decimal("999999999999999999999999999999999999999999"), Some(Int::Huge)));
        assert!(matches!(
            parse_decimal("-170141183460469231731687303715884105728"),
            Some(Int::Neg(i128::MIN))
        ));
        assert!(matches!(parse_decimal("-170141183460469231731687303715884105729"), Some(Int::Huge)));
    }
}
