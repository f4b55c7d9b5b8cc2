//! Example contract: the token, version 2: what a deployed `weft-example-token` is upgraded to
//! (`weft upgrade`, `Action::Upgrade`). The same storage, so balances and allowances carry
//! over; a `#[migrate]` entry that hands ownership over as part of the upgrade; and a new
//! method, `burn`.
#![cfg_attr(target_arch = "wasm32", no_std)]

use weft_contract::prelude::*;

/// Why a token call failed.
#[derive(Encode, Decode, AbiType, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// The payer's balance is below the amount.
    InsufficientBalance {
        /// The payer's balance.
        have: u128,
        /// The amount asked for.
        need: u128,
    },
    /// The spender's allowance is below the amount.
    InsufficientAllowance {
        /// The allowance left.
        have: u128,
        /// The amount asked for.
        need: u128,
    },
    /// Only the owner may do this.
    NotOwner,
    /// The total supply would overflow.
    Overflow,
}

/// Tokens moved (`from` is the zero address for a mint).
#[derive(Event)]
pub struct Transfer {
    /// Payer.
    #[indexed]
    pub from: Address,
    /// Payee.
    #[indexed]
    pub to: Address,
    /// Amount moved.
    pub amount: u128,
}

/// An allowance was set.
#[derive(Event)]
pub struct Approval {
    /// Holder of the tokens.
    #[indexed]
    pub owner: Address,
    /// Who may spend them.
    #[indexed]
    pub spender: Address,
    /// The new allowance.
    pub amount: u128,
}

/// The token's state.
#[storage]
pub struct Token {
    owner: Item<Address>,
    total_supply: Item<u128>,
    balances: Map<Address, u128>,
    allowances: Map<(Address, Address), u128>,
}

#[contract(name = "token_v2", events = [Transfer, Approval])]
impl Token {
    /// Mints `supply` to the deployer, who becomes the owner.
    #[init]
    pub fn init(&mut self, supply: u128) {
        let owner = self.env().caller();
        self.owner.set(&owner);
        self.total_supply.set(&supply);
        self.balances.insert(&owner, &supply);
        self.env().emit(Transfer { from: Address::default(), to: owner, amount: supply });
    }

    /// Run once, by the upgrade to this version: `new_owner` becomes the owner.
    #[migrate]
    pub fn migrate(&mut self, new_owner: Address) {
        self.owner.set(&new_owner);
    }

    /// Destroys `amount` of the caller's tokens (new in version 2).
    pub fn burn(&mut self, amount: u128) -> Result<(), TokenError> {
        let from = self.env().caller();
        let have = self.balance_of(from);
        let left = have.checked_sub(amount).ok_or(TokenError::InsufficientBalance { have, need: amount })?;
        self.balances.insert(&from, &left);
        // The supply is at least any balance, so this cannot underflow.
        self.total_supply.set(&self.total_supply().saturating_sub(amount));
        self.env().emit(Transfer { from, to: Address::default(), amount });
        Ok(())
    }

    /// Tokens in existence.
    pub fn total_supply(&self) -> u128 {
        self.total_supply.get_or_default()
    }

    /// The owner, who may mint.
    pub fn owner(&self) -> Address {
        self.owner.get_or_default()
    }

    /// Balance of `owner`.
    pub fn balance_of(&self, owner: Address) -> u128 {
        self.balances.get_or_default(&owner)
    }

    /// What `spender` may still move from `owner`'s balance.
    pub fn allowance(&self, owner: Address, spender: Address) -> u128 {
        self.allowances.get_or_default(&(owner, spender))
    }

    /// Moves `amount` from the caller to `to`.
    pub fn transfer(&mut self, to: Address, amount: u128) -> Result<(), TokenError> {
        let from = self.env().caller();
        self.move_tokens(from, to, amount)
    }

    /// Lets `spender` move up to `amount` of the caller's tokens (replacing any previous allowance).
    pub fn approve(&mut self, spender: Address, amount: u128) {
        let owner = self.env().caller();
        self.allowances.insert(&(owner, spender), &amount);
        self.env().emit(Approval { owner, spender, amount });
    }

    /// Moves `amount` from `from` to `to`, spending the caller's allowance.
    pub fn transfer_from(&mut self, from: Address, to: Address, amount: u128) -> Result<(), TokenError> {
        let key = (from, self.env().caller());
        let have = self.allowances.get_or_default(&key);
        let left =
            have.checked_sub(amount).ok_or(TokenError::InsufficientAllowance { have, need: amount })?;
        self.allowances.insert(&key, &left);
        self.move_tokens(from, to, amount)
    }

    /// Creates `amount` new tokens for `to`; only the owner may.
    pub fn mint(&mut self, to: Address, amount: u128) -> Result<(), TokenError> {
        if self.env().caller() != self.owner() {
            return Err(TokenError::NotOwner);
        }
        let supply = self.total_supply().checked_add(amount).ok_or(TokenError::Overflow)?;
        self.total_supply.set(&supply);
        // Every balance is at most the supply, so this cannot overflow.
        let balance = self.balance_of(to).saturating_add(amount);
        self.balances.insert(&to, &balance);
        self.env().emit(Transfer { from: Address::default(), to, amount });
        Ok(())
    }

    fn move_tokens(&mut self, from: Address, to: Address, amount: u128) -> Result<(), TokenError> {
        let have = self.balance_of(from);
        let left = have.checked_sub(amount).ok_or(TokenError::InsufficientBalance { have, need: amount })?;
        self.balances.insert(&from, &left);
        // Balances sum to the supply, so the payee's cannot overflow.
        let credited = self.balance_of(to).saturating_add(amount);
        self.balances.insert(&to, &credited);
        self.env().emit(Transfer { from, to, amount });
        Ok(())
    }
}
