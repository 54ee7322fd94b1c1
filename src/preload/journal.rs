//! Reading the interposer's journal (its format is described in [`protocol`]).
use super::protocol;

/// What one process's journal says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Journal {
    /// Allocations counted, when the process exited normally.
    pub count: Option<u64>,
    /// The failed allocation: its index and raw return addresses, innermost first.
    pub failed: Option<(u64, Vec<u64>)>,
    /// Every counted allocation's return addresses, by index (counting runs with stacks).
    pub stacks: Vec<(u64, Vec<u64>)>,
    /// The process's last copy of `/proc/self/maps`.
    pub maps: String,
    /// The thread named [`protocol::THREAD`] was found.
    pub thread_found: bool,
    /// Fork server: how each forked child ended.
    pub forked: Vec<Forked>,
}

/// A fork-server child's end, as its server recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forked {
    /// The allocation it failed.
    pub index: u64,
    /// Its `waitpid` status (`None`: the fork failed).
    pub status: Option<i32>,
    /// Killed for running past the timeout.
    pub timed_out: bool,
    /// Bytes of the server's stdout written before the fork.
    pub stdout_offset: u64,
    /// Bytes of the server's stderr written before the fork.
    pub stderr_offset: u64,
}

/// `index ip ip…` after a tag.
fn index_and_addresses(rest: &str) -> Option<(u64, Vec<u64>)> {
    let mut words = rest.split_ascii_whitespace();
    let index = words.next()?.parse().ok()?;
    let ips = words
        .filter_map(|w| u64::from_str_radix(w, 16).ok())
        .collect();
    Some((index, ips))
}

fn forked(rest: &str) -> Option<Forked> {
    let w: Vec<&str> = rest.split_ascii_whitespace().collect();
    let [index, status, timed_out, out, err] = w[..] else {
        return None;
    };
    let status: i64 = status.parse().ok()?;
    Some(Forked {
        index: index.parse().ok()?,
        status: (status >= 0).then_some(status as i32),
        timed_out: timed_out == "1",
        stdout_offset: out.parse().unwrap_or(0),
        stderr_offset: err.parse().unwrap_or(0),
    })
}

/// Parses a journal; a record cut short (the process killed while writing it) is skipped.
pub fn parse(bytes: &[u8]) -> Journal {
    let mut j = Journal::default();
    let mut maps: Vec<u8> = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |e| pos + e);
        let line = String::from_utf8_lossy(&bytes[pos..end]);
        pos = end + 1;
        let (tag, rest) = match line.split_once(' ') {
            Some((t, r)) => (t.as_bytes(), r),
            None => (line.as_bytes(), ""),
        };
        match tag {
            [protocol::TAG_COUNT] => j.count = rest.trim().parse().ok(),
            [protocol::TAG_FAILED] => j.failed = j.failed.or(index_and_addresses(rest)),
            [protocol::TAG_STACK] => j.stacks.extend(index_and_addresses(rest)),
            [protocol::TAG_FORKED] => j.forked.extend(forked(rest)),
            [protocol::TAG_THREAD] => j.thread_found = true,
            [protocol::TAG_MAPS_BEGIN] => maps.clear(),
            [protocol::TAG_MAPS] => {
                let Ok(n) = rest.trim().parse::<usize>() else {
                    continue;
                };
                let n = n.min(bytes.len().saturating_sub(pos));
                maps.extend_from_slice(&bytes[pos..pos + n]);
                pos += n;
                // The next piece's `B` starts over; a fresh dump replaces an older one.
                j.maps = String::from_utf8_lossy(&maps).into_owned();
            }
            _ => {}
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_of_every_kind_parse() {
        let maps = "55d0-55e0 r-xp 00001000 08:01 12 /bin/t\n";
        let text = format!(
            "T\nA 1 7f01 55d1\nA 2 7f02\nF 2 7f02 55d2 55d3\nB\nm {}\n{maps}S 4 256 0 12 7\nS 5 -1 0 0 0\nN 3\nF 9 1",
            maps.len()
        );
        let j = parse(text.as_bytes());
        assert_eq!(j.count, Some(3));
        assert_eq!(
            j.failed,
            Some((2, vec![0x7f02, 0x55d2, 0x55d3])),
            "the first F wins"
        );
        assert_eq!(j.stacks, vec![(1, vec![0x7f01, 0x55d1]), (2, vec![0x7f02])]);
        assert_eq!(j.maps, maps);
        assert_eq!(
            j.forked,
            vec![
                Forked {
                    index: 4,
                    status: Some(256),
                    timed_out: false,
                    stdout_offset: 12,
                    stderr_offset: 7
                },
                Forked {
                    index: 5,
                    status: None,
                    timed_out: false,
                    stdout_offset: 0,
                    stderr_offset: 0
                }
            ]
        );
    }

    #[test]
    fn a_maps_piece_cut_short_keeps_what_was_written() {
        let j = parse(b"B\nm 100\n55d0-55e0 r-xp");
        assert_eq!(j.maps, "55d0-55e0 r-xp");
        assert_eq!(j.count, None);
    }
}
