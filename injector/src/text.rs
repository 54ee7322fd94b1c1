//! Small text helpers shared by the journal, the outcome messages and the summary.

/// `s` on one line: every run of whitespace (newlines included) becomes one space, and the ends
/// are trimmed.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts `s` to at most `max` bytes at a character boundary, marking the cut with `…` and, when
/// `count` is set, the number of bytes dropped (`… (12 more bytes)`).
pub(crate) fn truncate(s: &mut String, max: usize, count: bool) {
    if s.len() <= max {
        return;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let dropped = s.len() - cut;
    s.truncate(cut);
    if count {
        s.push_str(&format!("… ({dropped} more bytes)"));
    } else {
        s.push('…');
    }
}

/// Parses whitespace-separated hexadecimal numbers, skipping any that do not parse.
pub(crate) fn hexes(text: &str) -> Vec<usize> {
    text.split_whitespace()
        .filter_map(|h| usize::from_str_radix(h, 16).ok())
        .collect()
}

/// Most bytes of a dead process's stderr looked at for its tail.
const STDERR_TAIL_BYTES: usize = 4096;
/// Most lines of a dead process's stderr kept.
const STDERR_TAIL_LINES: usize = 20;

/// The last lines of a dead process's stderr, without blank lines and libtest's own chatter.
pub(crate) fn stderr_tail(stderr: &str) -> Option<String> {
    let mut from = stderr.len().saturating_sub(STDERR_TAIL_BYTES);
    while !stderr.is_char_boundary(from) {
        from += 1;
    }
    let lines: Vec<&str> = stderr[from..]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !l.starts_with("running ") && !l.starts_with("test result:"))
        .collect();
    let keep = &lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..];
    (!keep.is_empty()).then(|| keep.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_at_a_char_boundary() {
        let mut s = "é".repeat(10);
        truncate(&mut s, 5, true);
        assert_eq!(s, "éé… (16 more bytes)");
        let mut short = "ok".to_string();
        truncate(&mut short, 5, true);
        assert_eq!(short, "ok");
        let mut plain = "abcdef".to_string();
        truncate(&mut plain, 3, false);
        assert_eq!(plain, "abc…");
    }

    #[test]
    fn one_line_collapses_whitespace() {
        assert_eq!(one_line(" a\n  b\tc \n"), "a b c");
    }

    #[test]
    fn the_stderr_tail_drops_libtest_chatter() {
        assert_eq!(
            stderr_tail("running 1 test\n\nmemory allocation of 8 bytes failed\n").as_deref(),
            Some("memory allocation of 8 bytes failed")
        );
        assert_eq!(stderr_tail("running 1 test\n"), None);
        let flood = "x".repeat(99) + "\n";
        let tail = stderr_tail(&flood.repeat(100)).unwrap();
        assert_eq!(tail.lines().count(), 20);
    }

    #[test]
    fn hexes_skip_what_does_not_parse() {
        assert_eq!(hexes("a ff x"), vec![10, 255]);
    }
}
