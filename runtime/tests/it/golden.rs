//! Golden gas: the exact gas of a fixed sequence of operations. Any change to the gas schedule,
//! the host functions' charges, wasmtime's fuel accounting or the instrumentation shows up here,
//! and must be reviewed as the protocol change it is.

use weft_types::Action;

use crate::{support::Chain, wat};

#[test]
fn golden_gas_table() {
    let mut c = Chain::new();
    let mut table = Vec::new();
    let r = c.run(0, Action::Transfer { to: c.addr(1), amount: 1 });
    table.push(("transfer", r.gas_used));
    let code = ::wat::parse_str(wat::counter()).unwrap();
    let r = c.run(0, Action::UploadCode { code: weft_types::codec::BoundedBytes::new(code).unwrap() });
    table.push(("upload counter", r.gas_used));
    let h = weft_types::Hash(r.return_data.try_into().unwrap());
    let r = c.run(0, crate::support::instantiate(h, b"", 0));
    table.push(("instantiate counter (init writes 13 bytes)", r.gas_used));
    let counter = r.contract_address.unwrap();
    for method in ["inc", "get", "inc_then_fail", "recurse", "nan_bits", "clear"] {
        table.push((method, c.call(1, counter, method, &[]).gas_used));
    }
    let r = c.call(1, counter, "forward", &wat::forward_input(&counter, "get", &[]));
    table.push(("forward → reentrant get (refused)", r.gas_used));

    let expected: &[(&str, u64)] = &[
        ("transfer", 25850),
        ("upload counter", 4369292),
        ("instantiate counter (init writes 13 bytes)", 206455),
        ("inc", 111581),
        ("get", 104688),
        ("inc_then_fail", 111748),
        ("recurse", 118956),
        ("nan_bits", 102653),
        ("clear", 104613),
        ("forward → reentrant get (refused)", 182058),
    ];
    let rendered: Vec<String> = table.iter().map(|(k, v)| format!("(\"{k}\", {v}),")).collect();
    assert_eq!(table, expected, "gas changed; if intended, review and paste:\n{}", rendered.join("\n"));
    assert_eq!(weft_runtime::gas::SCHEDULE.version, 2, "bump the schedule version with any price change");
}
