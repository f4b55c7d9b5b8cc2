//! Contracts through their ABI: [`Contract`] handles (`query`, `call`) and deployment (upload +
//! instantiate). Arguments are JSON as docs/abi.md describes; they are encoded here, with
//! `weft-abi`, so the bytes signed are the bytes checked. A contract without an ABI is called
//! with raw input: a `0x` hex string (or `null` for none).

use std::sync::Arc;

use serde_json::Value;
use weft_abi::Abi;
use weft_rpc_api::{EventInfo, QueryRequest, QueryResult, ReceiptInfo};
use weft_types::hex::encode as to_hex;
use weft_types::{Action, Address, Amount, BoundedBytes, Event, Hash, MethodName, sha3_256};

use crate::{
    Client,
    error::{ClientError, Result},
    keys::Signer,
    tx::{TxOptions, WaitFor},
};

/// A deployed contract and its ABI (`None` when its code carries none).
#[derive(Clone, Debug)]
pub struct Contract {
    client: Client,
    address: Address,
    abi: Option<Arc<Abi>>,
}

/// What a contract call returned.
#[derive(Clone, Debug)]
pub struct CallOutcome {
    /// The receipt.
    pub receipt: ReceiptInfo,
    /// The return value, decoded through the ABI (`null` for `unit`); raw return data as a
    /// `0x` string when there is no ABI.
    pub value: Value,
    /// The events emitted, decoded through their emitters' ABIs where the node knows them.
    pub events: Vec<EventInfo>,
}

/// How to deploy.
#[derive(Clone, Debug, Default)]
pub struct DeployOptions {
    /// The salt of the address derivation. Default: the instantiate transaction's nonce (8
    /// bytes, little-endian), so each deployment from one account gets a new address.
    pub salt: Option<Vec<u8>>,
    /// Native token sent to the constructor.
    pub value: Amount,
    /// Gas, price, waiting of the instantiate transaction (the upload uses the same, with its
    /// own gas estimate and waiting for inclusion only).
    pub tx: TxOptions,
}

/// A finished deployment.
#[derive(Clone, Debug)]
pub struct Deployed {
    /// The new contract's address.
    pub address: Address,
    /// SHA3-256 of the code.
    pub code_hash: Hash,
    /// The upload's receipt; `None` when the code was already on chain.
    pub upload: Option<ReceiptInfo>,
    /// The instantiation's receipt.
    pub receipt: ReceiptInfo,
}

fn method_name(method: &str) -> Result<MethodName> {
    MethodName::new(method).map_err(|e| ClientError::InvalidInput(e.to_string()))
}

fn bounded<L: weft_types::codec::Limit>(bytes: Vec<u8>, what: &str) -> Result<BoundedBytes<L>> {
    BoundedBytes::new(bytes).map_err(|e| ClientError::InvalidInput(format!("{what}: {e}")))
}

/// Raw input for a contract without an ABI: `null` (none) or a `0x` hex string.
fn raw_input(json: &Value) -> Result<Vec<u8>> {
    match json {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if s.starts_with("0x") => {
            weft_types::hex::decode(s).map_err(|e| ClientError::Abi(format!("raw input {s:.20?}: {e}")))
        }
        other => Err(ClientError::Abi(format!(
            "the contract has no ABI, so its input must be raw: a 0x hex string or null, not {other}"
        ))),
    }
}

fn abi_error(e: weft_abi::AbiError) -> ClientError {
    ClientError::Abi(e.to_string())
}

impl Contract {
    /// A handle on `address` with a known ABI (no node round trip).
    pub fn new(client: Client, address: Address, abi: Option<Abi>) -> Self {
        Self { client, address, abi: abi.map(Arc::new) }
    }

    /// The contract's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Its ABI, when it has one.
    pub fn abi(&self) -> Option<&Abi> {
        self.abi.as_deref()
    }

    /// The client it talks through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The input bytes of `method` with JSON `args` (see the module documentation).
    pub fn encode(&self, method: &str, args: &Value) -> Result<Vec<u8>> {
        match &self.abi {
            Some(abi) => abi.encode_call(method, args).map_err(abi_error),
            None => raw_input(args),
        }
    }

    fn decode_return(&self, method: &str, node_value: Option<Value>, data: &[u8]) -> Value {
        if let Some(value) = node_value {
            return value;
        }
        match &self.abi {
            Some(abi) => abi.decode_return(method, data).unwrap_or_else(|_| Value::String(to_hex(data))),
            None => Value::String(to_hex(data)),
        }
    }

    /// Fills in the names and fields of this contract's events the node did not decode.
    fn decode_events(&self, mut events: Vec<EventInfo>) -> Vec<EventInfo> {
        let Some(abi) = &self.abi else { return events };
        for info in events.iter_mut().filter(|e| e.name.is_none() && e.contract == self.address) {
            let event =
                Event { contract: info.contract, topics: info.topics.clone(), data: info.data.0.clone() };
            if let Some(decoded) = abi.decode_event(&event) {
                info.name = Some(decoded.name);
                info.fields = Some(Value::Object(decoded.fields));
            }
        }
        events
    }

    /// Runs `method` read-only at the head (`contract_query`) and returns its decoded value.
    /// A failing call is [`ClientError::QueryFailed`].
    pub async fn query(&self, method: &str, args: Value) -> Result<Value> {
        let result = self.query_full(method, args, None).await?;
        if !result.success {
            let error = result
                .error
                .ok_or_else(|| ClientError::Protocol("the node's failed query carries no error".into()))?;
            return Err(ClientError::QueryFailed { error: Box::new(error) });
        }
        Ok(self.decode_return(method, result.value, &result.return_data.0))
    }

    /// Runs `method` read-only with `caller` as the caller; returns the whole result, failed
    /// or not.
    pub async fn query_full(
        &self,
        method: &str,
        args: Value,
        caller: Option<Address>,
    ) -> Result<QueryResult> {
        method_name(method)?;
        let input = self.encode(method, &args)?;
        let request = QueryRequest {
            contract: self.address,
            method: method.into(),
            input: weft_rpc_api::CallInput { args: None, input: Some(input.into()) },
            caller,
            gas_limit: None,
        };
        let mut result = self.client.query_raw(request).await?;
        result.events = self.decode_events(std::mem::take(&mut result.events));
        Ok(result)
    }

    /// Calls `method` in a transaction from `signer`, waits for finality and returns the
    /// receipt with the decoded return value and events.
    pub async fn call(&self, signer: &Signer, method: &str, args: Value) -> Result<CallOutcome> {
        self.call_with(signer, method, args, 0, &TxOptions::default()).await
    }

    /// [`Contract::call`] with a value sent along and explicit transaction options.
    pub async fn call_with(
        &self,
        signer: &Signer,
        method: &str,
        args: Value,
        value: Amount,
        options: &TxOptions,
    ) -> Result<CallOutcome> {
        let action = Action::Call {
            contract: self.address,
            method: method_name(method)?,
            args: bounded(self.encode(method, &args)?, "the call's input")?,
            value,
        };
        let receipt = self.client.send(signer, action, options).await?;
        let value = self.decode_return(method, receipt.return_value.clone(), &receipt.return_data.0);
        let events = self.decode_events(receipt.events.clone());
        Ok(CallOutcome { receipt, value, events })
    }
}

impl Client {
    /// A handle on the contract at `address`, with its ABI fetched from the node
    /// (`contract_getAbi`).
    pub async fn contract(&self, address: Address) -> Result<Contract> {
        let abi = match self.abi_json(address).await? {
            Some(json) => Some(Abi::from_json(&json.to_string()).map_err(|e| {
                ClientError::Protocol(format!("the ABI the node returned for {address} is invalid: {e}"))
            })?),
            None => None,
        };
        Ok(Contract::new(self.clone(), address, abi))
    }

    /// The ABI of `address`, parsed; `None` when its code has none.
    pub async fn abi(&self, address: Address) -> Result<Option<Abi>> {
        Ok(self.contract(address).await?.abi.map(|abi| Abi::clone(&abi)))
    }

    /// Uploads `wasm` unless the chain already has it; returns its code hash and the upload's
    /// receipt (`None` when it was there already). Waits for inclusion only.
    pub async fn upload(
        &self,
        signer: &Signer,
        wasm: &[u8],
        options: &TxOptions,
    ) -> Result<(Hash, Option<ReceiptInfo>)> {
        let code_hash = sha3_256(wasm);
        // Uploading stored code would succeed too (uploads are idempotent), at the price of a
        // transaction: asked first instead.
        if self.has_code(code_hash).await? {
            return Ok((code_hash, None));
        }
        let action = Action::UploadCode { code: bounded(wasm.to_vec(), "the code")? };
        let options = TxOptions { wait: WaitFor::Included, ..options.clone() };
        let receipt = self.send(signer, action, &options).await?;
        Ok((code_hash, Some(receipt)))
    }

    /// Deploys `wasm` with constructor arguments `args` (JSON through the module's own ABI, or
    /// raw `0x` input when it has none) and waits for finality; returns the new address and the
    /// instantiation's receipt.
    pub async fn deploy(&self, signer: &Signer, wasm: &[u8], args: Value) -> Result<(Address, ReceiptInfo)> {
        let deployed = self.deploy_with(signer, wasm, args, &DeployOptions::default()).await?;
        Ok((deployed.address, deployed.receipt))
    }

    /// [`Client::deploy`] with options; returns both receipts.
    pub async fn deploy_with(
        &self,
        signer: &Signer,
        wasm: &[u8],
        args: Value,
        options: &DeployOptions,
    ) -> Result<Deployed> {
        let input = match Abi::from_wasm(wasm).map_err(abi_error)? {
            Some(abi) => abi.encode_constructor(&args).map_err(abi_error)?,
            None => raw_input(&args)?,
        };
        let args = bounded(input, "the constructor's input")?;
        let upload_options = TxOptions { gas_limit: None, nonce: None, ..options.tx.clone() };
        let (code_hash, upload) = self.upload(signer, wasm, &upload_options).await?;
        let salt = match &options.salt {
            Some(salt) => salt.clone(),
            None => match options.tx.nonce {
                Some(nonce) => nonce.to_le_bytes().to_vec(),
                None => self.next_nonce(signer.address()).await?.to_le_bytes().to_vec(),
            },
        };
        // With the default salt the nonce is fixed here, so the salt is the nonce used. (A
        // concurrent send from the same account through this client could take it first; the
        // node then refuses this one as a nonce reuse.)
        let mut tx = options.tx.clone();
        if options.salt.is_none() && tx.nonce.is_none() {
            tx.nonce = Some(u64::from_le_bytes(salt.as_slice().try_into().unwrap_or([0; 8])));
        }
        let expected = Address::contract(&signer.address(), &code_hash, &salt);
        let action =
            Action::Instantiate { code_hash, args, value: options.value, salt: bounded(salt, "the salt")? };
        let receipt = self.send(signer, action, &tx).await?;
        let address = receipt.contract_address.unwrap_or(expected);
        if address != expected {
            return Err(ClientError::Protocol(format!(
                "the node reports contract address {address}, but the derivation gives {expected}"
            )));
        }
        Ok(Deployed { address, code_hash, upload, receipt })
    }
}
