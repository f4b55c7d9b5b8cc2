//! Optional serde support (feature `serde`): hashes and addresses as their strict `0x` hex text,
//! so that JSON APIs and tests show exactly what `Display` shows and accept what `FromStr` accepts.

use alloc::string::String;
use core::{fmt, marker::PhantomData, str::FromStr};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::{address::Address, hash::Hash};

struct HexVisitor<T>(PhantomData<T>);

impl<T: FromStr<Err: fmt::Display>> de::Visitor<'_> for HexVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x followed by 64 hex digits")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
        s.parse().map_err(E::custom)
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<T, E> {
        self.visit_str(&s)
    }
}

macro_rules! hex_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str(HexVisitor(PhantomData))
            }
        }
    };
}

hex_serde!(Hash);
hex_serde!(Address);
