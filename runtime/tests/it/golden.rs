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
    let r = c.run(0, Action::Transfer { to: weft_types::Address([0x77; 32]), amount: 1 });
    table.push(("transfer to a new account", r.gas_used));
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
        ("transfer to a new account", 50850),
        ("upload counter", 223410),
        ("instantiate counter (init writes 13 bytes)", 90126),
        ("inc", 62919),
        ("get", 47105),
        ("inc_then_fail", 63126),
        ("recurse", 61291),
        ("nan_bits", 45034),
        ("clear", 72948),
        ("forward → reentrant get (refused)", 57101),
    ];
    let rendered: Vec<String> = table.iter().map(|(k, v)| format!("(\"{k}\", {v}),")).collect();
    assert_eq!(table, expected, "gas changed; if intended, review and paste:\n{}", rendered.join("\n"));
    assert_eq!(weft_runtime::gas::SCHEDULE.version, 3, "bump the schedule version with any price change");
}
