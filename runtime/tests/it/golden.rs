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

/// `name: value` pairs of a struct's `Debug` form (one level, numeric fields).
fn fields(debug: &str) -> Vec<(String, String)> {
    let inner = debug.split_once('{').map_or("", |(_, rest)| rest).trim_end_matches('}');
    inner
        .split(',')
        .filter_map(|f| f.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(_, v)| v.chars().all(|c| c.is_ascii_digit()) && !v.is_empty())
        .collect()
}

/// The gas section of docs/protocol.md as the code in force makes it.
fn schedule_section() -> String {
    let mut out = String::from(
        "<!-- generated from the code by runtime/tests/it/golden.rs: change the code, then paste -->\n\
         | price | gas (`deposit_per_byte`: base units) |\n|---|---|\n",
    );
    for (name, value) in fields(&format!("{:?}", weft_runtime::gas::SCHEDULE)) {
        out.push_str(&format!("| `{name}` | {value} |\n"));
    }
    let default = fields(&format!("{:?}", weft_runtime::vm::default_operator_cost()));
    let ours = fields(&format!("{:?}", weft_runtime::vm::operator_cost()));
    let mut by_cost: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
    for ((name, cost), (_, default_cost)) in ours.iter().zip(&default) {
        if cost != default_cost {
            by_cost.entry(cost.parse().unwrap()).or_default().push(format!("`{name}`"));
        }
    }
    out.push_str("\n| gas per operator | operators |\n|---|---|\n");
    for (cost, ops) in by_cost {
        out.push_str(&format!("| {cost} | {} |\n", ops.join(", ")));
    }
    out
}

#[test]
fn the_protocol_document_has_the_schedule_in_force() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md")).unwrap();
    let section = schedule_section();
    assert!(doc.contains(&section), "docs/protocol.md §12 is not the schedule in force; paste:\n{section}");
}
