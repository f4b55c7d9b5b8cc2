//! The JSON-RPC target on mutated and generated requests, in process and over real HTTP.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use weft_fuzz::{
    mutate::{Mutator, json_request},
    rpc::Harness,
    seeds,
};

/// Posts `body` to the node; returns the HTTP status and the body.
fn post(addr: SocketAddr, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text.split("\r\n\r\n").nth(1).unwrap_or("").to_owned())
}

#[test]
fn mutated_and_generated_requests_get_clear_answers() {
    let harness = Harness::start();
    let seeds = seeds::rpc_inputs();
    for seed in &seeds {
        harness.run(seed);
    }
    let mut m = Mutator::new(0x7e57_0003, seeds, seeds::rpc_dict(), 8 * 1024);
    let methods: Vec<&str> = weft_rpc_api::openrpc::METHODS.iter().map(|m| m.name).collect();
    let values = seeds::rpc_values();
    let mut http = Vec::new();
    for i in 0..3_000 {
        let input = if i % 2 == 0 { m.next_input() } else { json_request(m.rng(), &methods, &values) };
        harness.run(&input);
        if i % 10 == 0 {
            http.push(input);
        }
    }
    // The same server over HTTP (the transport, batches and notifications included): every
    // input gets an HTTP answer, JSON unless it is a notification.
    let addr = harness.rpc_addr();
    for input in &http {
        let (status, body) = post(addr, input);
        assert!(
            matches!(status, 200 | 400 | 413 | 415),
            "HTTP {status} for {:?}",
            String::from_utf8_lossy(input)
        );
        if !body.is_empty() {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| {
                panic!("not JSON ({e}): {body} for {:?}", String::from_utf8_lossy(input))
            });
            assert!(
                !v.to_string().contains("-32603"),
                "internal error: {v} for {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }
    let (status, body) = post(addr, br#"{"jsonrpc":"2.0","id":1,"method":"node_health","params":[]}"#);
    assert_eq!(status, 200);
    assert!(body.contains("\"healthy\":true"), "{body}");
    harness.shutdown();
}
