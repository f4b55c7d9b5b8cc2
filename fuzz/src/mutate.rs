//! A deterministic mutator for the smoke runs of the targets under `cargo test`: libFuzzer's
//! kinds of byte mutations (bit flips, interesting values, insertions and deletions, dictionary
//! tokens, copies, cross-over with another seed), stacked one to eight deep, from a seeded RNG,
//! so every run tries the same inputs. Also random JSON-RPC requests built from a method list
//! and a pool of parameter values.

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

/// Interesting bytes: signs, powers of two, compact-prefix modes.
const BYTES: [u8; 12] = [0x00, 0x01, 0x02, 0x03, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xfc, 0xfe, 0xff];
/// Interesting little-endian integers.
const WORDS: [u64; 10] =
    [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fff_ffff, 0xffff_ffff, i64::MAX as u64, u64::MAX];

/// Seeded mutations of seed inputs.
pub struct Mutator {
    rng: StdRng,
    seeds: Vec<Vec<u8>>,
    dict: Vec<Vec<u8>>,
    max_len: usize,
}

impl Mutator {
    /// Mutates `seeds` (not empty) with tokens of `dict`, producing inputs of at most `max_len`
    /// bytes, from RNG seed `seed`.
    pub fn new(seed: u64, seeds: Vec<Vec<u8>>, dict: Vec<Vec<u8>>, max_len: usize) -> Self {
        assert!(!seeds.is_empty(), "no seeds");
        Mutator { rng: StdRng::seed_from_u64(seed), seeds, dict, max_len }
    }

    /// The RNG, for callers that generate structured inputs too.
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }

    /// The next input: a seed with one to eight stacked mutations (fewer more often).
    pub fn next_input(&mut self) -> Vec<u8> {
        let mut data = self.seeds[self.rng.random_range(0..self.seeds.len())].clone();
        let depth = 1 + (self.rng.random_range(0..64u32)).trailing_zeros().min(7);
        for _ in 0..depth {
            self.mutate_once(&mut data);
        }
        data.truncate(self.max_len);
        data
    }

    fn pos(&mut self, len: usize) -> usize {
        if len == 0 { 0 } else { self.rng.random_range(0..len) }
    }

    fn mutate_once(&mut self, data: &mut Vec<u8>) {
        let len = data.len();
        match self.rng.random_range(0..12u32) {
            0 if len > 0 => {
                let i = self.pos(len);
                data[i] ^= 1 << self.rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = self.pos(len);
                data[i] = self.rng.random();
            }
            2 if len > 0 => {
                let i = self.pos(len);
                data[i] = BYTES[self.rng.random_range(0..BYTES.len())];
            }
            3 if len > 0 => {
                let i = self.pos(len);
                let w = WORDS[self.rng.random_range(0..WORDS.len())].to_le_bytes();
                let n = [1, 2, 4, 8][self.rng.random_range(0..4)];
                for (k, b) in w.iter().take(n).enumerate() {
                    if let Some(slot) = data.get_mut(i + k) {
                        *slot = *b;
                    }
                }
            }
            4 if len > 0 => {
                let i = self.pos(len);
                let delta: i8 = self.rng.random_range(-16..=16);
                data[i] = data[i].wrapping_add_signed(delta);
            }
            5 => {
                let i = self.pos(len + 1);
                let n = self.rng.random_range(1..=16);
                let fill: Vec<u8> = (0..n).map(|_| self.rng.random()).collect();
                data.splice(i..i, fill);
            }
            6 | 7 if !self.dict.is_empty() => {
                let token = self.dict[self.rng.random_range(0..self.dict.len())].clone();
                let i = self.pos(len + 1);
                if self.rng.random() {
                    data.splice(i..i, token);
                } else {
                    let end = (i + token.len()).min(len);
                    data.splice(i..end, token);
                }
            }
            8 if len > 1 => {
                let i = self.pos(len);
                let n = self.rng.random_range(1..=(len - i).min(64));
                data.drain(i..i + n);
            }
            9 if len > 1 => {
                let from = self.pos(len);
                let n = self.rng.random_range(1..=(len - from).min(64));
                let chunk = data[from..from + n].to_vec();
                let to = self.pos(len + 1);
                if self.rng.random() {
                    data.splice(to..to, chunk);
                } else {
                    let end = (to + n).min(len);
                    data.splice(to..end, chunk);
                }
            }
            10 if len > 0 => {
                let keep = self.pos(len);
                data.truncate(keep);
            }
            _ => {
                let other = self.seeds[self.rng.random_range(0..self.seeds.len())].clone();
                let i = self.pos(len + 1);
                let j = self.pos(other.len() + 1);
                data.truncate(i);
                data.extend_from_slice(&other[j..]);
            }
        }
    }
}

/// A random JSON-RPC request (or, one time in eight, a sequence of two or three): a method of
/// `methods` (or a made-up one), params from `values` (an array of up to four, an object, or a
/// bare value), sometimes a missing or odd `id` or `jsonrpc`.
pub fn json_request(rng: &mut StdRng, methods: &[&str], values: &[Value]) -> Vec<u8> {
    let one = |rng: &mut StdRng| -> Value {
        let method = match rng.random_range(0..16u32) {
            0 => json!("no_such_method"),
            1 => json!(42),
            _ => json!(methods[rng.random_range(0..methods.len())]),
        };
        let pick = |rng: &mut StdRng| values[rng.random_range(0..values.len())].clone();
        let params = match rng.random_range(0..8u32) {
            0 => pick(rng),
            1 => json!({ "address": pick(rng), "id": pick(rng), "count": pick(rng) }),
            2 => Value::Null,
            _ => Value::Array((0..rng.random_range(0..=4)).map(|_| pick(rng)).collect()),
        };
        let id = match rng.random_range(0..8u32) {
            0 => Value::Null,
            1 => json!("id"),
            2 => json!([1]),
            _ => json!(rng.random_range(0..1000u32)),
        };
        let mut req = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        if rng.random_range(0..16u32) == 0 {
            req["jsonrpc"] = json!("1.0");
        }
        if rng.random_range(0..16u32) == 0 {
            req.as_object_mut().map(|o| o.remove("id"));
        }
        req
    };
    let v = if rng.random_range(0..8u32) == 0 {
        Value::Array((0..rng.random_range(2..=3)).map(|_| one(rng)).collect())
    } else {
        one(rng)
    };
    v.to_string().into_bytes()
}
