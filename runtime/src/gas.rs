//! The gas schedule (versioned: changing a number is a protocol change) and the per-transaction
//! gas meter. One unit of gas is one unit of the VM's fuel (see `vm`), so instructions and host
//! calls are priced on one scale; roughly one gas per nanosecond of work on the reference machine.

use weft_types::{Amount, Gas};

/// Prices of everything a transaction can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GasSchedule {
    /// Schedule version, recorded so that a change is visible in review and in receipts' gas.
    pub version: u32,
    /// Every transaction: signature check, nonce and fee bookkeeping.
    pub tx_base: Gas,
    /// Per byte of the encoded signed transaction.
    pub tx_byte: Gas,
    /// Per byte of uploaded code (validation, compilation, permanent storage).
    pub upload_byte: Gas,
    /// Creating a contract account.
    pub instantiate_base: Gas,
    /// Entering a contract (instantiating its module for one call frame).
    pub call_base: Gas,
    /// Every host function call.
    pub host_base: Gas,
    /// Per byte a host function copies into or out of guest memory.
    pub host_byte: Gas,
    /// A storage read.
    pub storage_read: Gas,
    /// Per byte of the value read.
    pub storage_read_byte: Gas,
    /// A storage write.
    pub storage_write: Gas,
    /// Per byte of key and value written.
    pub storage_write_byte: Gas,
    /// A storage removal.
    pub storage_remove: Gas,
    /// Emitting an event.
    pub event_base: Gas,
    /// Per event topic.
    pub event_topic: Gas,
    /// Per byte of event data.
    pub event_byte: Gas,
    /// A hash call.
    pub hash_base: Gas,
    /// Per byte hashed.
    pub hash_byte: Gas,
    /// An ed25519 signature verification.
    pub ed25519_verify: Gas,
    /// Per byte of the verified message.
    pub ed25519_verify_byte: Gas,
    /// A native transfer (account reads and writes).
    pub transfer: Gas,
    /// Per 64 KiB page of linear memory an instance starts with or grows to.
    pub memory_page: Gas,
    /// Per byte of return or revert data, which receipts keep forever (on top of `host_byte`).
    pub return_byte: Gas,
    /// A transfer (native or from a contract) to an account that does not exist yet: the new
    /// account record, written into the state and its Merkle tree.
    pub new_account: Gas,
    /// Storage deposit per byte of contract storage (key + value), in the native token.
    pub deposit_per_byte: Amount,
}

/// The schedule in force. Every price is the worst case measured on the reference machine (2
/// cores) at ≤ 2 ns per gas, with `benches/adversarial.rs`; docs/performance.md has the table.
pub const SCHEDULE: GasSchedule = GasSchedule {
    // 3: operators weighted (`vm::operator_cost`), storage and memory priced with the state
    // root's work, return data and new accounts priced.
    version: 3,
    tx_base: 20_000,
    tx_byte: 10,
    upload_byte: 200,
    instantiate_base: 20_000,
    call_base: 10_000,
    host_base: 50,
    host_byte: 1,
    storage_read: 2_000,
    storage_read_byte: 2,
    // An insert into a 1M-key state costs 20–24 µs with its share of the state root, an
    // overwrite 24–29 µs, a removal 52–57 µs.
    storage_write: 14_000,
    storage_write_byte: 20,
    storage_remove: 28_000,
    event_base: 1_000,
    event_topic: 500,
    event_byte: 10,
    hash_base: 300,
    hash_byte: 4,
    ed25519_verify: 40_000,
    ed25519_verify_byte: 4,
    transfer: 4_000,
    // A page grown and touched: 21–23 µs (page faults of fresh memory).
    memory_page: 12_000,
    // Returned bytes cost 2.5–3.8 ns each in the receipts root; priced like event data.
    return_byte: 10,
    new_account: 25_000,
    deposit_per_byte: 1_000,
};

impl GasSchedule {
    /// Gas charged before execution, from the encoded size alone.
    pub fn intrinsic(&self, encoded_len: usize) -> Gas {
        self.tx_base.saturating_add(self.tx_byte.saturating_mul(encoded_len as u64))
    }

    /// `base + per_byte × len`, saturating (a saturated charge simply runs out of gas).
    pub fn linear(base: Gas, per_byte: Gas, len: usize) -> Gas {
        base.saturating_add(per_byte.saturating_mul(len as u64))
    }
}

/// Out of gas: the charge was larger than what is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("out of gas")]
pub struct OutOfGas;

/// Gas of one transaction: a limit and what has been used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GasMeter {
    limit: Gas,
    used: Gas,
}

impl GasMeter {
    /// A meter with nothing used.
    pub fn new(limit: Gas) -> Self {
        Self { limit, used: 0 }
    }

    /// Gas left.
    pub fn remaining(&self) -> Gas {
        self.limit - self.used
    }

    /// Gas used so far.
    pub fn used(&self) -> Gas {
        self.used
    }

    /// Charges `amount`; when it does not fit, uses everything and fails.
    pub fn charge(&mut self, amount: Gas) -> Result<(), OutOfGas> {
        if amount > self.remaining() {
            self.used = self.limit;
            return Err(OutOfGas);
        }
        self.used += amount;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meter_charges_and_exhausts() {
        let mut m = GasMeter::new(100);
        assert_eq!(m.charge(60), Ok(()));
        assert_eq!(m.remaining(), 40);
        assert_eq!(m.charge(41), Err(OutOfGas));
        assert_eq!(m.used(), 100, "a failed charge uses everything, as running out of fuel does");
    }

    #[test]
    fn linear_saturates() {
        assert_eq!(GasSchedule::linear(1, u64::MAX, 2), u64::MAX);
        assert_eq!(SCHEDULE.intrinsic(100), 21_000);
    }
}
