//! A small in-memory chain for the targets: genesis with the dev accounts (one of them holding
//! nearly all of `u128::MAX`, so that balance edges are reachable) and the WAT token deployed,
//! built once; every fuzz input runs in its own block on top of it, which is re-executed with
//! `apply_block` and checked for supply conservation.

use std::sync::{Arc, OnceLock};

use parity_scale_codec::Decode;
use weft_runtime::{
    BlockBuilder, BlockOutput, Genesis, PushError, Runtime, StateBackend, state::memory::MemoryState,
};
use weft_types::{
    Account, Action, Address, Amount, Hash, Header, SignedTransaction, Transaction,
    codec::BoundedBytes,
    dev::{DEV_ACCOUNTS, DEV_BALANCE, dev_address, dev_key},
    state::{ACCOUNT_PREFIX, account_key},
    tx::address_of,
};

/// The chain id of the fuzz chain (the dev chain's, so RPC seeds and tx seeds agree).
pub const CHAIN_ID: u64 = 1337;
/// The gas limit of the deploy transactions of the base chain.
const DEPLOY_GAS: u64 = 50_000_000;
/// Block time.
const BLOCK_MS: u64 = 1_000;

/// The base chain every input builds on.
pub struct Base {
    /// The runtime (shared VM and module cache).
    pub runtime: Runtime,
    /// State after the last base block.
    pub state: Arc<MemoryState>,
    /// Its header.
    pub head: Header,
    /// The deployed WAT token (`init`, `transfer`, `balance_of`).
    pub token: Address,
    /// Total supply at genesis.
    pub supply: Amount,
}

/// The holder of nearly all of `u128::MAX`: `bob`.
pub fn whale() -> Address {
    dev_address("bob")
}

/// The WAT token of the repository (`contracts/wat/token.wat`).
pub fn token_wasm() -> Vec<u8> {
    wat::parse_str(include_str!("../../contracts/wat/token.wat")).unwrap_or_else(|e| panic!("token.wat: {e}"))
}

/// The base chain, built on first use.
pub fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| build_base().unwrap_or_else(|e| panic!("building the fuzz base chain: {e}")))
}

fn build_base() -> Result<Base, String> {
    let runtime = Runtime::new(CHAIN_ID, 1).map_err(|e| e.to_string())?;
    let others = (DEV_ACCOUNTS.len() - 1) as u128 * DEV_BALANCE;
    let balances: Vec<(Address, Amount)> = DEV_ACCOUNTS
        .iter()
        .map(|n| (dev_address(n), if *n == "bob" { u128::MAX - others } else { DEV_BALANCE }))
        .collect();
    let mut state = MemoryState::new();
    let out = runtime
        .genesis(Arc::new(state.clone()), &Genesis { timestamp_ms: BLOCK_MS, balances, validators: None })
        .map_err(|e| e.to_string())?;
    state.apply(&out.changes);
    let mut base = Base {
        runtime,
        state: Arc::new(state),
        head: out.block.header,
        token: Address([0; 32]),
        supply: u128::MAX,
    };
    let alice = dev_key("alice");
    let code = token_wasm();
    let code_hash = weft_types::sha3_256(&code);
    let upload = Transaction {
        chain_id: CHAIN_ID,
        sender: address_of(&alice),
        nonce: 0,
        gas_limit: DEPLOY_GAS,
        gas_price: 1,
        action: Action::UploadCode { code: BoundedBytes::new(code).map_err(|e| e.to_string())? },
    };
    let init = Transaction {
        nonce: 1,
        action: Action::Instantiate {
            code_hash,
            args: BoundedBytes::new(1_000_000u64.to_le_bytes().to_vec()).map_err(|e| e.to_string())?,
            value: 0,
            salt: BoundedBytes::new(vec![]).map_err(|e| e.to_string())?,
        },
        ..upload.clone()
    };
    let run = base.run(vec![upload.sign(&alice), init.sign(&alice)]);
    let out = run.output.ok_or("the deploy block failed")?;
    for (_, r) in &run.pushed {
        let r = r.as_ref().map_err(|e| e.clone())?;
        if !r.is_success() {
            return Err(format!("deploying the token failed: {:?}", r.status));
        }
    }
    base.token = out.receipts[1].contract_address.ok_or("no contract address")?;
    let mut state = (*base.state).clone();
    state.apply(&out.changes);
    base.state = Arc::new(state);
    base.head = out.block.header;
    Ok(base)
}

/// What one block built from fuzz input did.
pub struct Run {
    /// Each transaction offered, with its receipt or why it was not included.
    pub pushed: Vec<(Hash, Result<weft_types::Receipt, String>)>,
    /// The block, when the builder finished it.
    pub output: Option<BlockOutput>,
}

impl Base {
    /// Offers `txs` to a block builder on top of the base state, finishes the block, then checks
    /// the invariants every block must keep:
    /// - a transaction that is not includable leaves no trace; the builder never fails for a
    ///   reason that is not the transaction's (a node fault panics here);
    /// - `apply_block` on the same parent reproduces the block, receipts and changes exactly;
    /// - total supply (balances + deposits) is conserved and no balance is negative (u128).
    pub fn run(&self, txs: Vec<SignedTransaction>) -> Run {
        let mut builder = BlockBuilder::new(
            &self.runtime,
            self.state.clone(),
            &self.head,
            self.head.timestamp_ms + BLOCK_MS,
            Address([0xee; 32]),
        );
        let mut pushed = Vec::new();
        for tx in txs {
            let hash = tx.hash();
            match builder.push(tx) {
                Ok(receipt) => pushed.push((hash, Ok(receipt.clone()))),
                Err(PushError::Runtime(e)) => panic!("node fault on fuzz input: {e}"),
                Err(e) => pushed.push((hash, Err(e.to_string()))),
            }
        }
        let built = builder.finish().unwrap_or_else(|e| panic!("finishing the block: {e}"));
        let again = self
            .runtime
            .apply_block(self.state.clone(), &self.head, &built.block)
            .unwrap_or_else(|e| panic!("re-executing a block the builder made: {e}"));
        assert!(again == built, "re-execution differs from the built block");
        let mut after = (*self.state).clone();
        after.apply(&built.changes);
        assert_eq!(after.root(), built.block.header.state_root, "state root");
        assert_eq!(supply(&after), self.supply, "total supply changed");
        Run { pushed, output: Some(built) }
    }

    /// The account of `address` in the base state.
    pub fn account(&self, address: &Address) -> Account {
        match self.state.get(&account_key(address)) {
            Ok(Some(bytes)) => Account::decode(&mut &bytes[..]).unwrap_or_else(|e| panic!("account: {e}")),
            Ok(None) => Account::default(),
            Err(e) => panic!("memory state: {e}"),
        }
    }
}

/// Balances plus deposits over every account of `state`, panicking if the sum overflows.
pub fn supply(state: &MemoryState) -> Amount {
    state
        .kv
        .iter()
        .filter(|(k, _)| k.first() == Some(&ACCOUNT_PREFIX))
        .map(|(_, v)| {
            let a = Account::decode(&mut &v[..]).unwrap_or_else(|e| panic!("stored account: {e}"));
            a.balance.checked_add(a.deposit).unwrap_or_else(|| panic!("balance + deposit overflows"))
        })
        .try_fold(0u128, u128::checked_add)
        .unwrap_or_else(|| panic!("total supply overflows u128"))
}
