//! The node process's own resource use for `node_metrics`, read from `/proc/self` (Linux). Each
//! file is read with a bound (they are a few KiB); anything missing or unparsable is `None`,
//! never an error: metrics must not fail a node.

use std::io::Read as _;

/// Clock ticks per second of `/proc/self/stat` times: the kernel's `USER_HZ`, fixed at 100 in
/// the Linux user-space ABI on every architecture the node runs on.
const USER_HZ: u64 = 100;
/// Most bytes read from one `/proc` file.
const MAX_PROC_BYTES: u64 = 64 * 1024;

/// What the operating system says about this process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessStats {
    /// User-mode CPU time, ms.
    pub cpu_user_ms: Option<u64>,
    /// Kernel CPU time, ms.
    pub cpu_system_ms: Option<u64>,
    /// Resident set size now, bytes.
    pub rss_bytes: Option<u64>,
    /// Peak resident set size, bytes.
    pub rss_peak_bytes: Option<u64>,
    /// Threads.
    pub threads: Option<u32>,
}

fn read_bounded(path: &str) -> Option<String> {
    let mut text = String::new();
    std::fs::File::open(path).ok()?.take(MAX_PROC_BYTES).read_to_string(&mut text).ok()?;
    Some(text)
}

/// Reads this process's statistics.
pub fn process_stats() -> ProcessStats {
    let mut out = ProcessStats::default();
    if let Some(stat) = read_bounded("/proc/self/stat") {
        let (user, system) = parse_stat_times(&stat);
        out.cpu_user_ms = user.map(|t| t * 1000 / USER_HZ);
        out.cpu_system_ms = system.map(|t| t * 1000 / USER_HZ);
    }
    if let Some(status) = read_bounded("/proc/self/status") {
        out.rss_bytes = status_kib(&status, "VmRSS:").map(|k| k * 1024);
        out.rss_peak_bytes = status_kib(&status, "VmHWM:").map(|k| k * 1024);
        out.threads = status_kib(&status, "Threads:").and_then(|n| u32::try_from(n).ok());
    }
    out
}

/// `utime` and `stime` (fields 14 and 15) of `/proc/PID/stat`. The second field, the command
/// name in parentheses, may itself hold spaces and parentheses: fields are counted after its
/// last `)`.
fn parse_stat_times(stat: &str) -> (Option<u64>, Option<u64>) {
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { return (None, None) };
    // After the name: state is field 3, so utime (14) is the 12th and stime (15) the 13th.
    let mut fields = rest.split_whitespace().skip(11);
    let user = fields.next().and_then(|f| f.parse().ok());
    let system = fields.next().and_then(|f| f.parse().ok());
    (user, system)
}

/// The number after `key` on its line of `/proc/PID/status` (`VmRSS:   1234 kB`).
fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_and_status() {
        let stat = "4242 (weft (node) x) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 12 0";
        assert_eq!(parse_stat_times(stat), (Some(250), Some(75)));
        assert_eq!(parse_stat_times("garbage"), (None, None));
        let status = "Name:\tweft-node\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nThreads:\t7\n";
        assert_eq!(status_kib(status, "VmRSS:"), Some(1024));
        assert_eq!(status_kib(status, "VmHWM:"), Some(2048));
        assert_eq!(status_kib(status, "Threads:"), Some(7));
        assert_eq!(status_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn reads_this_process() {
        let s = process_stats();
        if cfg!(target_os = "linux") {
            assert!(s.rss_bytes.unwrap_or(0) > 0);
            assert!(s.threads.unwrap_or(0) >= 1);
            assert!(s.cpu_user_ms.is_some());
        }
    }
}
