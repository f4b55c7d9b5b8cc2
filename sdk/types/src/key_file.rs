//! Secrets on disk (feature `std`): the one way a file holding a secret is created, a new file
//! readable by its owner only that never replaces an existing one (node validator and p2p keys,
//! client keystore files), and the one secret key file, the 32-byte ed25519 secret as 64 hex
//! digits (a node's validator key). Readers also accept a `0x` prefix and surrounding
//! whitespace, the same text [`crate::hex::decode_array_lenient`] reads from a keystore file.

use std::{
    fs,
    io::{self, Write},
    path::Path,
};

use crate::hex::ParseHexError;

/// Why a secret key file cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Creating, writing or reading the file failed (an existing file when writing is
    /// [`io::ErrorKind::AlreadyExists`]).
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The file holds whole bytes in hex, but not 32 of them.
    #[error("{bytes} bytes; a secret key is 32")]
    WrongSize {
        /// The number of bytes found.
        bytes: usize,
    },
    /// The file does not hold a 32-byte secret in hex.
    #[error("not a 32-byte secret key in hex: {0}")]
    BadSecret(#[from] ParseHexError),
}

/// Creates `path` holding `contents`, readable and writable by its owner only (mode 0600 on
/// Unix), and flushes it to disk. Refuses an existing file: secrets are never replaced
/// silently. A file that could not be written in full is removed, so a retry starts clean.
pub fn create_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if written.is_err() {
        // The file is the one just created (create_new), so removing it loses nothing.
        drop(file);
        let _ = fs::remove_file(path);
    }
    written
}

/// Writes `secret` to a new private file at `path` ([`create_private`]) as 64 hex digits.
pub fn write_secret(path: &Path, secret: &[u8; 32]) -> Result<(), KeyFileError> {
    Ok(create_private(path, ::hex::encode(secret).as_bytes())?)
}

/// Reads a secret written by [`write_secret`] (a `0x` prefix and surrounding whitespace, as
/// left by an editor, are accepted).
pub fn read_secret(path: &Path) -> Result<[u8; 32], KeyFileError> {
    let text = fs::read_to_string(path)?;
    crate::hex::decode_array_lenient(text.trim()).map_err(|e| match e {
        ParseHexError::WrongLength { found, .. } if found % 2 == 0 => {
            KeyFileError::WrongSize { bytes: found / 2 }
        }
        e => KeyFileError::BadSecret(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_round_trip_privately_and_are_never_overwritten() {
        let dir = std::env::temp_dir().join(format!("weft-key-file-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("secret.key");
        let _ = fs::remove_file(&path);
        write_secret(&path, &[0xab; 32]).expect("new file");
        assert_eq!(fs::read_to_string(&path).expect("written"), "ab".repeat(32));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(read_secret(&path).expect("readable"), [0xab; 32]);
        match write_secret(&path, &[1; 32]) {
            Err(KeyFileError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::AlreadyExists),
            other => panic!("overwrote a key: {other:?}"),
        }
        assert_eq!(read_secret(&path).expect("unchanged"), [0xab; 32]);

        fs::write(&path, format!("0x{}\n", "cd".repeat(32))).expect("edit");
        assert_eq!(read_secret(&path).expect("0x and a newline"), [0xcd; 32]);
        fs::write(&path, "abcd").expect("edit");
        assert_eq!(read_secret(&path).expect_err("short").to_string(), "2 bytes; a secret key is 32");
        fs::write(&path, "abcg").expect("edit");
        assert_eq!(
            read_secret(&path).expect_err("typo").to_string(),
            "not a 32-byte secret key in hex: invalid hex digit 'g' at position 3"
        );
        fs::remove_dir_all(&dir).expect("clean up");
    }
}
