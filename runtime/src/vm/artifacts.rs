//! Compiled contract code kept durably, so code is compiled once, when it is uploaded, and only
//! loaded after that: the artifact format (what [`super::Vm`] writes and reads) and
//! [`ArtifactStore`], where the embedder keeps artifacts (the node: files in its data directory).
//!
//! An artifact is `MAGIC ‖ build id (32) ‖ sha3-256 of the rest (32) ‖ SCALE(info) ‖ module`, the
//! module being wasmtime's own serialization of the compiled, instrumented code. The build id
//! names everything that decides the compiled code (wasmtime's version and engine settings, the
//! instrumentation); an artifact of another build, or whose checksum does not match (a torn
//! write, a damaged disk), is ignored and rebuilt from the code in state, so deleting every
//! artifact is always safe. Wasmtime only deserializes bytes it produced itself: the checksum is
//! what makes that hold for bytes read back from a disk.

use std::{
    collections::BTreeMap,
    hash::{DefaultHasher, Hash as _, Hasher},
    sync::Mutex,
};

use parity_scale_codec::{Decode, Encode};
use wasmtime::Engine;
use weft_types::{Hash, sha3_256};

use super::prepare::{INSTRUMENTATION_VERSION, PreparedCode};

/// Names the artifact format, [`CodeInfo`]'s fields included.
const MAGIC: &[u8; 8] = b"weftart2";
const HEADER: usize = MAGIC.len() + 32 + 32;

/// Where compiled code is kept, by code hash. Implementations keep what they are given as
/// opaque bytes and may lose any of it (a miss only costs a compile); they report their own I/O
/// failures, which never decide a result.
pub trait ArtifactStore: Send + Sync + 'static {
    /// The artifact stored for `code_hash`, if any.
    fn get(&self, code_hash: &Hash) -> Option<Vec<u8>>;
    /// Stores (or replaces) the artifact of `code_hash`.
    fn put(&self, code_hash: &Hash, artifact: &[u8]);
}

/// Artifacts in memory: for tests, benchmarks and the contract sandbox, which keep no data
/// directory. Holds one artifact per uploaded code, so it grows with the uploads it sees.
#[derive(Default)]
pub struct MemoryArtifacts(Mutex<BTreeMap<Hash, Vec<u8>>>);

impl ArtifactStore for MemoryArtifacts {
    fn get(&self, code_hash: &Hash) -> Option<Vec<u8>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(code_hash).cloned()
    }

    fn put(&self, code_hash: &Hash, artifact: &[u8]) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(*code_hash, artifact.to_vec());
    }
}

/// What validation learned about a module, kept with its compiled form.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct CodeInfo {
    /// Size of the uploaded code, which every call into it pays for.
    pub code_len: u32,
    /// Callable methods, sorted.
    pub methods: Vec<String>,
    /// Whether it has a constructor.
    pub has_constructor: bool,
    /// Whether it has a migration entry.
    pub has_migrate: bool,
    /// Whether it accepts reentrant calls.
    pub reentrant: bool,
    /// Stack units of its costliest frame.
    pub max_frame_cost: u32,
    /// Gas compiling it costs (`PreparedCode::compile_weight`), which an upload of code that
    /// already has an artifact is charged without preparing it again.
    pub compile_weight: u64,
}

impl CodeInfo {
    /// The info of `prepared`, uploaded as `code_len` bytes.
    pub fn new(prepared: &PreparedCode, code_len: usize) -> Self {
        Self {
            code_len: u32::try_from(code_len).unwrap_or(u32::MAX),
            methods: prepared.methods.clone(),
            has_constructor: prepared.has_constructor,
            has_migrate: prepared.has_migrate,
            reentrant: prepared.reentrant,
            max_frame_cost: prepared.max_frame_cost,
            compile_weight: prepared.compile_weight,
        }
    }
}

/// The build id of `engine`: the engine's compatibility hash (wasmtime's version and the engine's
/// settings, operator costs included), the instrumentation's version and the gas schedule's
/// (which decides the compile weight an artifact records).
pub fn build_id(engine: &Engine) -> Hash {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let mut id = hasher.finish().to_le_bytes().to_vec();
    id.extend_from_slice(&INSTRUMENTATION_VERSION.to_le_bytes());
    id.extend_from_slice(&crate::gas::SCHEDULE.version.to_le_bytes());
    sha3_256(&id)
}

/// An artifact of `info` and the serialized module, for build `build`.
pub fn encode(build: &Hash, info: &CodeInfo, module: &[u8]) -> Vec<u8> {
    let mut body = info.encode();
    body.extend_from_slice(module);
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&build.0);
    out.extend_from_slice(&sha3_256(&body).0);
    out.extend_from_slice(&body);
    out
}

/// The info and serialized module of `artifact`, when it is of build `build` and intact.
pub fn decode<'a>(build: &Hash, artifact: &'a [u8]) -> Option<(CodeInfo, &'a [u8])> {
    let (header, body) = artifact.split_at_checked(HEADER)?;
    let (magic, rest) = header.split_at(MAGIC.len());
    let (id, checksum) = rest.split_at(32);
    if magic != MAGIC || id != build.0 || checksum != sha3_256(body).0 {
        return None;
    }
    let mut input = body;
    let info = CodeInfo::decode(&mut input).ok()?;
    Some((info, input))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> CodeInfo {
        CodeInfo {
            code_len: 9,
            methods: vec!["a".into()],
            has_constructor: true,
            has_migrate: false,
            reentrant: false,
            max_frame_cost: 3,
            compile_weight: 7,
        }
    }

    #[test]
    fn an_artifact_reads_back_only_intact_and_of_its_build() {
        let build = Hash([1; 32]);
        let artifact = encode(&build, &info(), b"module bytes");
        assert_eq!(decode(&build, &artifact), Some((info(), &b"module bytes"[..])));
        assert_eq!(decode(&Hash([2; 32]), &artifact), None, "another build's artifact is stale");
        for at in [0, 9, HEADER, artifact.len() - 1] {
            let mut damaged = artifact.clone();
            damaged[at] ^= 1;
            assert_eq!(decode(&build, &damaged), None, "a flipped byte at {at} is caught");
        }
        assert_eq!(decode(&build, &artifact[..artifact.len() - 1]), None, "a torn write is caught");
        assert_eq!(decode(&build, &artifact[..10]), None);
    }
}
