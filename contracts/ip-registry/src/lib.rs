//! Example contract: ip-registry. Registers works by the hash of their content, with owner,
//! title and block time: the caller's own works by hash, or by content (hashed on chain), or an
//! author's work submitted by anyone with the author's ed25519 signature. Owners transfer works
//! and grant licences (licensee, terms, optional expiry as a block timestamp), which they can
//! revoke. Anyone looks a work and its licences up by hash.
#![cfg_attr(target_arch = "wasm32", no_std)]

use weft_contract::prelude::*;

/// Longest title, in bytes.
pub const MAX_TITLE_BYTES: u32 = 256;
/// Longest licence terms, in bytes.
pub const MAX_TERMS_BYTES: u32 = 2048;

/// A registered work.
#[derive(Encode, Decode, AbiType, Clone, Debug, PartialEq, Eq)]
pub struct Work {
    /// Current owner.
    pub owner: Address,
    /// Who registered it first.
    pub author: Address,
    /// Title.
    pub title: String,
    /// Block timestamp (ms) of the registration.
    pub registered_at: u64,
    /// Block height of the registration.
    pub registered_height: u64,
}

/// A licence granted on a work.
#[derive(Encode, Decode, AbiType, Clone, Debug, PartialEq, Eq)]
pub struct Licence {
    /// Who may use the work.
    pub licensee: Address,
    /// The terms, as text.
    pub terms: String,
    /// Block timestamp (ms) of the grant.
    pub granted_at: u64,
    /// Block timestamp (ms) from which it no longer holds (`None`: perpetual).
    pub expires_at: Option<u64>,
    /// Whether the owner revoked it.
    pub revoked: bool,
}

/// Why a registry call failed.
#[derive(Encode, Decode, AbiType, Debug, PartialEq, Eq)]
pub enum IpError {
    /// This content hash is already registered.
    AlreadyRegistered {
        /// Its owner.
        owner: Address,
    },
    /// No work has this hash.
    NotFound,
    /// Only the work's owner may do this.
    NotOwner,
    /// The expiry is not after the current block timestamp.
    ExpiryInPast {
        /// The current block timestamp (ms).
        now: u64,
    },
    /// No licence has this index.
    NoSuchLicence,
    /// A text is empty or over its limit.
    BadText,
    /// The signature is not 64 bytes or not the author's signature of the registration.
    BadSignature,
}

/// A work was registered.
#[derive(Event)]
pub struct Registered {
    /// Content hash.
    #[indexed]
    pub hash: Hash,
    /// Owner.
    #[indexed]
    pub owner: Address,
    /// Title.
    pub title: String,
}

/// Ownership of a work changed.
#[derive(Event)]
pub struct OwnershipTransferred {
    /// Content hash.
    #[indexed]
    pub hash: Hash,
    /// Previous owner.
    #[indexed]
    pub from: Address,
    /// New owner.
    #[indexed]
    pub to: Address,
}

/// A licence was granted.
#[derive(Event)]
pub struct LicenceGranted {
    /// Content hash.
    #[indexed]
    pub hash: Hash,
    /// Licensee.
    #[indexed]
    pub licensee: Address,
    /// The licence's index for this work.
    pub index: u32,
    /// Expiry (ms), if any.
    pub expires_at: Option<u64>,
}

/// A licence was revoked.
#[derive(Event)]
pub struct LicenceRevoked {
    /// Content hash.
    #[indexed]
    pub hash: Hash,
    /// The licence's index.
    pub index: u32,
}

/// The registry's state.
#[storage]
pub struct IpRegistry {
    works: Map<Hash, Work>,
    licences: VecMap<Hash, Licence>,
}

#[contract(events = [Registered, OwnershipTransferred, LicenceGranted, LicenceRevoked])]
impl IpRegistry {
    /// Registers the work whose content hashes to `hash`, owned by the caller.
    pub fn register(&mut self, hash: Hash, title: String) -> Result<(), IpError> {
        let owner = self.env().caller();
        self.register_as(hash, title, owner)
    }

    /// Registers `content` itself, owned by the caller: its SHA3-256, computed here, is the
    /// work's hash, which is returned.
    pub fn register_content(&mut self, content: Vec<u8>, title: String) -> Result<Hash, IpError> {
        let hash = self.env().sha3_256(&content);
        let owner = self.env().caller();
        self.register_as(hash, title, owner)?;
        Ok(hash)
    }

    /// Registers `hash` for `author`, who signed (ed25519) `this contract's address ‖ hash ‖
    /// title`; anyone may submit it, the author owns the work.
    pub fn register_signed(
        &mut self,
        hash: Hash,
        title: String,
        author: Address,
        signature: Vec<u8>,
    ) -> Result<(), IpError> {
        let signature: [u8; 64] = signature.as_slice().try_into().map_err(|_| IpError::BadSignature)?;
        let env = self.env();
        let mut message = Vec::with_capacity(64 + title.len());
        message.extend_from_slice(&env.self_address().0);
        message.extend_from_slice(&hash.0);
        message.extend_from_slice(title.as_bytes());
        if !env.ed25519_verify(&signature, &author, &message) {
            return Err(IpError::BadSignature);
        }
        self.register_as(hash, title, author)
    }

    /// The work registered under `hash`.
    pub fn work(&self, hash: Hash) -> Option<Work> {
        self.works.get(&hash)
    }

    /// Transfers the work to `to`. Owner only; licences granted stay valid.
    pub fn transfer(&mut self, hash: Hash, to: Address) -> Result<(), IpError> {
        let mut work = self.owned(&hash)?;
        let from = work.owner;
        work.owner = to;
        self.works.insert(&hash, &work);
        self.env().emit(OwnershipTransferred { hash, from, to });
        Ok(())
    }

    /// Grants `licensee` a licence on the work under `terms`, until `expires_at` (a block
    /// timestamp in ms; `None`: perpetual). Owner only. Returns the licence's index.
    pub fn grant_licence(
        &mut self,
        hash: Hash,
        licensee: Address,
        terms: String,
        expires_at: Option<u64>,
    ) -> Result<u32, IpError> {
        self.owned(&hash)?;
        if terms.is_empty() || terms.len() > MAX_TERMS_BYTES as usize {
            return Err(IpError::BadText);
        }
        let now = self.env().block_timestamp();
        if expires_at.is_some_and(|t| t <= now) {
            return Err(IpError::ExpiryInPast { now });
        }
        let licence = Licence { licensee, terms, granted_at: now, expires_at, revoked: false };
        let index = self.licences.push(&hash, &licence);
        self.env().emit(LicenceGranted { hash, licensee, index, expires_at });
        Ok(index)
    }

    /// Revokes licence `index` of the work. Owner only.
    pub fn revoke_licence(&mut self, hash: Hash, index: u32) -> Result<(), IpError> {
        self.owned(&hash)?;
        let mut licence = self.licences.get(&hash, index).ok_or(IpError::NoSuchLicence)?;
        licence.revoked = true;
        self.licences.set(&hash, index, &licence);
        self.env().emit(LicenceRevoked { hash, index });
        Ok(())
    }

    /// Every licence granted on the work, in order.
    pub fn licences(&self, hash: Hash) -> Vec<Licence> {
        self.licences.range(&hash, 0, u32::MAX)
    }

    /// Whether `licensee` holds a licence on the work that is neither revoked nor expired.
    pub fn is_licensed(&self, hash: Hash, licensee: Address) -> bool {
        let now = self.env().block_timestamp();
        (0..self.licences.len(&hash))
            .filter_map(|i| self.licences.get(&hash, i))
            .any(|l| l.licensee == licensee && !l.revoked && l.expires_at.is_none_or(|t| now < t))
    }

    fn register_as(&mut self, hash: Hash, title: String, owner: Address) -> Result<(), IpError> {
        if let Some(work) = self.works.get(&hash) {
            return Err(IpError::AlreadyRegistered { owner: work.owner });
        }
        if title.is_empty() || title.len() > MAX_TITLE_BYTES as usize {
            return Err(IpError::BadText);
        }
        let env = self.env();
        let work = Work {
            owner,
            author: owner,
            title: title.clone(),
            registered_at: env.block_timestamp(),
            registered_height: env.block_height(),
        };
        self.works.insert(&hash, &work);
        env.emit(Registered { hash, owner, title });
        Ok(())
    }

    /// The work under `hash`, checking that the caller owns it.
    fn owned(&self, hash: &Hash) -> Result<Work, IpError> {
        let work = self.works.get(hash).ok_or(IpError::NotFound)?;
        if work.owner != self.env().caller() {
            return Err(IpError::NotOwner);
        }
        Ok(work)
    }
}
