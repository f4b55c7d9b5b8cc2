//! `supply-chain`: parties registered by the admin, items registered by producers, custody
//! handed between parties with checkpoints (location, status, block time), full provenance.

use serde_json::{Value, json};
use weft_testing::{Address, Sandbox};

use crate::support::{deploy, j};

struct T {
    sb: Sandbox,
    sc: Address,
    admin: Address,
    farm: Address,
    ship: Address,
    shop: Address,
    stranger: Address,
}

fn setup() -> T {
    let mut sb = Sandbox::new();
    let admin = sb.account("admin");
    let farm = sb.account("farm");
    let ship = sb.account("ship");
    let shop = sb.account("shop");
    let stranger = sb.account("stranger");
    let sc = deploy(&mut sb, admin, "weft-example-supply-chain", json!({}));
    for (who, name, role) in
        [(farm, "Green Farm", "Producer"), (ship, "Fast Ship", "Carrier"), (shop, "Corner Shop", "Retailer")]
    {
        let args = json!({"account": j(who), "name": name, "role": role});
        sb.call(admin, sc, "register_party", args).unwrap();
    }
    T { sb, sc, admin, farm, ship, shop, stranger }
}

impl T {
    fn register_item(&mut self) -> u64 {
        let args = json!({"description": "Apples, 1 t", "location": "Orchard"});
        self.sb.call(self.farm, self.sc, "register_item", args).unwrap().value.as_u64().unwrap()
    }
    fn hand_over(
        &mut self,
        by: Address,
        id: u64,
        to: Address,
        location: &str,
    ) -> Result<Value, weft_testing::CallError> {
        let args = json!({"id": id, "to": j(to), "location": location});
        self.sb.call(by, self.sc, "hand_over", args).map(|o| o.value)
    }
    fn checkpoint(&mut self, by: Address, id: u64, status: &str) -> Result<Value, weft_testing::CallError> {
        let args = json!({"id": id, "location": "Somewhere", "status": status, "note": "ok"});
        self.sb.call(by, self.sc, "checkpoint", args).map(|o| o.value)
    }
    fn item(&self, id: u64) -> Value {
        self.sb.query(self.sc, "item", json!({"id": id})).unwrap()
    }
}

#[test]
fn only_the_admin_registers_parties() {
    let mut t = setup();
    assert_eq!(t.sb.query(t.sc, "admin", json!({})).unwrap(), j(t.admin));
    assert_eq!(
        t.sb.query(t.sc, "party", json!({"account": j(t.ship)})).unwrap(),
        json!({"name": "Fast Ship", "role": "Carrier", "active": true})
    );
    let args = json!({"account": j(t.stranger), "name": "Me", "role": "Producer"});
    let err = t.sb.call(t.stranger, t.sc, "register_party", args).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotAdmin")));
    let args = json!({"account": j(t.stranger), "name": "", "role": "Producer"});
    let err = t.sb.call(t.admin, t.sc, "register_party", args).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("BadText")));
    assert_eq!(t.sb.query(t.sc, "party", json!({"account": j(t.stranger)})).unwrap(), json!(null));
}

#[test]
fn producers_register_items() {
    let mut t = setup();
    let args = json!({"description": "Apples, 1 t", "location": "Orchard"});
    let out = t.sb.call(t.farm, t.sc, "register_item", args.clone()).unwrap();
    assert_eq!(out.value, json!(0));
    assert_eq!(
        out.events.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["ItemRegistered", "CheckpointRecorded"]
    );
    let created_at = t.sb.timestamp_ms();
    assert_eq!(
        t.item(0),
        json!({"producer": j(t.farm), "custodian": j(t.farm), "description": "Apples, 1 t",
               "created_at": created_at, "delivered": false})
    );
    let err = t.sb.call(t.ship, t.sc, "register_item", args.clone()).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"WrongRole": {"role": "Carrier"}})));
    let err = t.sb.call(t.stranger, t.sc, "register_item", args).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"NotRegistered": {"account": j(t.stranger)}})));
}

#[test]
fn custody_moves_with_a_full_provenance_history() {
    let mut t = setup();
    let id = t.register_item();
    let t0 = t.sb.timestamp_ms();

    t.sb.advance_time(60_000);
    let out =
        t.sb.call(t.farm, t.sc, "hand_over", json!({"id": id, "to": j(t.ship), "location": "Farm gate"}))
            .unwrap();
    let moved = out.events_named("CustodyTransferred");
    assert_eq!(
        Value::Object(moved[0].fields.clone()),
        json!({"id": id, "from": j(t.farm), "to": j(t.ship), "location": "Farm gate"})
    );
    let t1 = t.sb.timestamp_ms();
    let args = json!({"id": id, "location": "Somewhere", "status": "InTransit", "note": "ok"});
    let out = t.sb.call(t.ship, t.sc, "checkpoint", args).unwrap();
    assert_eq!(out.value, json!(2));
    // An indexed enum is topic sha3_256(SCALE(value)): InTransit is variant 2.
    let status_topic = weft_types::sha3_256(&[2u8]);
    assert_eq!(out.raw_events[0].topics[2], status_topic);
    assert_eq!(
        Value::Object(out.events[0].fields.clone()),
        json!({"id": id, "index": 2, "status": {"hash": status_topic.to_string()}})
    );
    let t2 = t.sb.timestamp_ms();
    t.hand_over(t.ship, id, t.shop, "Shop door").unwrap();
    let t3 = t.sb.timestamp_ms();
    t.checkpoint(t.shop, id, "Delivered").unwrap();
    let t4 = t.sb.timestamp_ms();
    assert_eq!(t.item(id)["delivered"], json!(true));
    assert_eq!(t.item(id)["custodian"], j(t.shop));

    let history = t.sb.query(t.sc, "history", json!({"id": id})).unwrap();
    let steps: Vec<_> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["custodian"].clone(),
                c["by"].clone(),
                c["location"].clone(),
                c["status"].clone(),
                c["timestamp"].clone(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            (j(t.farm), j(t.farm), json!("Orchard"), json!("Created"), json!(t0)),
            (j(t.ship), j(t.farm), json!("Farm gate"), json!("HandedOver"), json!(t1)),
            (j(t.ship), j(t.ship), json!("Somewhere"), json!("InTransit"), json!(t2)),
            (j(t.shop), j(t.ship), json!("Shop door"), json!("HandedOver"), json!(t3)),
            (j(t.shop), j(t.shop), json!("Somewhere"), json!("Delivered"), json!(t4)),
        ]
    );
    assert!(t1 >= t0 + 60_000);
    assert_eq!(history[2]["note"], json!("ok"));
    assert_eq!(t.sb.query(t.sc, "history_len", json!({"id": id})).unwrap(), json!(5));
    let page = t.sb.query(t.sc, "history_page", json!({"id": id, "start": 3, "limit": 10})).unwrap();
    assert_eq!(page.as_array().unwrap().as_slice(), &history.as_array().unwrap()[3..]);

    // The chain is closed.
    let err = t.hand_over(t.shop, id, t.ship, "Back").unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("AlreadyDelivered")));
}

#[test]
fn only_the_custodian_acts_and_only_towards_registered_parties() {
    let mut t = setup();
    let id = t.register_item();
    assert_eq!(t.hand_over(t.ship, id, t.ship, "x").unwrap_err().error_value(), Some(&json!("NotCustodian")));
    let err = t.hand_over(t.farm, id, t.stranger, "x").unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"NotRegistered": {"account": j(t.stranger)}})));
    assert_eq!(t.hand_over(t.farm, 99, t.ship, "x").unwrap_err().error_value(), Some(&json!("NoSuchItem")));
    assert_eq!(t.checkpoint(t.farm, id, "Created").unwrap_err().error_value(), Some(&json!("InvalidStatus")));
    assert_eq!(
        t.checkpoint(t.farm, id, "Delivered").unwrap_err().error_value(),
        Some(&json!({"WrongRole": {"role": "Producer"}})),
        "only a retailer delivers"
    );
    assert_eq!(t.sb.query(t.sc, "history_len", json!({"id": id})).unwrap(), json!(1));
}

#[test]
fn deactivated_parties_take_no_part() {
    let mut t = setup();
    let id = t.register_item();
    let out = t.sb.call(t.admin, t.sc, "deactivate_party", json!({"account": j(t.ship)})).unwrap();
    assert_eq!(out.events[0].fields["active"], json!(false));
    let err = t.hand_over(t.farm, id, t.ship, "x").unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"NotRegistered": {"account": j(t.ship)}})));
    let err = t.sb.call(t.farm, t.sc, "deactivate_party", json!({"account": j(t.ship)})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotAdmin")));
}
