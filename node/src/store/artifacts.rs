//! Compiled contract code on disk: one file per code hash in a directory of the data directory
//! (`artifacts/<code hash hex>`), written by the runtime when code is uploaded and read when a
//! call needs it. The bytes are the runtime's (`weft_runtime::vm::artifacts` checks them); this
//! only keeps them. Losing any file is safe: the node compiles the code again from its state.
//!
//! What bounds it: a file is written only when this node compiles an upload, and each upload is
//! priced at its compile weight. Uploads in blocks that never commit (a proposal this validator
//! executed but the network did not finalize) also leave their files; a proposal holds at most
//! `MAX_BLOCK_GAS` of them, and only a view's leader can propose. Nothing removes files of code
//! that is not in the state: deleting the directory while the node is stopped is how to reclaim
//! them.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use weft_runtime::vm::ArtifactStore;
use weft_types::Hash;

/// The directory of compiled code.
#[derive(Debug)]
pub struct ArtifactDir {
    dir: PathBuf,
}

impl ArtifactDir {
    /// The artifacts kept in `dir`, created if missing.
    pub fn open(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        Ok(Self { dir: dir.to_path_buf() })
    }

    fn path(&self, code_hash: &Hash) -> PathBuf {
        self.dir.join(code_hash.to_string().trim_start_matches("0x"))
    }
}

impl ArtifactStore for ArtifactDir {
    fn get(&self, code_hash: &Hash) -> Option<Vec<u8>> {
        let path = self.path(code_hash);
        match fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                tracing::warn!("reading compiled code {}: {e}; compiling it again", path.display());
                None
            }
        }
    }

    /// Written to a temporary file renamed into place, so a crash never leaves a torn file under
    /// the final name (and a torn one would fail the runtime's checksum anyway).
    fn put(&self, code_hash: &Hash, artifact: &[u8]) {
        let path = self.path(code_hash);
        let tmp = path.with_extension("tmp");
        if let Err(e) = fs::write(&tmp, artifact).and_then(|()| fs::rename(&tmp, &path)) {
            tracing::warn!(
                "writing compiled code {}: {e}; it will be compiled again when needed",
                path.display()
            );
            let _ = fs::remove_file(&tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_are_kept_by_code_hash_and_a_missing_one_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let store = ArtifactDir::open(&dir.path().join("artifacts")).unwrap();
        let (a, b) = (Hash([1; 32]), Hash([2; 32]));
        assert_eq!(store.get(&a), None);
        store.put(&a, b"compiled a");
        store.put(&b, b"compiled b");
        store.put(&a, b"compiled a again");
        assert_eq!(store.get(&a).as_deref(), Some(&b"compiled a again"[..]));
        assert_eq!(store.get(&b).as_deref(), Some(&b"compiled b"[..]));
        fs::remove_file(store.path(&b)).unwrap();
        assert_eq!(store.get(&b), None, "a deleted artifact is a miss");
    }
}
