//! Example contract: escrow. Two-party deals paid in a token contract (see `token`): the buyer
//! approves this contract on the token and opens a deal, which pulls the amount with the token's
//! `transfer_from`; the buyer or the arbiter releases it to the seller, the seller or the arbiter
//! refunds it to the buyer, and once the deadline height has passed anyone can trigger the
//! refund. Payouts use the token's `transfer`. A failing token call fails the whole escrow call
//! (and so undoes it), reporting the token's result code and revert data.
#![cfg_attr(target_arch = "wasm32", no_std)]

use weft_contract::prelude::*;

/// The state of a deal.
#[derive(Encode, Decode, AbiType, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DealState {
    /// Funds held.
    Open,
    /// Paid to the seller.
    Released,
    /// Paid back to the buyer (by the seller or the arbiter).
    Refunded,
    /// Paid back to the buyer after the deadline.
    Expired,
}

/// A deal.
#[derive(Encode, Decode, AbiType, Clone, Debug, PartialEq, Eq)]
pub struct Deal {
    /// Who pays.
    pub buyer: Address,
    /// Who is paid.
    pub seller: Address,
    /// Who settles disputes: may release or refund.
    pub arbiter: Address,
    /// Tokens held.
    pub amount: u128,
    /// From this block height on, anyone may refund the buyer.
    pub deadline: u64,
    /// Where the deal stands.
    pub state: DealState,
}

/// Why an escrow call failed.
#[derive(Encode, Decode, AbiType, Debug, PartialEq, Eq)]
pub enum EscrowError {
    /// No deal has this id.
    NoSuchDeal,
    /// The caller may not do this to this deal.
    NotAllowed,
    /// The deal was already settled.
    NotOpen {
        /// Its state.
        state: DealState,
    },
    /// The deadline has not passed yet.
    NotExpired {
        /// The deal's deadline height.
        deadline: u64,
        /// The current height.
        height: u64,
    },
    /// A zero amount, a zero timeout, or the buyer as the seller.
    InvalidDeal,
    /// A call to the token contract failed.
    TokenCallFailed {
        /// Its `abi::codes` result code.
        code: i32,
        /// The token's revert data (for a typed token error: `0x01 ‖ SCALE(TokenError)`).
        data: Vec<u8>,
    },
}

/// A deal was opened and funded.
#[derive(Event)]
pub struct Opened {
    /// Deal id.
    #[indexed]
    pub id: u64,
    /// Buyer.
    #[indexed]
    pub buyer: Address,
    /// Seller.
    #[indexed]
    pub seller: Address,
    /// Amount held.
    pub amount: u128,
    /// Deadline height.
    pub deadline: u64,
}

/// A deal was settled.
#[derive(Event)]
pub struct Settled {
    /// Deal id.
    #[indexed]
    pub id: u64,
    /// Who settled it.
    #[indexed]
    pub by: Address,
    /// The final state.
    pub state: DealState,
}

/// The escrow's state.
#[storage]
pub struct Escrow {
    token: Item<Address>,
    next_id: Item<u64>,
    deals: Map<u64, Deal>,
}

fn token_failed(e: CallError) -> EscrowError {
    EscrowError::TokenCallFailed { code: e.code, data: e.data }
}

#[contract(events = [Opened, Settled])]
impl Escrow {
    /// Deals are paid in the token contract at `token`.
    #[init]
    pub fn init(&mut self, token: Address) {
        self.token.set(&token);
    }

    /// The token contract.
    pub fn token(&self) -> Address {
        self.token.get_or_default()
    }

    /// Opens a deal of `amount` tokens from the caller (the buyer, who must have approved this
    /// contract for it on the token) to `seller`, with `arbiter`, refundable to the buyer by
    /// anyone after `timeout_blocks` blocks. Returns the deal's id.
    pub fn open(
        &mut self,
        seller: Address,
        arbiter: Address,
        amount: u128,
        timeout_blocks: u64,
    ) -> Result<u64, EscrowError> {
        let env = self.env();
        let buyer = env.caller();
        if amount == 0 || timeout_blocks == 0 || buyer == seller {
            return Err(EscrowError::InvalidDeal);
        }
        let deadline = env.block_height().saturating_add(timeout_blocks);
        let id = self.next_id.get_or_default();
        self.next_id.set(&(id + 1));
        let deal = Deal { buyer, seller, arbiter, amount, deadline, state: DealState::Open };
        self.deals.insert(&id, &deal);
        let args = (buyer, env.self_address(), amount);
        weft_contract::call::<()>(&self.token(), "transfer_from", &args, 0, 0).map_err(token_failed)?;
        env.emit(Opened { id, buyer, seller, amount, deadline });
        Ok(id)
    }

    /// Deal `id`.
    pub fn deal(&self, id: u64) -> Option<Deal> {
        self.deals.get(&id)
    }

    /// Pays deal `id` to the seller. Buyer or arbiter only.
    pub fn release(&mut self, id: u64) -> Result<(), EscrowError> {
        let deal = self.open_deal(id)?;
        let by = self.env().caller();
        if by != deal.buyer && by != deal.arbiter {
            return Err(EscrowError::NotAllowed);
        }
        self.settle(id, deal, DealState::Released, by)
    }

    /// Pays deal `id` back to the buyer. Seller or arbiter only.
    pub fn refund(&mut self, id: u64) -> Result<(), EscrowError> {
        let deal = self.open_deal(id)?;
        let by = self.env().caller();
        if by != deal.seller && by != deal.arbiter {
            return Err(EscrowError::NotAllowed);
        }
        self.settle(id, deal, DealState::Refunded, by)
    }

    /// Pays deal `id` back to the buyer once its deadline height is reached. Anyone may.
    pub fn claim_timeout(&mut self, id: u64) -> Result<(), EscrowError> {
        let deal = self.open_deal(id)?;
        let height = self.env().block_height();
        if height < deal.deadline {
            return Err(EscrowError::NotExpired { deadline: deal.deadline, height });
        }
        let by = self.env().caller();
        self.settle(id, deal, DealState::Expired, by)
    }

    fn open_deal(&self, id: u64) -> Result<Deal, EscrowError> {
        let deal = self.deals.get(&id).ok_or(EscrowError::NoSuchDeal)?;
        if deal.state != DealState::Open {
            return Err(EscrowError::NotOpen { state: deal.state });
        }
        Ok(deal)
    }

    /// Records the final state first, then pays (a failed payment undoes the whole call).
    fn settle(&mut self, id: u64, mut deal: Deal, state: DealState, by: Address) -> Result<(), EscrowError> {
        deal.state = state;
        self.deals.insert(&id, &deal);
        let to = if state == DealState::Released { deal.seller } else { deal.buyer };
        weft_contract::call::<()>(&self.token(), "transfer", &(to, deal.amount), 0, 0)
            .map_err(token_failed)?;
        self.env().emit(Settled { id, by, state });
        Ok(())
    }
}
