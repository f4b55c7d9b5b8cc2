//! Example contract: nft. Non-fungible tokens with a metadata URI each. The contract's owner (its
//! deployer) mints for free; anyone else mints by paying the mint price set at deployment (in the
//! native token, to a `#[payable]` method; price 0 closes public minting), and the owner
//! withdraws the proceeds. Holders, approved accounts and operators transfer.
#![cfg_attr(target_arch = "wasm32", no_std)]

use weft_contract::prelude::*;

/// Longest metadata URI, in bytes.
pub const MAX_URI_BYTES: u32 = 512;

/// Why an NFT call failed.
#[derive(Encode, Decode, AbiType, Debug, PartialEq, Eq)]
pub enum NftError {
    /// Only the contract owner may mint.
    NotOwner,
    /// No token has this id.
    NoSuchToken {
        /// The id asked for.
        id: u64,
    },
    /// The caller is neither the holder, nor approved for the token, nor an operator.
    NotAuthorized,
    /// The metadata URI is empty or longer than `MAX_URI_BYTES`.
    BadUri {
        /// Its length.
        len: u32,
    },
    /// Public minting is closed (the mint price is 0).
    PublicMintClosed,
    /// The value sent is not the mint price.
    WrongPayment {
        /// The value sent.
        paid: u128,
        /// The mint price.
        price: u128,
    },
    /// The native transfer of the proceeds failed with this result code.
    TransferFailed {
        /// The `abi::codes` result code.
        code: i32,
    },
}

/// A token moved (`from` is the zero address for a mint).
#[derive(Event)]
pub struct Transfer {
    /// Previous holder.
    #[indexed]
    pub from: Address,
    /// New holder.
    #[indexed]
    pub to: Address,
    /// The token.
    #[indexed]
    pub id: u64,
}

/// The approved account of a token changed (`None`: cleared).
#[derive(Event)]
pub struct Approval {
    /// Holder.
    #[indexed]
    pub owner: Address,
    /// The token.
    #[indexed]
    pub id: u64,
    /// The account that may now transfer it.
    pub approved: Option<Address>,
}

/// An operator was enabled or disabled for all of a holder's tokens.
#[derive(Event)]
pub struct ApprovalForAll {
    /// Holder.
    #[indexed]
    pub owner: Address,
    /// Operator.
    #[indexed]
    pub operator: Address,
    /// Whether it is now an operator.
    pub approved: bool,
}

/// The collection's state.
#[storage]
pub struct Nft {
    owner: Item<Address>,
    name: Item<String>,
    price: Item<u128>,
    next_id: Item<u64>,
    holders: Map<u64, Address>,
    uris: Map<u64, String>,
    balances: Map<Address, u64>,
    approvals: Map<u64, Address>,
    operators: Set<(Address, Address)>,
}

#[contract(events = [Transfer, Approval, ApprovalForAll])]
impl Nft {
    /// Creates the collection `name`; the deployer becomes its owner. Anyone may mint with
    /// `buy` for `price` (0: only the owner mints).
    #[init]
    pub fn init(&mut self, name: String, price: u128) {
        let owner = self.env().caller();
        self.owner.set(&owner);
        self.name.set(&name);
        self.price.set(&price);
    }

    /// The collection's name.
    pub fn name(&self) -> String {
        self.name.get_or_default()
    }

    /// The contract owner.
    pub fn owner(&self) -> Address {
        self.owner.get_or_default()
    }

    /// The price of a public mint (0: closed).
    pub fn price(&self) -> u128 {
        self.price.get_or_default()
    }

    /// Tokens minted so far (ids are `0..total_minted`).
    pub fn total_minted(&self) -> u64 {
        self.next_id.get_or_default()
    }

    /// Mints a new token for `to` with metadata `uri`; returns its id. Owner only, free.
    pub fn mint(&mut self, to: Address, uri: String) -> Result<u64, NftError> {
        if self.env().caller() != self.owner() {
            return Err(NftError::NotOwner);
        }
        self.mint_to(to, uri)
    }

    /// Mints a new token for the caller, who sends exactly the mint price with the call.
    #[payable]
    pub fn buy(&mut self, uri: String) -> Result<u64, NftError> {
        let price = self.price();
        if price == 0 {
            return Err(NftError::PublicMintClosed);
        }
        let paid = self.env().value();
        if paid != price {
            return Err(NftError::WrongPayment { paid, price });
        }
        let buyer = self.env().caller();
        self.mint_to(buyer, uri)
    }

    /// Sends the contract's whole native balance (the mint proceeds) to `to`; returns the
    /// amount. Owner only.
    pub fn withdraw(&mut self, to: Address) -> Result<u128, NftError> {
        let env = self.env();
        if env.caller() != self.owner() {
            return Err(NftError::NotOwner);
        }
        let amount = env.balance(&env.self_address());
        env.transfer(&to, amount).map_err(|code| NftError::TransferFailed { code })?;
        Ok(amount)
    }

    /// Holder of token `id`.
    pub fn owner_of(&self, id: u64) -> Option<Address> {
        self.holders.get(&id)
    }

    /// Metadata URI of token `id`.
    pub fn token_uri(&self, id: u64) -> Option<String> {
        self.uris.get(&id)
    }

    /// Number of tokens `holder` has.
    pub fn balance_of(&self, holder: Address) -> u64 {
        self.balances.get_or_default(&holder)
    }

    /// The account approved to transfer token `id`, if any.
    pub fn get_approved(&self, id: u64) -> Option<Address> {
        self.approvals.get(&id)
    }

    /// Whether `operator` may transfer all of `holder`'s tokens.
    pub fn is_approved_for_all(&self, holder: Address, operator: Address) -> bool {
        self.operators.contains(&(holder, operator))
    }

    /// Lets `approved` transfer token `id` (`None` clears it). Holder or operator only.
    pub fn approve(&mut self, approved: Option<Address>, id: u64) -> Result<(), NftError> {
        let holder = self.holder(id)?;
        let caller = self.env().caller();
        if caller != holder && !self.is_approved_for_all(holder, caller) {
            return Err(NftError::NotAuthorized);
        }
        match &approved {
            Some(a) => self.approvals.insert(&id, a),
            None => {
                self.approvals.remove(&id);
            }
        }
        self.env().emit(Approval { owner: holder, id, approved });
        Ok(())
    }

    /// Enables or disables `operator` for all of the caller's tokens.
    pub fn set_approval_for_all(&mut self, operator: Address, approved: bool) {
        let holder = self.env().caller();
        if approved {
            self.operators.insert(&(holder, operator));
        } else {
            self.operators.remove(&(holder, operator));
        }
        self.env().emit(ApprovalForAll { owner: holder, operator, approved });
    }

    /// Moves token `id` to `to`. The caller is its holder, its approved account, or an operator
    /// of its holder; the token's approval is cleared.
    pub fn transfer(&mut self, to: Address, id: u64) -> Result<(), NftError> {
        let from = self.holder(id)?;
        let caller = self.env().caller();
        let allowed = caller == from
            || self.approvals.get(&id) == Some(caller)
            || self.is_approved_for_all(from, caller);
        if !allowed {
            return Err(NftError::NotAuthorized);
        }
        self.approvals.remove(&id);
        self.holders.insert(&id, &to);
        if from != to {
            self.balances.insert(&from, &self.balance_of(from).saturating_sub(1));
            self.balances.insert(&to, &(self.balance_of(to) + 1));
        }
        self.env().emit(Transfer { from, to, id });
        Ok(())
    }

    fn mint_to(&mut self, to: Address, uri: String) -> Result<u64, NftError> {
        let len = u32::try_from(uri.len()).unwrap_or(u32::MAX);
        if len == 0 || len > MAX_URI_BYTES {
            return Err(NftError::BadUri { len });
        }
        let id = self.total_minted();
        self.next_id.set(&(id + 1));
        self.holders.insert(&id, &to);
        self.uris.insert(&id, &uri);
        self.balances.insert(&to, &(self.balance_of(to) + 1));
        self.env().emit(Transfer { from: Address::default(), to, id });
        Ok(id)
    }

    fn holder(&self, id: u64) -> Result<Address, NftError> {
        self.holders.get(&id).ok_or(NftError::NoSuchToken { id })
    }
}
