//! Building, signing, submitting and awaiting transactions: nonces (read from the chain, then
//! tracked locally so that consecutive sends need not wait for each other), the chain id, gas
//! price (default: the node's minimum) and gas limit (default: an exact dry run plus a margin),
//! and waiting for inclusion or finality through `tx_subscribeStatus`.

use std::time::Duration;

use futures_util::StreamExt as _;
use weft_rpc_api::{CallInput, EstimateAction, EstimateRequest, ReceiptInfo, TxStatus, codes};
use weft_types::{
    Action, Address, Amount, Gas, Hash, SignedTransaction, Transaction, codec::BoundedBytes,
    limits::MAX_TX_GAS,
};

use crate::{
    Client,
    error::{ClientError, Result},
    keys::Signer,
};

/// How long [`Client::send`] waits for a transaction by default.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(60);

/// When a send returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WaitFor {
    /// As soon as the transaction is in a block (which may still be reverted by a fork).
    Included,
    /// When its block is finalized.
    #[default]
    Finalized,
}

/// How to build and send a transaction. Every field is optional: the defaults are the next
/// nonce, the node's minimum gas price, an estimated gas limit, and waiting for finality.
#[derive(Clone, Debug, Default)]
pub struct TxOptions {
    /// Gas limit. Default: [`gas_with_margin`] of an exact dry run (`contract_estimateGas`);
    /// a dry run that fails stops the send with [`ClientError::WouldFail`]. With an explicit
    /// limit nothing is dry-run and a failing transaction is sent (and pays its fee).
    pub gas_limit: Option<Gas>,
    /// Gas price. Default: the node's `min_gas_price`.
    pub gas_price: Option<Amount>,
    /// Nonce. Default: the next one (the chain's, or one past the last this client sent).
    pub nonce: Option<u64>,
    /// What to wait for. Default: finality.
    pub wait: WaitFor,
    /// How long to wait. Default: [`DEFAULT_WAIT_TIMEOUT`].
    pub timeout: Option<Duration>,
}

/// The gas limit set for an estimate: 25% more than the dry run used, plus 10 000, at most
/// `MAX_TX_GAS`. The margin covers state that changes between the dry run and inclusion.
pub fn gas_with_margin(estimated: Gas) -> Gas {
    estimated.saturating_add(estimated / 4).saturating_add(10_000).min(MAX_TX_GAS)
}

/// What a dry run of `action` is, in the RPC's terms.
pub fn estimate_action(action: &Action) -> EstimateAction {
    let raw = |bytes: &[u8]| CallInput { args: None, input: Some(bytes.to_vec().into()) };
    match action {
        Action::Transfer { to, amount } => EstimateAction::Transfer { to: *to, amount: *amount },
        Action::UploadCode { code } => EstimateAction::UploadCode { code: code.to_vec().into() },
        Action::Instantiate { code_hash, args, value, salt } => EstimateAction::Instantiate {
            code_hash: *code_hash,
            input: raw(args),
            value: Some(*value),
            salt: Some(salt.to_vec().into()),
        },
        Action::Call { contract, method, args, value } => EstimateAction::Call {
            contract: *contract,
            method: method.as_str().into(),
            input: raw(args),
            value: Some(*value),
        },
        Action::Upgrade { contract, code_hash, args } => {
            EstimateAction::Upgrade { contract: *contract, code_hash: *code_hash, input: raw(args) }
        }
        Action::SetAdmin { contract, admin } => {
            EstimateAction::SetAdmin { contract: *contract, admin: *admin }
        }
    }
}

/// How many nonces one send tries before giving up (see [`Client::submit_action`]).
pub const MAX_NONCE_ATTEMPTS: usize = 32;

impl Client {
    /// The nonce the next transaction of `sender` should carry: the node's pending nonce (past
    /// the sender's transactions in its mempool), or one past the last nonce this client used
    /// for it while that transaction is still known to the node (pending or included). A last
    /// transaction the node no longer knows (dropped, or undone by `dev_revert`) sends the count
    /// back to the node's.
    pub async fn next_nonce(&self, sender: Address) -> Result<u64> {
        let chain = self.account(sender).await?.pending_nonce;
        let last = self.inner.nonces.lock().await.get(&sender).copied();
        match last {
            Some((next, hash)) if next > chain && self.transaction(hash).await?.is_some() => Ok(next),
            _ => Ok(chain),
        }
    }

    /// Records that `signed` was accepted by the node: its sender's next nonce is one past it.
    async fn record_nonce(&self, signed: &SignedTransaction) {
        let mut nonces = self.inner.nonces.lock().await;
        let next = signed.tx.nonce + 1;
        match nonces.get(&signed.tx.sender) {
            Some((current, _)) if *current > next => {}
            _ => {
                nonces.insert(signed.tx.sender, (next, signed.hash()));
            }
        }
    }

    /// Builds and signs a transaction of `action` from `signer`, filling in what `options`
    /// leaves out except the nonce: returns the transaction with `nonce` 0 when `options` has
    /// none (the send sets it). Dry-runs the action unless a gas limit is given.
    pub async fn prepare(&self, signer: &Signer, action: Action, options: &TxOptions) -> Result<Transaction> {
        let params = self.chain_params().await?;
        let gas_limit = match options.gas_limit {
            Some(gas) => gas,
            None => {
                let estimate = self
                    .estimate(EstimateRequest { from: signer.address(), action: estimate_action(&action) })
                    .await?;
                if !estimate.success {
                    let error = estimate.error.ok_or_else(|| {
                        ClientError::Protocol("the node's failed estimate carries no error".into())
                    })?;
                    return Err(ClientError::WouldFail { error: Box::new(error) });
                }
                gas_with_margin(estimate.gas_used)
            }
        };
        Ok(Transaction {
            chain_id: params.chain_id,
            sender: signer.address(),
            nonce: options.nonce.unwrap_or(0),
            gas_limit,
            gas_price: options.gas_price.unwrap_or(params.min_gas_price),
            action,
        })
    }

    /// Builds, signs and submits a transaction; returns it (its hash is the node's) without
    /// waiting. The nonce is [`Client::next_nonce`] unless `options` gives one. As the node
    /// reports no pending nonce (only the head's), another client or process sending from the
    /// same account can hold the nonce chosen: a nonce the node refuses as taken by a pending
    /// transaction, too low or too high is moved on (or re-read from the chain) and the send
    /// retried, at most [`MAX_NONCE_ATTEMPTS`] times in all.
    pub async fn submit_action(
        &self,
        signer: &Signer,
        action: Action,
        options: &TxOptions,
    ) -> Result<SignedTransaction> {
        let tx = self.prepare(signer, action, options).await?;
        let sender = signer.address();
        if options.nonce.is_some() {
            let signed = signer.sign(tx)?;
            self.submit(&signed).await?;
            self.record_nonce(&signed).await;
            return Ok(signed);
        }
        // One send at a time per client, so that concurrent sends from one account through
        // this client take distinct nonces.
        let _turn = self.inner.send_lock.lock().await;
        let mut nonce = self.next_nonce(sender).await?;
        let mut attempts = 0;
        loop {
            let signed = signer.sign(Transaction { nonce, ..tx.clone() })?;
            let error = match self.submit(&signed).await {
                Ok(_) => {
                    self.record_nonce(&signed).await;
                    return Ok(signed);
                }
                Err(e) => e,
            };
            attempts += 1;
            if attempts >= MAX_NONCE_ATTEMPTS {
                return Err(error);
            }
            nonce = match error.rpc_code() {
                // Another sender of this account holds the nonce with a pending transaction.
                Some(codes::TX_REPLACEMENT_UNDERPRICED) => nonce + 1,
                // The chain moved past it meanwhile.
                Some(codes::TX_NONCE_TOO_LOW) => self.account(sender).await?.nonce.max(nonce + 1),
                // Too far ahead (this client's count went wrong): start again from the chain's.
                Some(codes::TX_NONCE_TOO_HIGH) => {
                    let chain = self.account(sender).await?.nonce;
                    if chain >= nonce {
                        return Err(error);
                    }
                    chain
                }
                _ => return Err(error),
            };
        }
    }

    /// Builds, signs and submits a transaction, then waits as `options` says and returns its
    /// receipt. A transaction that is included but fails is [`ClientError::TxFailed`], with
    /// the execution error decoded through the contract's ABI.
    pub async fn send(&self, signer: &Signer, action: Action, options: &TxOptions) -> Result<ReceiptInfo> {
        let signed = self.submit_action(signer, action, options).await?;
        self.wait(signed.hash(), options.wait, options.timeout.unwrap_or(DEFAULT_WAIT_TIMEOUT)).await
    }

    /// Sends `amount` of the native token to `to` and waits for finality.
    pub async fn transfer(&self, signer: &Signer, to: Address, amount: Amount) -> Result<ReceiptInfo> {
        self.send(signer, Action::Transfer { to, amount }, &TxOptions::default()).await
    }

    /// Replaces `contract`'s code with uploaded code `code_hash` (its admin only), running the
    /// new code's `migrate` with `args` (raw input) when it has one, and waits for finality.
    pub async fn upgrade(
        &self,
        signer: &Signer,
        contract: Address,
        code_hash: Hash,
        args: Vec<u8>,
        options: &TxOptions,
    ) -> Result<ReceiptInfo> {
        let args =
            BoundedBytes::new(args).map_err(|e| ClientError::InvalidInput(format!("migrate args: {e}")))?;
        self.send(signer, Action::Upgrade { contract, code_hash, args }, options).await
    }

    /// Makes `admin` the one who may upgrade `contract` (its admin only; `None`: immutable for
    /// good) and waits for finality.
    pub async fn set_admin(
        &self,
        signer: &Signer,
        contract: Address,
        admin: Option<Address>,
    ) -> Result<ReceiptInfo> {
        self.send(signer, Action::SetAdmin { contract, admin }, &TxOptions::default()).await
    }

    /// Waits until transaction `hash` is included (or finalized, per `wait`) and returns its
    /// receipt; [`ClientError::TxFailed`] when it failed, [`ClientError::TxDropped`] when the
    /// node dropped it, [`ClientError::Timeout`] after `timeout`.
    pub async fn wait(&self, hash: Hash, wait: WaitFor, timeout: Duration) -> Result<ReceiptInfo> {
        let what = match wait {
            WaitFor::Included => format!("transaction {hash} to be included"),
            WaitFor::Finalized => format!("transaction {hash} to be finalized"),
        };
        tokio::time::timeout(timeout, self.wait_status(hash, wait))
            .await
            .map_err(|_| ClientError::Timeout { what, after: timeout })??;
        let receipt = self.receipt(hash).await?.ok_or_else(|| {
            ClientError::Protocol(format!("transaction {hash} is included but has no receipt"))
        })?;
        if !receipt.success {
            let error = receipt.error.clone().ok_or_else(|| {
                ClientError::Protocol(format!("the failed receipt of {hash} carries no error"))
            })?;
            return Err(ClientError::TxFailed {
                tx_hash: hash,
                error: Box::new(error),
                receipt: Box::new(receipt),
            });
        }
        Ok(receipt)
    }

    async fn wait_status(&self, hash: Hash, wait: WaitFor) -> Result<()> {
        let mut statuses = self.subscribe_tx_status(hash).await?;
        let mut last = None;
        while let Some(status) = statuses.next().await {
            match status? {
                TxStatus::Finalized { .. } => return Ok(()),
                TxStatus::Included { .. } if wait == WaitFor::Included => return Ok(()),
                TxStatus::Dropped { reason } => return Err(ClientError::TxDropped { tx_hash: hash, reason }),
                other => last = Some(other),
            }
        }
        Err(ClientError::Transport(format!(
            "the node closed the status subscription of {hash} (last status: {last:?})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_is_bounded() {
        assert_eq!(gas_with_margin(0), 10_000);
        assert_eq!(gas_with_margin(100_000), 135_000);
        assert_eq!(gas_with_margin(MAX_TX_GAS), MAX_TX_GAS);
        assert_eq!(gas_with_margin(u64::MAX), MAX_TX_GAS);
    }

    #[test]
    fn estimate_actions_carry_raw_input() {
        let action = Action::Call {
            contract: Address([1; 32]),
            method: weft_types::MethodName::new("go").expect("name"),
            args: weft_types::BoundedBytes::new(vec![1, 2]).expect("small"),
            value: 3,
        };
        let EstimateAction::Call { method, input, value, .. } = estimate_action(&action) else {
            panic!("a call estimates as a call");
        };
        assert_eq!(method, "go");
        assert_eq!(input.input, Some(vec![1, 2].into()));
        assert_eq!(input.args, None);
        assert_eq!(value, Some(3));
    }
}
