//! A fungible token, as a template for new contracts: balances, total supply, transfers,
//! allowances (`approve` / `transfer_from`) and minting by the owner (the deployer).
//!
//! Every construct of the contract SDK a typical contract needs is here, with a comment saying
//! what it does; `weft_contract`'s crate documentation has the full reference.

// On wasm there is no standard library: the SDK supplies the allocator and the panic handler.
// On the host (`cargo test`, `cargo clippy`) the crate is a normal std crate whose host
// functions panic, so it compiles everywhere but only runs as wasm, in a chain or the sandbox.
#![cfg_attr(target_arch = "wasm32", no_std)]

// `String`, `Vec`, `Address`, the collections, the macros and the SCALE traits.
use weft_contract::prelude::*;

/// Why a call failed. A method returning `Err(e)` reverts (undoing all its writes) with revert
/// data `0x01 ‖ SCALE(e)`, which clients decode with this type from the ABI, e.g.
/// `{"InsufficientBalance": {"have": "0", "need": "5"}}`.
///
/// `AbiType` describes the type in the ABI; every argument, return, error and event field type
/// needs it (the standard types and `Address`/`Hash` have it already).
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

/// An event: `topics[0]` is `sha3_256("Transfer")`; each `#[indexed]` field (at most 3) is a
/// topic clients can filter on; the other fields are the event's data. List every event in
/// `#[contract(events = [...])]` so that the ABI can decode it.
#[derive(Event)]
pub struct Transfer {
    /// Payer (the zero address for a mint).
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

/// The contract's storage. Each field is a collection stored under a one-byte prefix (its
/// position: 0, 1, 2, …), so do not reorder fields of a deployed contract. Nothing is loaded
/// up front: each `get` reads storage, each `set`/`insert` writes it.
#[storage]
pub struct Token {
    /// One value.
    owner: Item<Address>,
    total_supply: Item<u128>,
    /// A map: key `[2] ‖ SCALE(address)`.
    balances: Map<Address, u128>,
    /// Tuple keys work too: `[3] ‖ owner ‖ spender`.
    allowances: Map<(Address, Address), u128>,
}

// The contract's interface. Every `pub fn` becomes a wasm export and an ABI method (in this
// order); private `fn`s stay helpers. `&self` methods are read-only (`mutates: false`: clients
// query them without a transaction), `&mut self` methods change state. Arguments are decoded
// from the call's SCALE input; the return value is encoded as the call's return data. Calls
// with a value are refused unless the method is `#[payable]`.
#[contract(events = [Transfer, Approval])]
impl Token {
    /// The constructor (export `init`), run once at deployment: mints `supply` to the deployer,
    /// who becomes the owner.
    #[init]
    pub fn init(&mut self, supply: u128) {
        // `self.env()` is the execution environment: caller, value, block, events, hashing…
        let owner = self.env().caller();
        self.owner.set(&owner);
        self.total_supply.set(&supply);
        self.balances.insert(&owner, &supply);
        self.env().emit(Transfer { from: Address::default(), to: owner, amount: supply });
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
        // If this fails, the allowance written above is undone with the rest of the call.
        self.move_tokens(from, to, amount)
    }

    /// Creates `amount` new tokens for `to`; only the owner may.
    pub fn mint(&mut self, to: Address, amount: u128) -> Result<(), TokenError> {
        if self.env().caller() != self.owner() {
            return Err(TokenError::NotOwner);
        }
        // Contracts are built without overflow checks: use checked arithmetic where it matters.
        let supply = self.total_supply().checked_add(amount).ok_or(TokenError::Overflow)?;
        self.total_supply.set(&supply);
        // Every balance is at most the supply, so this cannot overflow.
        let balance = self.balance_of(to).saturating_add(amount);
        self.balances.insert(&to, &balance);
        self.env().emit(Transfer { from: Address::default(), to, amount });
        Ok(())
    }

    // A private helper: not exported, not in the ABI.
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
