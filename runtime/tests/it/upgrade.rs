//! Contract upgrades: the admin (its instantiator, changeable, clearable) replaces the code,
//! the new code's `migrate` runs atomically, storage and balance stay, and the code history and
//! an event record it; everyone else is refused, saying why.

use parity_scale_codec::{Decode, Encode};
use weft_types::{
    Action, Address, ExecError, ExecStatus, Hash,
    abi::{ADMIN_CHANGED_EVENT, UPGRADED_EVENT},
    codec::BoundedBytes,
    sha3_256,
    state::{CodeRecord, ContractInfo, code_record_key, contract_info_key},
};

use crate::{support::Chain, wat};

fn upgrade(contract: Address, code_hash: Hash, args: &[u8]) -> Action {
    Action::Upgrade { contract, code_hash, args: BoundedBytes::new(args.to_vec()).unwrap() }
}

fn count(c: &mut Chain, contract: Address) -> u64 {
    let r = c.call(1, contract, "get", &[]);
    u64::from_le_bytes(r.return_data.try_into().unwrap())
}

fn info(c: &Chain, contract: &Address) -> ContractInfo {
    ContractInfo::decode(&mut &c.state.kv[&contract_info_key(contract)][..]).unwrap()
}

#[test]
fn the_admin_upgrades_with_a_migration_and_state_balance_and_history_follow() {
    let mut c = Chain::new();
    let v1 = c.upload(&wat::counter());
    let counter = c.instantiate(v1, b"");
    let instantiated_at = c.head.height;
    assert_eq!(info(&c, &counter), ContractInfo { admin: Some(c.addr(0)), codes: 1 });
    c.call(1, counter, "inc", &[]);
    c.call(1, counter, "inc", &[]);
    let funded = c.run(1, Action::Transfer { to: counter, amount: 77 });
    assert!(funded.is_success());
    assert!(matches!(
        c.call(1, counter, "triple", &[]).status,
        ExecStatus::Failed(ExecError::MethodNotFound { .. })
    ));

    let v2 = c.upload(&wat::counter_v2());
    let r = c.run(0, upgrade(counter, v2, &40u64.to_le_bytes()));
    assert!(r.is_success(), "{:?}", r.status);
    let upgraded_at = c.head.height;
    assert_eq!(count(&mut c, counter), 42, "the storage stayed and the migration ran");
    assert_eq!(c.account(&counter).balance, 77, "the balance stayed");
    assert_eq!(c.account(&counter).code_hash, Some(v2));
    assert!(c.call(1, counter, "triple", &[]).is_success(), "the new code's method");
    assert_eq!(count(&mut c, counter), 126);
    assert!(matches!(
        c.call(1, counter, "inc", &[]).status,
        ExecStatus::Failed(ExecError::MethodNotFound { .. })
    ));
    assert!(
        matches!(
            c.call(1, counter, "migrate", &[]).status,
            ExecStatus::Failed(ExecError::MethodNotFound { .. })
        ),
        "migrate is not a method"
    );

    // The event, and the history: both codes, from the blocks that started them.
    assert_eq!(r.events.len(), 1);
    assert_eq!(r.events[0].contract, counter);
    assert_eq!(r.events[0].topics, vec![sha3_256(UPGRADED_EVENT.as_bytes())]);
    assert_eq!(r.events[0].data, (v1, v2).encode());
    assert_eq!(info(&c, &counter).codes, 2);
    let record = |n| CodeRecord::decode(&mut &c.state.kv[&code_record_key(&counter, n)][..]).unwrap();
    assert_eq!(record(0), CodeRecord { code_hash: v1, height: instantiated_at });
    assert_eq!(record(1), CodeRecord { code_hash: v2, height: upgraded_at });
}

#[test]
fn upgrades_are_refused_to_non_admins_immutable_contracts_and_arguments_without_migrate() {
    let mut c = Chain::new();
    let v1 = c.upload(&wat::counter());
    let counter = c.instantiate(v1, b"");
    let v2 = c.upload(&wat::counter_v2());
    let alice = c.addr(0);

    let r = c.run(1, upgrade(counter, v2, &[]));
    assert_eq!(r.status, ExecStatus::Failed(ExecError::NotAdmin { contract: counter, admin: Some(alice) }));
    let r = c.run(1, Action::SetAdmin { contract: counter, admin: Some(c.addr(1)) });
    assert_eq!(r.status, ExecStatus::Failed(ExecError::NotAdmin { contract: counter, admin: Some(alice) }));
    // Code without `migrate` takes no arguments (v1 has none).
    let r = c.run(0, upgrade(counter, v1, &[1]));
    assert_eq!(r.status, ExecStatus::Failed(ExecError::NoMigrate(v1)));
    let missing = Hash([9; 32]);
    assert_eq!(
        c.run(0, upgrade(counter, missing, &[])).status,
        ExecStatus::Failed(ExecError::CodeNotFound(missing))
    );
    assert_eq!(
        c.run(0, upgrade(c.addr(2), v2, &[])).status,
        ExecStatus::Failed(ExecError::ContractNotFound(c.addr(2)))
    );

    // A failing migration leaves the contract as it was.
    c.call(1, counter, "inc", &[]);
    let r = c.run(0, upgrade(counter, v2, &13u64.to_le_bytes()));
    assert!(matches!(r.status, ExecStatus::Failed(ExecError::Reverted { .. })), "{:?}", r.status);
    assert!(r.events.is_empty());
    assert_eq!(c.account(&counter).code_hash, Some(v1));
    assert_eq!(info(&c, &counter).codes, 1);
    assert_eq!(count(&mut c, counter), 1);

    // The admin hands over, the new admin upgrades, then makes it immutable.
    let r = c.run(0, Action::SetAdmin { contract: counter, admin: Some(c.addr(1)) });
    assert!(r.is_success());
    assert_eq!(r.events[0].topics, vec![sha3_256(ADMIN_CHANGED_EVENT.as_bytes())]);
    assert!(c.run(0, upgrade(counter, v2, &[])).status != ExecStatus::Success, "the old admin no longer may");
    assert!(c.run(1, upgrade(counter, v2, &[])).is_success());
    assert!(c.run(1, Action::SetAdmin { contract: counter, admin: None }).is_success());
    let r = c.run(1, upgrade(counter, v1, &[]));
    assert_eq!(r.status, ExecStatus::Failed(ExecError::NotAdmin { contract: counter, admin: None }));
    let ExecStatus::Failed(e) = r.status else { unreachable!() };
    assert!(e.to_string().contains("immutable"), "{e}");
    assert!(c.call(1, counter, "triple", &[]).is_success());
}
