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
    let r =
        c.run(0, Action::UploadCode { code: weft_types::codec::BoundedBytes::new(code.clone()).unwrap() });
    table.push(("upload counter", r.gas_used));
    let again = c.run(0, Action::UploadCode { code: weft_types::codec::BoundedBytes::new(code).unwrap() });
    table.push(("upload counter again (stored: only hashed)", again.gas_used));
    let h = weft_types::Hash(r.return_data.try_into().unwrap());
    let r = c.run(0, crate::support::instantiate(h, b"", 0));
    table.push(("instantiate counter (init writes 13 bytes)", r.gas_used));
    let counter = r.contract_address.unwrap();
    for method in ["inc", "get", "inc_then_fail", "recurse", "nan_bits", "clear"] {
        table.push((method, c.call(1, counter, method, &[]).gas_used));
    }
    let r = c.call(1, counter, "forward", &wat::forward_input(&counter, "get", &[]));
    table.push(("forward → reentrant get (refused)", r.gas_used));
    let v2 = c.upload(&wat::counter_v2());
    let args = weft_types::codec::BoundedBytes::new(40u64.to_le_bytes().to_vec()).unwrap();
    let r = c.run(0, Action::Upgrade { contract: counter, code_hash: v2, args });
    table.push(("upgrade counter to v2, migrate(40)", r.gas_used));
    let r = c.run(0, Action::SetAdmin { contract: counter, admin: None });
    table.push(("set admin: none (immutable)", r.gas_used));

    let expected: &[(&str, u64)] = &[
        ("transfer", 25850),
        ("transfer to a new account", 50850),
        ("upload counter", 4373440),
        ("upload counter again (stored: only hashed)", 35158),
        ("instantiate counter (init writes 13 bytes)", 176287),
        ("inc", 108194),
        ("get", 92380),
        ("inc_then_fail", 108401),
        ("recurse", 106566),
        ("nan_bits", 90309),
        ("clear", 118223),
        ("forward → reentrant get (refused)", 115262),
        ("upgrade counter to v2, migrate(40)", 170499),
        ("set admin: none (immutable)", 35700),
    ];
    let rendered: Vec<String> = table.iter().map(|(k, v)| format!("(\"{k}\", {v}),")).collect();
    assert_eq!(table, expected, "gas changed; if intended, review and paste:\n{}", rendered.join("\n"));
    assert_eq!(weft_runtime::gas::SCHEDULE.version, 5, "bump the schedule version with any price change");
}

/// `name: value` pairs of the numeric fields of a struct's `Debug` form, nested fields named
/// `outer.inner`.
fn fields(debug: &str) -> Vec<(String, String)> {
    let (mut out, mut prefix, mut buf) = (Vec::new(), Vec::<String>::new(), String::new());
    for c in debug.chars() {
        match c {
            '{' => {
                prefix.push(buf.split_once(':').map(|(k, _)| k.trim().to_owned()).unwrap_or_default());
                buf.clear();
            }
            '}' | ',' => {
                if let Some((k, v)) = buf.split_once(':') {
                    let v = v.trim();
                    if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()) {
                        let path: Vec<&str> = prefix
                            .iter()
                            .map(String::as_str)
                            .filter(|p| !p.is_empty())
                            .chain([k.trim()])
                            .collect();
                        out.push((path.join("."), v.to_owned()));
                    }
                }
                buf.clear();
                if c == '}' {
                    prefix.pop();
                }
            }
            _ => buf.push(c),
        }
    }
    out
}

/// The gas section of docs/protocol.md as the code in force makes it.
fn schedule_section() -> String {
    let mut out = String::from(
        "<!-- generated from the code by runtime/tests/it/golden.rs: change the code, then paste -->\n\
         | price | gas (`deposit_per_byte`, `account_deposit`: base units) |\n|---|---|\n",
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
