//! The transaction and message decoding target on mutated real messages.

use weft_fuzz::{mutate::Mutator, seeds, tx::target};

#[test]
fn seeds_decode_and_execute() {
    for seed in seeds::tx_inputs() {
        target(&seed);
    }
}

#[test]
fn mutated_messages_never_panic() {
    let mut m = Mutator::new(0x7e57_0001, seeds::tx_inputs(), seeds::tx_dict(), 4096);
    for _ in 0..4_000 {
        target(&m.next_input());
    }
}
