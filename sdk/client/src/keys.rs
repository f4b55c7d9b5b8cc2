//! Keys: the [`Signer`] that signs transactions, key generation from OS randomness, the dev
//! accounts by name, and the [`Keystore`], a directory of key files.
//!
//! **Key files are not encrypted.** A key file is JSON holding the secret key in hex, readable
//! by anyone who can read the file; it is created with mode 0600 in a directory of mode 0700 (on
//! Unix), and that is all the protection it has. Use it for development and test networks.
//!
//! Names: `<who>` in the CLI and [`Keystore::resolve_address`] accept a `0x` address, a dev
//! account name (`alice` … `ferdie`) or a keystore name; [`Keystore::resolve_signer`] accepts a
//! dev name, a keystore name or the path of a key file.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use weft_types::{
    Address, SignedTransaction, Transaction,
    dev::{DEV_ACCOUNTS, dev_key},
    tx::address_of,
};

use crate::error::{ClientError, Result};

/// A key that signs transactions, with its address (the ed25519 public key).
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    address: Address,
    name: Option<String>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("Signer").field("address", &self.address).field("name", &self.name).finish()
    }
}

impl Signer {
    /// A signer from an ed25519 secret key (the RFC 8032 seed).
    pub fn from_secret(secret: [u8; 32]) -> Self {
        Self::from_key(SigningKey::from_bytes(&secret))
    }

    /// A signer from an ed25519 signing key.
    pub fn from_key(key: SigningKey) -> Self {
        let address = address_of(&key);
        Self { key, address, name: None }
    }

    /// A signer from a secret key written as 64 hex digits, with or without `0x`.
    pub fn from_secret_hex(text: &str) -> Result<Self> {
        let secret = weft_types::hex::decode_array_lenient(text.trim()).map_err(|e| {
            ClientError::InvalidInput(format!("a secret key is 64 hex digits (32 bytes): {e}"))
        })?;
        Ok(Self::from_secret(secret))
    }

    /// A new random key from the operating system's randomness.
    pub fn generate() -> Result<Self> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| ClientError::Keystore(format!("the operating system gave no randomness: {e}")))?;
        Ok(Self::from_secret(secret))
    }

    /// The dev account `name` (one of [`DEV_ACCOUNTS`]); `None` for any other name.
    pub fn dev(name: &str) -> Option<Self> {
        DEV_ACCOUNTS.contains(&name).then(|| Self::from_key(dev_key(name)).with_name(name))
    }

    /// The same key, labelled with a name (shown by the CLI).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The account address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// The name it was loaded under, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The ed25519 key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The secret key as `0x` hex. Handle with care.
    pub fn secret_hex(&self) -> String {
        weft_types::hex::encode(&self.key.to_bytes())
    }

    /// Signs a transaction; its `sender` must be this signer's address.
    pub fn sign(&self, tx: Transaction) -> Result<SignedTransaction> {
        if tx.sender != self.address {
            return Err(ClientError::InvalidInput(format!(
                "the transaction's sender is {}, but the key is {}'s",
                tx.sender, self.address
            )));
        }
        Ok(tx.sign(&self.key))
    }
}

/// The JSON of a key file. Unencrypted: `secret_key` is the ed25519 secret in hex.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyFile {
    /// The key's name.
    pub name: String,
    /// Its address.
    pub address: Address,
    /// The secret key, `0x` hex (32 bytes). Not encrypted.
    pub secret_key: String,
    /// A reminder written into every file: the key is not encrypted.
    #[serde(default)]
    pub note: Option<String>,
}

/// The note written into every key file.
pub const KEY_FILE_NOTE: &str = "UNENCRYPTED: anyone who can read this file controls the account";

/// One key of a keystore listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyEntry {
    /// Name.
    pub name: String,
    /// Address.
    pub address: Address,
    /// The key file.
    pub path: PathBuf,
}

/// A directory of unencrypted key files, `<dir>/<name>.json` (default `~/.weft/keys`).
#[derive(Clone, Debug)]
pub struct Keystore {
    dir: PathBuf,
}

impl Keystore {
    /// A keystore in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// `~/.weft/keys`, when the home directory is known.
    pub fn default_dir() -> Option<PathBuf> {
        let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
        home.or_else(std::env::home_dir).map(|h| h.join(".weft").join("keys"))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of key `name` (whether or not it exists).
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Generates a new key and stores it as `name`. Refuses an existing name and the dev
    /// account names (which would be ambiguous).
    pub fn create(&self, name: &str) -> Result<Signer> {
        let signer = Signer::generate()?;
        self.import(name, &signer)?;
        Ok(signer.with_name(name))
    }

    /// Stores `signer` as `name` (a new file, mode 0600).
    pub fn import(&self, name: &str, signer: &Signer) -> Result<PathBuf> {
        check_key_name(name)?;
        create_private_dir(&self.dir)?;
        let path = self.path_of(name);
        let file = KeyFile {
            name: name.into(),
            address: signer.address(),
            secret_key: signer.secret_hex(),
            note: Some(KEY_FILE_NOTE.into()),
        };
        let mut json = serde_json::to_vec_pretty(&file)
            .map_err(|e| ClientError::Keystore(format!("cannot encode key file: {e}")))?;
        json.push(b'\n');
        weft_types::key_file::create_private(&path, &json).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                ClientError::Keystore(format!("a key named `{name}` already exists ({})", path.display()))
            }
            _ => ClientError::Keystore(format!("cannot write {}: {e}", path.display())),
        })?;
        Ok(path)
    }

    /// The stored keys, sorted by name. An absent directory is an empty keystore; a file that
    /// is not a key file is skipped.
    pub fn list(&self) -> Result<Vec<KeyEntry>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(ClientError::Keystore(format!("cannot read {}: {e}", self.dir.display()))),
        };
        let mut keys = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| ClientError::Keystore(e.to_string()))?.path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            if let Ok(file) = read_key_file(&path) {
                keys.push(KeyEntry { name: file.name, address: file.address, path });
            }
        }
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(keys)
    }

    /// Whether a key named `name` is stored.
    pub fn contains(&self, name: &str) -> bool {
        check_key_name(name).is_ok() && self.path_of(name).is_file()
    }

    /// Loads key `name`.
    pub fn load(&self, name: &str) -> Result<Signer> {
        check_key_name(name)?;
        let path = self.path_of(name);
        if !path.is_file() {
            return Err(ClientError::Keystore(format!(
                "no key named `{name}` in {} (create one with `weft keys new {name}`)",
                self.dir.display()
            )));
        }
        load_key_file(&path)
    }

    /// The signer named by `spec`: a dev account name, a keystore name, or a key file path.
    pub fn resolve_signer(&self, spec: &str) -> Result<Signer> {
        if let Some(signer) = Signer::dev(spec) {
            return Ok(signer);
        }
        if self.contains(spec) {
            return self.load(spec);
        }
        let path = Path::new(spec);
        if path.is_file() {
            return load_key_file(path);
        }
        Err(ClientError::InvalidInput(format!(
            "`{spec}` is not a dev account ({}), a key in {} or a key file",
            DEV_ACCOUNTS.join(", "),
            self.dir.display()
        )))
    }

    /// The address named by `spec`: a `0x` address, a dev account name or a keystore name.
    pub fn resolve_address(&self, spec: &str) -> Result<Address> {
        if spec.starts_with("0x") {
            return spec
                .parse()
                .map_err(|e| ClientError::InvalidInput(format!("`{spec}` is not a valid address: {e}")));
        }
        if let Some(signer) = Signer::dev(spec) {
            return Ok(signer.address());
        }
        if self.contains(spec) {
            return Ok(read_key_file(&self.path_of(spec))?.address);
        }
        Err(ClientError::InvalidInput(format!(
            "`{spec}` is not an address (0x and 64 hex digits), a dev account ({}) or a key in {}",
            DEV_ACCOUNTS.join(", "),
            self.dir.display()
        )))
    }
}

/// Loads a key file, checking that its address is its secret key's.
pub fn load_key_file(path: &Path) -> Result<Signer> {
    let file = read_key_file(path)?;
    let signer = Signer::from_secret_hex(&file.secret_key)
        .map_err(|e| ClientError::Keystore(format!("{}: {e}", path.display())))?;
    if signer.address() != file.address {
        return Err(ClientError::Keystore(format!(
            "{}: the address {} is not the secret key's ({})",
            path.display(),
            file.address,
            signer.address()
        )));
    }
    Ok(signer.with_name(file.name))
}

fn read_key_file(path: &Path) -> Result<KeyFile> {
    let bytes = std::fs::read(path)
        .map_err(|e| ClientError::Keystore(format!("cannot read key file {}: {e}", path.display())))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ClientError::Keystore(format!("{} is not a key file: {e}", path.display())))
}

/// Key names: 1 to 64 characters of `[A-Za-z0-9_-]`, not a dev account name.
pub fn check_key_name(name: &str) -> Result<()> {
    let ok_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if name.is_empty() || name.len() > 64 || !ok_chars {
        return Err(ClientError::InvalidInput(format!(
            "key name {name:?} must be 1 to 64 characters of letters, digits, `_` and `-`"
        )));
    }
    if DEV_ACCOUNTS.contains(&name) {
        return Err(ClientError::InvalidInput(format!(
            "`{name}` is a dev account name; choose another name for your key"
        )));
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| ClientError::Keystore(format!("cannot create {}: {e}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_signers_match_weft_types() {
        let alice = Signer::dev("alice").expect("alice is a dev account");
        assert_eq!(alice.address(), weft_types::dev::dev_address("alice"));
        assert_eq!(alice.name(), Some("alice"));
        assert!(Signer::dev("mallory").is_none());
        assert!(!format!("{alice:?}").contains(&alice.secret_hex()[2..]));
    }

    #[test]
    fn generated_keys_differ_and_round_trip_through_hex() {
        let a = Signer::generate().expect("randomness");
        let b = Signer::generate().expect("randomness");
        assert_ne!(a.address(), b.address());
        let again = Signer::from_secret_hex(&a.secret_hex()).expect("valid hex");
        assert_eq!(again.address(), a.address());
        assert!(Signer::from_secret_hex("0x1234").is_err());
    }

    #[test]
    fn keystore_creates_lists_loads_and_resolves() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Keystore::new(dir.path().join("keys"));
        assert!(store.list().expect("empty").is_empty());
        let k = store.create("deployer").expect("create");
        assert!(store.create("deployer").is_err(), "names are unique");
        assert!(store.create("alice").is_err(), "dev names are reserved");
        assert!(store.create("../evil").is_err(), "names are plain");
        let listed = store.list().expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "deployer");
        assert_eq!(listed[0].address, k.address());
        assert_eq!(store.load("deployer").expect("load").address(), k.address());

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path_of("deployer")).expect("file").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = std::fs::metadata(store.dir()).expect("dir").permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }

        assert_eq!(store.resolve_address("deployer").expect("by name"), k.address());
        assert_eq!(store.resolve_address("bob").expect("dev"), weft_types::dev::dev_address("bob"));
        let hex = k.address().to_string();
        assert_eq!(store.resolve_address(&hex).expect("hex"), k.address());
        let err = store.resolve_address("0x12").expect_err("short");
        assert!(err.to_string().contains("not a valid address"), "{err}");
        let err = store.resolve_address("nobody").expect_err("unknown");
        assert!(err.to_string().contains("is not an address"), "{err}");

        let path = store.path_of("deployer");
        let by_path = store.resolve_signer(path.to_str().expect("utf-8")).expect("path");
        assert_eq!(by_path.address(), k.address());
        assert_eq!(
            store.resolve_signer("charlie").expect("dev").address(),
            weft_types::dev::dev_address("charlie")
        );
        assert!(store.resolve_signer("nobody").is_err());
    }

    #[test]
    fn tampered_key_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Keystore::new(dir.path());
        store.create("k").expect("create");
        let path = store.path_of("k");
        let mut file: KeyFile = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        file.address = weft_types::dev::dev_address("bob");
        std::fs::write(&path, serde_json::to_vec(&file).expect("json")).expect("write");
        let err = store.load("k").expect_err("mismatch");
        assert!(err.to_string().contains("is not the secret key's"), "{err}");
        std::fs::write(&path, b"not json").expect("write");
        assert!(store.load("k").is_err());
    }
}
