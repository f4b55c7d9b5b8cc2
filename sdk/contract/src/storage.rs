//! Typed storage: a contract's state is a struct of collections, each owning a key prefix.
//!
//! `#[storage]` on a struct whose fields are collections gives field number `i` (in declaration
//! order) the one-byte prefix `[i]` and implements [`Storage`] (so methods can call
//! `self.env()`). Values are SCALE-encoded. Keys:
//!
//! | collection | key(s) |
//! |---|---|
//! | [`Item<T>`] | `prefix` |
//! | [`Map<K, V>`] | `prefix ‖ SCALE(key)` |
//! | [`Set<K>`] | `prefix ‖ SCALE(key)` (empty value) |
//! | [`StorageVec<T>`] | length (u32) at `prefix`, item `i` at `prefix ‖ u32_le(i)` |
//! | [`VecMap<K, T>`] | one `StorageVec` per key: length at `prefix ‖ SCALE(key)`, items at `prefix ‖ SCALE(key) ‖ u32_le(i)` |
//!
//! A key must stay within `MAX_STORAGE_KEY_BYTES` (128) bytes and a value within
//! `MAX_STORAGE_VALUE_BYTES` (16 KiB): the runtime fails the transaction otherwise, and a key
//! built here that would be longer panics first ("storage key longer than 128 bytes"). With a
//! one-byte prefix this leaves 127 bytes for a map key (an address is 32, a pair of addresses 64;
//! `String` or `Vec` keys are bounded only by this). SCALE encodings are self-delimiting, so keys
//! of different entries never collide. Every stored byte (key + value) carries a storage deposit
//! paid by the transaction's sender, so short prefixes and compact values are cheaper.
//!
//! Reading an absent entry gives `None`; a stored value that does not decode as the declared
//! type panics (the contract's layout changed under it). Writes need `&mut self`, so `&self`
//! methods of a contract cannot change its collections.

use core::marker::PhantomData;

use alloc::vec;
use parity_scale_codec::{Decode, DecodeAll, Encode, Output};

use crate::env::{self, Env};
use crate::limits::MAX_STORAGE_KEY_BYTES;

/// The storage layout of a contract: implemented by `#[storage]`.
pub trait Storage: Sized {
    /// The layout with every collection at its prefix (creating it reads nothing).
    fn root() -> Self;

    /// The execution environment (caller, value, events, …).
    fn env(&self) -> Env {
        Env
    }
}

/// A collection that can be a field of a `#[storage]` struct.
pub trait StorageField {
    /// The collection under `prefix`.
    fn at(prefix: &'static [u8]) -> Self;
}

/// A storage key being built on the stack: a prefix, then SCALE-encoded parts.
pub struct Key {
    buf: [u8; MAX_STORAGE_KEY_BYTES],
    len: usize,
}

impl Key {
    /// A key starting with `prefix`.
    pub fn new(prefix: &[u8]) -> Self {
        let mut key = Key { buf: [0; MAX_STORAGE_KEY_BYTES], len: 0 };
        key.write(prefix);
        key
    }

    /// Appends the SCALE encoding of `part`.
    pub fn with<T: Encode + ?Sized>(mut self, part: &T) -> Self {
        part.encode_to(&mut self);
        self
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Output for Key {
    fn write(&mut self, bytes: &[u8]) {
        let Some(dst) = self.buf.get_mut(self.len..self.len + bytes.len()) else {
            panic!("storage key longer than 128 bytes");
        };
        dst.copy_from_slice(bytes);
        self.len += bytes.len();
    }
}

/// Reads and decodes the value under `key`.
fn read<T: Decode>(key: &[u8]) -> Option<T> {
    let mut small = [0u8; 256];
    let len = env::storage_read_into(key, &mut small)?;
    let decoded = if len <= small.len() {
        T::decode_all(&mut &small[..len])
    } else {
        let mut buf = vec![0u8; len];
        env::storage_read_into(key, &mut buf);
        T::decode_all(&mut &buf[..])
    };
    match decoded {
        Ok(v) => Some(v),
        Err(_) => panic!("a stored value does not decode as its declared type"),
    }
}

/// Whether a value exists under `key` (its bytes are not copied, but the read is charged).
fn exists(key: &[u8]) -> bool {
    env::storage_read_into(key, &mut []).is_some()
}

fn write<T: Encode + ?Sized>(key: &[u8], value: &T) {
    value.using_encoded(|bytes| env::storage_write(key, bytes))
}

/// One value under the collection's prefix.
pub struct Item<T> {
    prefix: &'static [u8],
    _t: PhantomData<fn() -> T>,
}

impl<T: Encode + Decode> Item<T> {
    /// The item stored under `prefix`.
    pub const fn new(prefix: &'static [u8]) -> Self {
        Item { prefix, _t: PhantomData }
    }

    /// The value, if set.
    pub fn get(&self) -> Option<T> {
        read(self.prefix)
    }

    /// The value, or `T::default()` if unset.
    pub fn get_or_default(&self) -> T
    where
        T: Default,
    {
        self.get().unwrap_or_default()
    }

    /// Whether a value is set.
    pub fn exists(&self) -> bool {
        exists(self.prefix)
    }

    /// Sets the value.
    pub fn set(&mut self, value: &T) {
        write(self.prefix, value)
    }

    /// Removes the value; returns whether there was one.
    pub fn remove(&mut self) -> bool {
        env::storage_remove(self.prefix)
    }
}

impl<T> StorageField for Item<T> {
    fn at(prefix: &'static [u8]) -> Self {
        Item { prefix, _t: PhantomData }
    }
}

/// A map from SCALE-encoded keys to values.
pub struct Map<K, V> {
    prefix: &'static [u8],
    _t: PhantomData<fn() -> (K, V)>,
}

impl<K: Encode, V: Encode + Decode> Map<K, V> {
    /// The map stored under `prefix`.
    pub const fn new(prefix: &'static [u8]) -> Self {
        Map { prefix, _t: PhantomData }
    }

    fn key(&self, key: &K) -> Key {
        Key::new(self.prefix).with(key)
    }

    /// The value under `key`.
    pub fn get(&self, key: &K) -> Option<V> {
        read(self.key(key).as_bytes())
    }

    /// The value under `key`, or `V::default()`.
    pub fn get_or_default(&self, key: &K) -> V
    where
        V: Default,
    {
        self.get(key).unwrap_or_default()
    }

    /// Whether `key` has a value.
    pub fn contains(&self, key: &K) -> bool {
        exists(self.key(key).as_bytes())
    }

    /// Sets the value under `key`.
    pub fn insert(&mut self, key: &K, value: &V) {
        write(self.key(key).as_bytes(), value)
    }

    /// Removes the value under `key`; returns whether there was one.
    pub fn remove(&mut self, key: &K) -> bool {
        env::storage_remove(self.key(key).as_bytes())
    }

    /// Removes and returns the value under `key`.
    pub fn take(&mut self, key: &K) -> Option<V> {
        let key = self.key(key);
        let value = read(key.as_bytes());
        if value.is_some() {
            env::storage_remove(key.as_bytes());
        }
        value
    }
}

impl<K, V> StorageField for Map<K, V> {
    fn at(prefix: &'static [u8]) -> Self {
        Map { prefix, _t: PhantomData }
    }
}

/// A set of SCALE-encoded keys (each stored with an empty value).
pub struct Set<K> {
    prefix: &'static [u8],
    _t: PhantomData<fn() -> K>,
}

impl<K: Encode> Set<K> {
    /// The set stored under `prefix`.
    pub const fn new(prefix: &'static [u8]) -> Self {
        Set { prefix, _t: PhantomData }
    }

    fn key(&self, key: &K) -> Key {
        Key::new(self.prefix).with(key)
    }

    /// Whether `key` is in the set.
    pub fn contains(&self, key: &K) -> bool {
        exists(self.key(key).as_bytes())
    }

    /// Adds `key`; returns `false` if it was already there (nothing is written then).
    pub fn insert(&mut self, key: &K) -> bool {
        let key = self.key(key);
        if exists(key.as_bytes()) {
            return false;
        }
        env::storage_write(key.as_bytes(), &[]);
        true
    }

    /// Removes `key`; returns whether it was there.
    pub fn remove(&mut self, key: &K) -> bool {
        env::storage_remove(self.key(key).as_bytes())
    }
}

impl<K> StorageField for Set<K> {
    fn at(prefix: &'static [u8]) -> Self {
        Set { prefix, _t: PhantomData }
    }
}

/// A growable array: a length and one entry per index.
pub struct StorageVec<T> {
    prefix: &'static [u8],
    _t: PhantomData<fn() -> T>,
}

impl<T: Encode + Decode> StorageVec<T> {
    /// The vector stored under `prefix`.
    pub const fn new(prefix: &'static [u8]) -> Self {
        StorageVec { prefix, _t: PhantomData }
    }

    fn vec(&self) -> VecAt {
        VecAt { base: Key::new(self.prefix) }
    }

    /// Number of items.
    pub fn len(&self) -> u32 {
        self.vec().len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Item `index`, if `index < len()`.
    pub fn get(&self, index: u32) -> Option<T> {
        self.vec().get(index)
    }

    /// Appends `value`; returns its index.
    pub fn push(&mut self, value: &T) -> u32 {
        self.vec().push(value)
    }

    /// Replaces item `index`; returns `false` (writing nothing) when `index >= len()`.
    pub fn set(&mut self, index: u32, value: &T) -> bool {
        self.vec().set(index, value)
    }

    /// Removes and returns the last item.
    pub fn pop(&mut self) -> Option<T> {
        self.vec().pop()
    }

    /// Every item, read one by one from storage.
    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        let len = self.len();
        (0..len).filter_map(move |i| self.get(i))
    }
}

impl<T> StorageField for StorageVec<T> {
    fn at(prefix: &'static [u8]) -> Self {
        StorageVec { prefix, _t: PhantomData }
    }
}

/// A [`StorageVec`] per key: `history.push(&item_id, &entry)`.
pub struct VecMap<K, T> {
    prefix: &'static [u8],
    _t: PhantomData<fn() -> (K, T)>,
}

impl<K: Encode, T: Encode + Decode> VecMap<K, T> {
    /// The collection stored under `prefix`.
    pub const fn new(prefix: &'static [u8]) -> Self {
        VecMap { prefix, _t: PhantomData }
    }

    fn vec(&self, key: &K) -> VecAt {
        VecAt { base: Key::new(self.prefix).with(key) }
    }

    /// Number of items under `key`.
    pub fn len(&self, key: &K) -> u32 {
        self.vec(key).len()
    }

    /// Item `index` under `key`.
    pub fn get(&self, key: &K, index: u32) -> Option<T> {
        self.vec(key).get(index)
    }

    /// Appends `value` under `key`; returns its index.
    pub fn push(&mut self, key: &K, value: &T) -> u32 {
        self.vec(key).push(value)
    }

    /// Replaces item `index` under `key`; returns `false` when out of range.
    pub fn set(&mut self, key: &K, index: u32, value: &T) -> bool {
        self.vec(key).set(index, value)
    }

    /// Removes and returns the last item under `key`.
    pub fn pop(&mut self, key: &K) -> Option<T> {
        self.vec(key).pop()
    }

    /// Every item under `key`, in order (at most `limit` of them, starting at `start`).
    pub fn range(&self, key: &K, start: u32, limit: u32) -> alloc::vec::Vec<T> {
        let v = self.vec(key);
        let end = v.len().min(start.saturating_add(limit));
        (start..end).filter_map(|i| v.get(i)).collect()
    }
}

impl<K, T> StorageField for VecMap<K, T> {
    fn at(prefix: &'static [u8]) -> Self {
        VecMap { prefix, _t: PhantomData }
    }
}

/// The vector whose length is at `base` and items at `base ‖ u32_le(i)`.
struct VecAt {
    base: Key,
}

impl VecAt {
    fn len(&self) -> u32 {
        read::<u32>(self.base.as_bytes()).unwrap_or(0)
    }

    fn item(&self, index: u32) -> Key {
        let mut key = Key::new(self.base.as_bytes());
        key.write(&index.to_le_bytes());
        key
    }

    fn get<T: Decode>(&self, index: u32) -> Option<T> {
        if index >= self.len() {
            return None;
        }
        read(self.item(index).as_bytes())
    }

    fn push<T: Encode>(&self, value: &T) -> u32 {
        let len = self.len();
        let Some(next) = len.checked_add(1) else { panic!("storage vector is full") };
        write(self.item(len).as_bytes(), value);
        write(self.base.as_bytes(), &next);
        len
    }

    fn set<T: Encode>(&self, index: u32, value: &T) -> bool {
        if index >= self.len() {
            return false;
        }
        write(self.item(index).as_bytes(), value);
        true
    }

    fn pop<T: Decode>(&self) -> Option<T> {
        let last = self.len().checked_sub(1)?;
        let key = self.item(last);
        let value = read(key.as_bytes());
        env::storage_remove(key.as_bytes());
        if last == 0 {
            env::storage_remove(self.base.as_bytes());
        } else {
            write(self.base.as_bytes(), &last);
        }
        value
    }
}
