//! `ip-registry`: works registered by content hash with owner and time (by hash, by content
//! hashed on chain, or with the author's ed25519 signature), ownership transfers, licences with
//! terms and expiry, revocation, lookups by hash.

use ed25519_dalek::Signer;
use serde_json::{Value, json};
use weft_testing::{Address, Sandbox, dev_key};

use crate::support::{deploy, j};

struct T {
    sb: Sandbox,
    reg: Address,
    author: Address,
    buyer: Address,
    licensee: Address,
    hash: Value,
}

fn setup() -> T {
    let mut sb = Sandbox::new();
    let author = sb.account("author");
    let buyer = sb.account("buyer");
    let licensee = sb.account("licensee");
    let reg = deploy(&mut sb, author, "weft-example-ip-registry", json!(null));
    let hash = json!(weft_types::sha3_256(b"the full text of the novel").to_string());
    T { sb, reg, author, buyer, licensee, hash }
}

impl T {
    fn register(&mut self) {
        let args = json!({"hash": self.hash, "title": "My Novel"});
        self.sb.call(self.author, self.reg, "register", args).unwrap();
    }
    fn work(&self) -> Value {
        self.sb.query(self.reg, "work", json!({"hash": self.hash})).unwrap()
    }
    fn grant(&mut self, by: Address, expires_at: Value) -> Result<Value, weft_testing::CallError> {
        let args = json!({"hash": self.hash, "licensee": j(self.licensee), "terms": "Non-commercial use", "expires_at": expires_at});
        self.sb.call(by, self.reg, "grant_licence", args).map(|o| o.value)
    }
    fn is_licensed(&self) -> Value {
        self.sb
            .query(self.reg, "is_licensed", json!({"hash": self.hash, "licensee": j(self.licensee)}))
            .unwrap()
    }
}

#[test]
fn works_are_registered_once_with_owner_and_time() {
    let mut t = setup();
    assert_eq!(t.work(), json!(null));
    let out = t.sb.call(t.author, t.reg, "register", json!({"hash": t.hash, "title": "My Novel"})).unwrap();
    assert_eq!(
        Value::Object(out.events[0].fields.clone()),
        json!({"hash": t.hash, "owner": j(t.author), "title": "My Novel"})
    );
    assert_eq!(out.raw_events[0].topics[1].to_string(), t.hash.as_str().unwrap(), "a hash is its own topic");
    assert_eq!(
        t.work(),
        json!({"owner": j(t.author), "author": j(t.author), "title": "My Novel",
               "registered_at": t.sb.timestamp_ms(), "registered_height": t.sb.height()})
    );
    let err =
        t.sb.call(t.buyer, t.reg, "register", json!({"hash": t.hash, "title": "Mine now"})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"AlreadyRegistered": {"owner": j(t.author)}})));
    let other = json!(weft_types::sha3_256(b"other").to_string());
    let err = t.sb.call(t.buyer, t.reg, "register", json!({"hash": other, "title": ""})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("BadText")));
}

#[test]
fn owners_transfer_works() {
    let mut t = setup();
    t.register();
    let err = t.sb.call(t.buyer, t.reg, "transfer", json!({"hash": t.hash, "to": j(t.buyer)})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotOwner")));
    let out = t.sb.call(t.author, t.reg, "transfer", json!({"hash": t.hash, "to": j(t.buyer)})).unwrap();
    assert_eq!(
        Value::Object(out.events[0].fields.clone()),
        json!({"hash": t.hash, "from": j(t.author), "to": j(t.buyer)})
    );
    assert_eq!(t.work()["owner"], j(t.buyer));
    assert_eq!(t.work()["author"], j(t.author));
    let missing = json!(weft_types::sha3_256(b"missing").to_string());
    let err = t.sb.call(t.author, t.reg, "transfer", json!({"hash": missing, "to": j(t.buyer)})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotFound")));
}

#[test]
fn licences_expire_by_block_time() {
    let mut t = setup();
    t.register();
    let now = t.sb.timestamp_ms();
    let err = t.grant(t.author, json!(now)).unwrap_err();
    // The call runs one block (1 s) later.
    assert_eq!(err.error_value(), Some(&json!({"ExpiryInPast": {"now": now + 1_000}})));
    assert_eq!(t.grant(t.buyer, json!(null)).unwrap_err().error_value(), Some(&json!("NotOwner")));

    let expires = now + 60_000;
    assert_eq!(t.grant(t.author, json!(expires)).unwrap(), json!(0));
    assert_eq!(t.is_licensed(), json!(true));
    let licences = t.sb.query(t.reg, "licences", json!({"hash": t.hash})).unwrap();
    assert_eq!(
        licences,
        json!([{"licensee": j(t.licensee), "terms": "Non-commercial use", "granted_at": t.sb.timestamp_ms(),
                "expires_at": expires, "revoked": false}])
    );
    t.sb.advance_time(60_000);
    assert_eq!(t.is_licensed(), json!(false), "expired");
}

#[test]
fn perpetual_licences_survive_transfers_until_revoked() {
    let mut t = setup();
    t.register();
    let out =
        t.sb.call(
            t.author,
            t.reg,
            "grant_licence",
            json!({"hash": t.hash, "licensee": j(t.licensee), "terms": "All rights", "expires_at": null}),
        )
        .unwrap();
    assert_eq!(
        Value::Object(out.events[0].fields.clone()),
        json!({"hash": t.hash, "licensee": j(t.licensee), "index": 0, "expires_at": null})
    );
    t.sb.call(t.author, t.reg, "transfer", json!({"hash": t.hash, "to": j(t.buyer)})).unwrap();
    t.sb.advance_time(10 * 365 * 24 * 3600 * 1000);
    assert_eq!(t.is_licensed(), json!(true));

    let err = t.sb.call(t.author, t.reg, "revoke_licence", json!({"hash": t.hash, "index": 0})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotOwner")), "the old owner lost control");
    let err = t.sb.call(t.buyer, t.reg, "revoke_licence", json!({"hash": t.hash, "index": 1})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NoSuchLicence")));
    let out = t.sb.call(t.buyer, t.reg, "revoke_licence", json!({"hash": t.hash, "index": 0})).unwrap();
    assert_eq!(out.events[0].name, "LicenceRevoked");
    assert_eq!(t.is_licensed(), json!(false));
    let licences = t.sb.query(t.reg, "licences", json!({"hash": t.hash})).unwrap();
    assert_eq!(licences[0]["revoked"], json!(true));
}

#[test]
fn content_is_hashed_on_chain() {
    let mut t = setup();
    let content = b"the full text of the novel";
    let args = json!({"content": format!("0x{}", hex(content)), "title": "My Novel"});
    let out = t.sb.call(t.author, t.reg, "register_content", args).unwrap();
    assert_eq!(out.value, t.hash, "the contract's SHA3-256 is the protocol's");
    assert_eq!(t.work()["owner"], j(t.author));
}

#[test]
fn anyone_submits_an_authors_signed_registration() {
    let mut t = setup();
    let title = "My Novel";
    let hash = weft_types::sha3_256(b"the full text of the novel");
    let mut message = t.reg.0.to_vec();
    message.extend_from_slice(&hash.0);
    message.extend_from_slice(title.as_bytes());
    let signature = dev_key("author").sign(&message).to_bytes();
    let args = |sig: &[u8], title: &str| json!({"hash": hash.to_string(), "title": title, "author": j(t.author), "signature": format!("0x{}", hex(sig))});

    // Another title, a short signature, or another signer: refused.
    let err = t.sb.call(t.buyer, t.reg, "register_signed", args(&signature, "Other")).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("BadSignature")));
    let err = t.sb.call(t.buyer, t.reg, "register_signed", args(&signature[..63], title)).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("BadSignature")));
    let forged = dev_key("buyer").sign(&message).to_bytes();
    let err = t.sb.call(t.buyer, t.reg, "register_signed", args(&forged, title)).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("BadSignature")));
    assert_eq!(t.work(), json!(null));

    // The buyer relays it; the author owns the work.
    t.sb.call(t.buyer, t.reg, "register_signed", args(&signature, title)).unwrap();
    assert_eq!(t.work()["owner"], j(t.author));
    assert_eq!(t.work()["title"], json!(title));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
