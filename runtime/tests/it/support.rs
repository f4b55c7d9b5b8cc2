//! A test chain over in-memory state, applying every block twice (builder and re-execution)
//! and checking supply conservation after each.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use parity_scale_codec::Decode;
use weft_runtime::{BlockBuilder, BlockOutput, Genesis, PushError, Runtime, state::memory::MemoryState};
use weft_types::{
    Account, Action, Address, Amount, Hash, Header, MethodName, Receipt, SignedTransaction, Transaction,
    codec::BoundedBytes, state::ACCOUNT_PREFIX, tx::address_of,
};

pub const CHAIN_ID: u64 = 7;
pub const INITIAL: Amount = 1_000_000_000_000_000_000;
pub const GAS_LIMIT: u64 = 50_000_000;

pub struct Chain {
    pub rt: Runtime,
    pub state: Arc<MemoryState>,
    pub head: Header,
    pub keys: Vec<SigningKey>,
    pub proposer: Address,
    supply: Amount,
}

pub fn key(i: u8) -> SigningKey {
    SigningKey::from_bytes(&[i + 1; 32])
}

impl Chain {
    pub fn new() -> Self {
        let keys: Vec<_> = (0..4).map(key).collect();
        let rt = Runtime::new(CHAIN_ID, 1).unwrap();
        let balances = keys.iter().map(|k| (address_of(k), INITIAL)).collect();
        let mut state = MemoryState::new();
        let out = rt
            .genesis(Arc::new(state.clone()), &Genesis { timestamp_ms: 1_000, balances, validators: None })
            .unwrap();
        state.apply(&out.changes);
        Self {
            rt,
            state: Arc::new(state),
            head: out.block.header,
            keys,
            proposer: Address([0xee; 32]),
            supply: 4 * INITIAL,
        }
    }

    pub fn addr(&self, i: usize) -> Address {
        address_of(&self.keys[i])
    }

    pub fn account(&self, a: &Address) -> Account {
        use weft_runtime::StateBackend;
        match self.state.get(&weft_types::state::account_key(a)).unwrap() {
            Some(b) => Account::decode(&mut &b[..]).unwrap(),
            None => Account::default(),
        }
    }

    pub fn tx(&self, from: usize, action: Action) -> SignedTransaction {
        let sender = self.addr(from);
        let nonce = self.account(&sender).nonce;
        Transaction { chain_id: CHAIN_ID, sender, nonce, gas_limit: GAS_LIMIT, gas_price: 1, action }
            .sign(&self.keys[from])
    }

    /// Builds a block from `txs` (all must be includable), re-executes it with `apply_block` on
    /// the same parent state, checks both agree and that supply is conserved, then commits it.
    pub fn block(&mut self, txs: Vec<SignedTransaction>) -> BlockOutput {
        let mut b = self.builder();
        for tx in txs {
            b.push(tx).unwrap();
        }
        let built = b.finish().unwrap();
        let replayed = self.rt.apply_block(self.state.clone(), &self.head, &built.block).unwrap();
        assert_eq!(built, replayed, "re-execution must reproduce the block exactly");
        Arc::make_mut(&mut self.state).apply(&built.changes);
        self.head = built.block.header.clone();
        assert_eq!(self.supply(), self.supply, "total supply changed");
        built
    }

    pub fn try_push(&self, tx: SignedTransaction) -> Result<(), PushError> {
        self.builder().push(tx).map(|_| ())
    }

    /// A builder for the next block.
    pub fn builder(&self) -> BlockBuilder {
        BlockBuilder::new(
            &self.rt,
            self.state.clone(),
            &self.head,
            self.head.timestamp_ms + 1000,
            self.proposer,
        )
    }

    pub fn run(&mut self, from: usize, action: Action) -> Receipt {
        let tx = self.tx(from, action);
        self.block(vec![tx]).receipts.remove(0)
    }

    pub fn upload(&mut self, wat: &str) -> Hash {
        let code = ::wat::parse_str(wat).unwrap();
        let r = self.run(0, Action::UploadCode { code: BoundedBytes::new(code).unwrap() });
        assert!(r.is_success(), "upload failed: {:?}", r.status);
        Hash(r.return_data.try_into().unwrap())
    }

    pub fn instantiate(&mut self, code_hash: Hash, salt: &[u8]) -> Address {
        let r = self.run(0, instantiate(code_hash, salt, 0));
        assert!(r.is_success(), "instantiate failed: {:?}", r.status);
        r.contract_address.unwrap()
    }

    pub fn deploy(&mut self, wat: &str) -> Address {
        let h = self.upload(wat);
        self.instantiate(h, b"")
    }

    pub fn call(&mut self, from: usize, contract: Address, method: &str, args: &[u8]) -> Receipt {
        self.run(from, call(contract, method, args, 0))
    }

    /// Sum of balances and deposits over every account.
    pub fn supply(&self) -> Amount {
        self.state
            .kv
            .iter()
            .filter(|(k, _)| k[0] == ACCOUNT_PREFIX)
            .map(|(_, v)| {
                let a = Account::decode(&mut &v[..]).unwrap();
                a.balance + a.deposit
            })
            .sum()
    }
}

pub fn call(contract: Address, method: &str, args: &[u8], value: Amount) -> Action {
    Action::Call {
        contract,
        method: MethodName::new(method).unwrap(),
        args: BoundedBytes::new(args.to_vec()).unwrap(),
        value,
    }
}

pub fn instantiate(code_hash: Hash, salt: &[u8], value: Amount) -> Action {
    Action::Instantiate {
        code_hash,
        args: BoundedBytes::new(vec![]).unwrap(),
        value,
        salt: BoundedBytes::new(salt.to_vec()).unwrap(),
    }
}
