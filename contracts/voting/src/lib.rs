//! Example contract: voting. Anyone opens a proposal with 2–16 choices and a deadline (a block
//! height); every account votes once while `block_height < deadline`. A vote weighs 1, or, when
//! the proposal names a token contract, the voter's balance there at the time of the vote
//! (read with a cross-contract `balance_of` call; tokens moved after voting can vote again from
//! another account — a real deployment would snapshot balances). The tally is public at any
//! time and has a winner once the deadline has passed.
#![cfg_attr(target_arch = "wasm32", no_std)]

use weft_contract::prelude::*;

/// Most choices of one proposal.
pub const MAX_CHOICES: u32 = 16;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION_BYTES: u32 = 1024;
/// Longest choice label, in bytes.
pub const MAX_CHOICE_BYTES: u32 = 64;

/// Why a voting call failed.
#[derive(Encode, Decode, AbiType, Debug, PartialEq, Eq)]
pub enum VotingError {
    /// No proposal has this id.
    NoSuchProposal,
    /// The deadline is not after the current height.
    DeadlineInPast {
        /// The deadline asked for.
        deadline: u64,
        /// The current height.
        height: u64,
    },
    /// Fewer than 2 or more than `MAX_CHOICES` choices, or a text over its limit.
    InvalidProposal,
    /// Voting closed at the deadline.
    Closed {
        /// The proposal's deadline.
        deadline: u64,
    },
    /// The choice index is not one of the proposal's choices.
    InvalidChoice,
    /// This account already voted on this proposal.
    AlreadyVoted,
    /// The voter holds none of the weighting token.
    NoVotingPower,
    /// The cross-contract `balance_of` call to the token failed with this result code.
    TokenCallFailed {
        /// The `abi::codes` result code.
        code: i32,
    },
}

/// A proposal.
#[derive(Encode, Decode, AbiType, Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// Who opened it.
    pub creator: Address,
    /// What is being decided.
    pub description: String,
    /// The choices; votes name them by index.
    pub choices: Vec<String>,
    /// Votes are accepted while the block height is below this.
    pub deadline: u64,
    /// Token whose balance weighs each vote (`None`: one account, one vote).
    pub token: Option<Address>,
}

/// The state of a proposal's vote.
#[derive(Encode, Decode, AbiType, Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    /// Total weight per choice.
    pub counts: Vec<u128>,
    /// Accounts that voted.
    pub voters: u32,
    /// Whether the deadline has passed.
    pub closed: bool,
    /// Once closed, the choice with the most weight (`None` on a tie or without votes).
    pub winner: Option<u8>,
}

/// A proposal was opened.
#[derive(Event)]
pub struct ProposalCreated {
    /// Its id.
    #[indexed]
    pub id: u64,
    /// Who opened it.
    #[indexed]
    pub creator: Address,
    /// Its deadline height.
    pub deadline: u64,
}

/// A vote was cast.
#[derive(Event)]
pub struct Voted {
    /// The proposal.
    #[indexed]
    pub id: u64,
    /// The voter.
    #[indexed]
    pub voter: Address,
    /// The choice's index.
    pub choice: u8,
    /// The vote's weight.
    pub weight: u128,
}

/// The voting state.
#[storage]
pub struct Voting {
    next_id: Item<u64>,
    proposals: Map<u64, Proposal>,
    counts: Map<(u64, u8), u128>,
    voters: Map<u64, u32>,
    voted: Set<(u64, Address)>,
}

fn text_ok(s: &str, max: u32) -> bool {
    !s.is_empty() && s.len() <= max as usize
}

#[contract(events = [ProposalCreated, Voted])]
impl Voting {
    /// Opens a proposal; returns its id. Votes are accepted while `block_height < deadline`;
    /// with `token`, each vote weighs the voter's balance of that token.
    pub fn create(
        &mut self,
        description: String,
        choices: Vec<String>,
        deadline: u64,
        token: Option<Address>,
    ) -> Result<u64, VotingError> {
        let height = self.env().block_height();
        if deadline <= height {
            return Err(VotingError::DeadlineInPast { deadline, height });
        }
        let choices_ok = (2..=MAX_CHOICES as usize).contains(&choices.len())
            && choices.iter().all(|c| text_ok(c, MAX_CHOICE_BYTES));
        if !choices_ok || !text_ok(&description, MAX_DESCRIPTION_BYTES) {
            return Err(VotingError::InvalidProposal);
        }
        let id = self.next_id.get_or_default();
        self.next_id.set(&(id + 1));
        let creator = self.env().caller();
        self.proposals.insert(&id, &Proposal { creator, description, choices, deadline, token });
        self.env().emit(ProposalCreated { id, creator, deadline });
        Ok(id)
    }

    /// Number of proposals (ids are `0..count`).
    pub fn count(&self) -> u64 {
        self.next_id.get_or_default()
    }

    /// Proposal `id`.
    pub fn proposal(&self, id: u64) -> Option<Proposal> {
        self.proposals.get(&id)
    }

    /// Whether `voter` voted on proposal `id`.
    pub fn has_voted(&self, id: u64, voter: Address) -> bool {
        self.voted.contains(&(id, voter))
    }

    /// Casts the caller's vote for `choice` on proposal `id`; returns the vote's weight.
    pub fn vote(&mut self, id: u64, choice: u8) -> Result<u128, VotingError> {
        let p = self.proposals.get(&id).ok_or(VotingError::NoSuchProposal)?;
        if self.env().block_height() >= p.deadline {
            return Err(VotingError::Closed { deadline: p.deadline });
        }
        if usize::from(choice) >= p.choices.len() {
            return Err(VotingError::InvalidChoice);
        }
        let voter = self.env().caller();
        if !self.voted.insert(&(id, voter)) {
            return Err(VotingError::AlreadyVoted);
        }
        let weight = match p.token {
            None => 1,
            Some(token) => {
                let balance: u128 = weft_contract::call(&token, "balance_of", &(voter,), 0, 0)
                    .map_err(|e| VotingError::TokenCallFailed { code: e.code })?;
                if balance == 0 {
                    return Err(VotingError::NoVotingPower);
                }
                balance
            }
        };
        let count = self.counts.get_or_default(&(id, choice)).saturating_add(weight);
        self.counts.insert(&(id, choice), &count);
        self.voters.insert(&id, &(self.voters.get_or_default(&id) + 1));
        self.env().emit(Voted { id, voter, choice, weight });
        Ok(weight)
    }

    /// The tally of proposal `id`.
    pub fn tally(&self, id: u64) -> Result<Tally, VotingError> {
        let p = self.proposals.get(&id).ok_or(VotingError::NoSuchProposal)?;
        let counts: Vec<u128> =
            (0..p.choices.len()).map(|c| self.counts.get_or_default(&(id, c as u8))).collect();
        let closed = self.env().block_height() >= p.deadline;
        let max = counts.iter().copied().max().unwrap_or(0);
        let mut leaders = counts.iter().enumerate().filter(|(_, c)| **c == max);
        let winner = match (closed && max > 0, leaders.next(), leaders.next()) {
            (true, Some((i, _)), None) => Some(i as u8),
            _ => None,
        };
        Ok(Tally { counts, voters: self.voters.get_or_default(&id), closed, winner })
    }
}
