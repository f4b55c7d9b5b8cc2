//! Example contract: supply-chain. The admin (deployer) registers parties with a role;
//! producers register items; the current custodian of an item records checkpoints (location,
//! status, note, block time) and hands custody to another registered party. Every step is kept,
//! so an item's full provenance can be read back; delivery to a retailer ends the chain.
#![cfg_attr(target_arch = "wasm32", no_std)]

use weft_contract::prelude::*;

/// Longest name, description, location or note, in bytes.
pub const MAX_TEXT_BYTES: u32 = 256;

/// What a registered party does.
#[derive(Encode, Decode, AbiType, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Makes and registers items.
    Producer,
    /// Moves items.
    Carrier,
    /// Stores items.
    Warehouse,
    /// Sells items; may mark them delivered.
    Retailer,
}

/// The state of an item at a checkpoint.
#[derive(Encode, Decode, AbiType, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Registered by its producer.
    Created,
    /// Custody handed to a new party.
    HandedOver,
    /// Moving.
    InTransit,
    /// In storage.
    Stored,
    /// Checked for quality.
    Inspected,
    /// Delivered to its final recipient: the chain ends.
    Delivered,
}

/// A registered party.
#[derive(Encode, Decode, AbiType, Clone, Debug, PartialEq, Eq)]
pub struct Party {
    /// Display name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Whether it may still take part (the admin can deactivate it).
    pub active: bool,
}

/// A tracked item.
#[derive(Encode, Decode, AbiType, Clone, Debug, PartialEq, Eq)]
pub struct ItemRecord {
    /// Who registered it.
    pub producer: Address,
    /// Who holds it now.
    pub custodian: Address,
    /// What it is.
    pub description: String,
    /// Block timestamp (ms) of its registration.
    pub created_at: u64,
    /// Whether it was delivered (no more checkpoints).
    pub delivered: bool,
}

/// One step of an item's provenance.
#[derive(Encode, Decode, AbiType, Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The custodian after this step.
    pub custodian: Address,
    /// Who recorded it.
    pub by: Address,
    /// Where.
    pub location: String,
    /// What happened.
    pub status: Status,
    /// Free text.
    pub note: String,
    /// Block timestamp, ms.
    pub timestamp: u64,
    /// Block height.
    pub height: u64,
}

/// Why a supply-chain call failed.
#[derive(Encode, Decode, AbiType, Debug, PartialEq, Eq)]
pub enum SupplyError {
    /// Only the admin may do this.
    NotAdmin,
    /// The account is not a registered, active party.
    NotRegistered {
        /// The account.
        account: Address,
    },
    /// The party's role does not allow this.
    WrongRole {
        /// The role it has.
        role: Role,
    },
    /// No item has this id.
    NoSuchItem,
    /// Only the item's current custodian may do this.
    NotCustodian,
    /// The item was delivered; its chain is closed.
    AlreadyDelivered,
    /// `Created` and `HandedOver` are recorded by `register_item` and `hand_over` only.
    InvalidStatus,
    /// A text is empty (where required) or longer than `MAX_TEXT_BYTES`.
    BadText,
}

/// A party was registered or updated.
#[derive(Event)]
pub struct PartyRegistered {
    /// The account.
    #[indexed]
    pub account: Address,
    /// Its role.
    pub role: Role,
    /// Whether it is active.
    pub active: bool,
}

/// An item was registered.
#[derive(Event)]
pub struct ItemRegistered {
    /// Item id.
    #[indexed]
    pub id: u64,
    /// Its producer.
    #[indexed]
    pub producer: Address,
}

/// Custody of an item changed hands.
#[derive(Event)]
pub struct CustodyTransferred {
    /// Item id.
    #[indexed]
    pub id: u64,
    /// Previous custodian.
    #[indexed]
    pub from: Address,
    /// New custodian.
    #[indexed]
    pub to: Address,
    /// Where.
    pub location: String,
}

/// A checkpoint was recorded.
#[derive(Event)]
pub struct CheckpointRecorded {
    /// Item id.
    #[indexed]
    pub id: u64,
    /// Its index in the item's history.
    pub index: u32,
    /// The status recorded (a topic: `sha3_256(SCALE(status))`, to filter by status).
    #[indexed]
    pub status: Status,
}

/// The supply chain's state.
#[storage]
pub struct SupplyChain {
    admin: Item<Address>,
    parties: Map<Address, Party>,
    next_id: Item<u64>,
    items: Map<u64, ItemRecord>,
    history: VecMap<u64, Checkpoint>,
}

fn text_ok(s: &str, allow_empty: bool) -> Result<(), SupplyError> {
    if (s.is_empty() && !allow_empty) || s.len() > MAX_TEXT_BYTES as usize {
        return Err(SupplyError::BadText);
    }
    Ok(())
}

#[contract(events = [PartyRegistered, ItemRegistered, CustodyTransferred, CheckpointRecorded])]
impl SupplyChain {
    /// The deployer becomes the admin, who registers parties.
    #[init]
    pub fn init(&mut self) {
        let admin = self.env().caller();
        self.admin.set(&admin);
    }

    /// The admin.
    pub fn admin(&self) -> Address {
        self.admin.get_or_default()
    }

    /// Registers `account` (or updates it) as `name` with `role`. Admin only.
    pub fn register_party(&mut self, account: Address, name: String, role: Role) -> Result<(), SupplyError> {
        self.only_admin()?;
        text_ok(&name, false)?;
        self.parties.insert(&account, &Party { name, role, active: true });
        self.env().emit(PartyRegistered { account, role, active: true });
        Ok(())
    }

    /// Deactivates `account`: it can no longer receive or record anything. Admin only.
    pub fn deactivate_party(&mut self, account: Address) -> Result<(), SupplyError> {
        self.only_admin()?;
        let mut party = self.parties.get(&account).ok_or(SupplyError::NotRegistered { account })?;
        party.active = false;
        self.parties.insert(&account, &party);
        self.env().emit(PartyRegistered { account, role: party.role, active: false });
        Ok(())
    }

    /// The party registered as `account`.
    pub fn party(&self, account: Address) -> Option<Party> {
        self.parties.get(&account)
    }

    /// Registers a new item made by the caller, a producer, at `location`; returns its id.
    pub fn register_item(&mut self, description: String, location: String) -> Result<u64, SupplyError> {
        let producer = self.env().caller();
        let party = self.active_party(producer)?;
        if party.role != Role::Producer {
            return Err(SupplyError::WrongRole { role: party.role });
        }
        text_ok(&description, false)?;
        text_ok(&location, false)?;
        let id = self.next_id.get_or_default();
        self.next_id.set(&(id + 1));
        let created_at = self.env().block_timestamp();
        let item = ItemRecord { producer, custodian: producer, description, created_at, delivered: false };
        self.items.insert(&id, &item);
        self.env().emit(ItemRegistered { id, producer });
        self.record(id, producer, location, Status::Created, String::new());
        Ok(id)
    }

    /// Hands item `id` from the caller, its custodian, to the registered party `to` at
    /// `location`.
    pub fn hand_over(&mut self, id: u64, to: Address, location: String) -> Result<(), SupplyError> {
        let mut item = self.custodian_item(id)?;
        self.active_party(to)?;
        text_ok(&location, false)?;
        let from = item.custodian;
        item.custodian = to;
        self.items.insert(&id, &item);
        self.env().emit(CustodyTransferred { id, from, to, location: location.clone() });
        self.record(id, to, location, Status::HandedOver, String::new());
        Ok(())
    }

    /// Records a checkpoint of item `id` by its custodian: `status` at `location`, with `note`.
    /// `Delivered` may only be recorded by a retailer and closes the item's chain.
    pub fn checkpoint(
        &mut self,
        id: u64,
        location: String,
        status: Status,
        note: String,
    ) -> Result<u32, SupplyError> {
        let mut item = self.custodian_item(id)?;
        text_ok(&location, false)?;
        text_ok(&note, true)?;
        match status {
            Status::Created | Status::HandedOver => return Err(SupplyError::InvalidStatus),
            Status::Delivered => {
                let party = self.active_party(item.custodian)?;
                if party.role != Role::Retailer {
                    return Err(SupplyError::WrongRole { role: party.role });
                }
                item.delivered = true;
                self.items.insert(&id, &item);
            }
            _ => {}
        }
        Ok(self.record(id, item.custodian, location, status, note))
    }

    /// Item `id`.
    pub fn item(&self, id: u64) -> Option<ItemRecord> {
        self.items.get(&id)
    }

    /// Number of checkpoints of item `id`.
    pub fn history_len(&self, id: u64) -> u32 {
        self.history.len(&id)
    }

    /// The full provenance of item `id`, oldest first.
    pub fn history(&self, id: u64) -> Vec<Checkpoint> {
        self.history.range(&id, 0, u32::MAX)
    }

    /// At most `limit` checkpoints of item `id` from index `start` (for long histories, whose
    /// whole list would exceed the return-data limit).
    pub fn history_page(&self, id: u64, start: u32, limit: u32) -> Vec<Checkpoint> {
        self.history.range(&id, start, limit)
    }

    fn only_admin(&self) -> Result<(), SupplyError> {
        if self.env().caller() != self.admin() {
            return Err(SupplyError::NotAdmin);
        }
        Ok(())
    }

    fn active_party(&self, account: Address) -> Result<Party, SupplyError> {
        match self.parties.get(&account) {
            Some(p) if p.active => Ok(p),
            _ => Err(SupplyError::NotRegistered { account }),
        }
    }

    /// Item `id`, checking that the caller is its active custodian and it is not delivered.
    fn custodian_item(&self, id: u64) -> Result<ItemRecord, SupplyError> {
        let item = self.items.get(&id).ok_or(SupplyError::NoSuchItem)?;
        let caller = self.env().caller();
        if item.custodian != caller {
            return Err(SupplyError::NotCustodian);
        }
        if item.delivered {
            return Err(SupplyError::AlreadyDelivered);
        }
        self.active_party(caller)?;
        Ok(item)
    }

    fn record(&mut self, id: u64, custodian: Address, location: String, status: Status, note: String) -> u32 {
        let env = self.env();
        let checkpoint = Checkpoint {
            custodian,
            by: env.caller(),
            location,
            status,
            note,
            timestamp: env.block_timestamp(),
            height: env.block_height(),
        };
        let index = self.history.push(&id, &checkpoint);
        env.emit(CheckpointRecorded { id, index, status });
        index
    }
}
