//! Crash safety: a writer process committing blocks is killed with SIGKILL at different
//! moments; every time, the store reopens at a consistent head that holds every block the
//! writer reported committed, and the next writer continues from it.

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use weft_node::store::Store;
use weft_runtime::state::{StateBackend, tree};
use weft_types::Hash;

use crate::support::{commit_next, replay, txs_for, universe, writes_for};

/// Set (to the store's directory) only in the writer child the crash test spawns.
const WRITER_ENV: &str = "WEFT_STORE_WRITER_DIR";
/// The writer child's test name, as `--exact` wants it.
const WRITER_TEST: &str = "crash::store_writer_child_process";
/// Prefix of the line the writer prints after each commit returns.
const COMMITTED: &str = "committed ";

/// Helper process of [`store_survives_kill_9`], not a test: a no-op unless `WEFT_STORE_WRITER_DIR`
/// is set. Then it commits blocks of [`writes_for`] and [`txs_for`] on top of the store's head
/// until it is killed (or for at most a minute), printing `committed <height>` after each.
#[test]
fn store_writer_child_process() {
    let Some(dir) = std::env::var_os(WRITER_ENV) else {
        return;
    };
    let store = Store::open(&Path::new(&dir).join("store.redb")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let height = store.state().unwrap().next_version();
        commit_next(&store, writes_for(height), txs_for(height));
        println!("{COMMITTED}{height}");
    }
}

/// Checks the store at `path` after a crash: a head, whose state is exactly the replayed
/// writes of blocks `0..=head`, authenticated by the head's root; blocks linked; receipts of
/// the head indexed and none beyond it. Returns the head's height.
fn check_recovered(path: &Path) -> u64 {
    let store = Store::open(path).unwrap();
    let head = store.head().unwrap().expect("a head after the writer committed");
    let height = head.height;
    let state = store.state().unwrap();
    assert_eq!(state.head(), Some(&head));

    let expected = replay(height);
    assert_eq!(head.state_root, expected.root(), "head root is the replayed root");
    for key in universe() {
        assert_eq!(state.get(&key).unwrap().as_ref(), expected.kv.get(&key), "key {key:?} at {height}");
        let (value, proof) = tree::prove(&state, height, &key).unwrap();
        assert_eq!(value.as_ref(), expected.kv.get(&key));
        proof.verify(&head.state_root, &key, value.as_deref()).unwrap();
    }
    let (value, proof) = tree::prove(&state, height, b"height").unwrap();
    let last_written = (0..=height).rev().find(|h| h % 11 != 10).unwrap();
    assert_eq!(value, Some(last_written.to_le_bytes().to_vec()));
    proof.verify(&head.state_root, b"height", value.as_deref()).unwrap();

    let block = store.block_by_height(height).unwrap().unwrap();
    assert_eq!(block.header, head);
    assert_eq!(store.block_by_hash(&head.hash()).unwrap().unwrap().header, head);
    let parent = match height {
        0 => Hash::ZERO,
        _ => store.block_by_height(height - 1).unwrap().unwrap().hash(),
    };
    assert_eq!(head.parent_hash, parent);
    for tx in block.txs.iter() {
        assert_eq!(store.receipt(&tx.hash()).unwrap().map(|(h, i, _)| (h, i)), Some((height, 0)));
    }
    assert_eq!(store.block_by_height(height + 1).unwrap(), None);
    for tx in txs_for(height + 1) {
        assert_eq!(store.receipt(&tx.hash()).unwrap(), None);
    }
    height
}

#[test]
fn store_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    // (commits to wait for, then how long to let the writer run on before the kill)
    let rounds = [(1, 0), (3, 250), (8, 1_100), (20, 2_700), (40, 6_300)];
    let mut head: Option<u64> = None;
    for (round, (commits, delay_us)) in rounds.into_iter().enumerate() {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", WRITER_TEST, "--nocapture", "--test-threads=1"])
            .env(WRITER_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut seen = Vec::new();
        for line in BufReader::new(stdout).lines() {
            // libtest may print `test <name> ... ` on the same line, before the first one.
            if let Some((_, height)) = line.unwrap().split_once(COMMITTED) {
                seen.push(height.parse::<u64>().unwrap());
                if seen.len() == commits {
                    break;
                }
            }
        }
        if seen.len() < commits {
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            panic!("round {round}: the writer stopped after {seen:?}:\n{stderr}");
        }
        thread::sleep(Duration::from_micros(delay_us));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        assert_eq!(seen[0], head.map_or(0, |h| h + 1), "round {round} continues from the head");
        let last = *seen.last().unwrap();
        let recovered = check_recovered(&path);
        assert!(recovered >= last, "round {round}: head {recovered}, but {last} was reported committed");
        eprintln!("round {round}: killed after commit {last}, recovered head {recovered}");
        head = Some(recovered);
    }
}
