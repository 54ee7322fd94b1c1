//! The names that mean "out of memory", shared with the analyzer: both read the
//! `no_memory_names` lists of the rule packs (`rules/*.toml`), embedded here as text. The injector
//! does not depend on the analyzer (or on a TOML parser): it reads only those lists.

use std::sync::OnceLock;

/// The rule packs' TOML texts (the same files the analyzer embeds).
const PACK_TEXTS: [&str; 7] = [
    include_str!("../../rules/std.toml"),
    include_str!("../../rules/fallible_collections.toml"),
    include_str!("../../rules/hashbrown.toml"),
    include_str!("../../rules/smallvec.toml"),
    include_str!("../../rules/allocator_api2.toml"),
    include_str!("../../rules/kernel.toml"),
    include_str!("../../rules/libc.toml"),
];

/// Every pack's `no_memory_names`, in pack order, duplicates removed (first kept).
pub fn pack_no_memory_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = Vec::new();
        for text in PACK_TEXTS {
            for name in no_memory_list(text) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    })
}

/// The strings of the `no_memory_names = [ … ]` array of one pack's TOML text (the packs write
/// it as a plain array of basic strings, possibly over several lines, with `#` comments).
fn no_memory_list(text: &str) -> Vec<String> {
    let Some(start) = text
        .lines()
        .scan(0, |offset, line| {
            let here = *offset;
            *offset += line.len() + 1;
            Some((here, line))
        })
        .find(|(_, line)| {
            line.trim_start()
                .strip_prefix("no_memory_names")
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|(offset, _)| offset)
    else {
        return Vec::new();
    };
    let rest = &text[start..];
    let Some(open) = rest.find('[') else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for line in rest[open + 1..].lines() {
        let mut in_string = false;
        let mut current = String::new();
        for c in line.chars() {
            match (in_string, c) {
                (false, '#') => break,
                (false, ']') => return names,
                (false, '"') => in_string = true,
                (true, '"') => {
                    in_string = false;
                    names.push(std::mem::take(&mut current));
                }
                (true, c) => current.push(c),
                _ => {}
            }
        }
    }
    names
}

/// Whether `debug` (an error's `{:?}` text) names an out-of-memory condition: one of its
/// identifiers outside string literals, or a run of an identifier's camel-case parts
/// (`OomError` → `Oom`), equals one of `names` (case-insensitively), or it says "out of memory"
/// / "cannot allocate memory" (anywhere). Words of a message (`"reserve allocation failed"`) are
/// not identifiers: an error that only says so in prose is not NoMemory.
pub(crate) fn names_no_memory<'a>(
    debug: &str,
    names: impl Iterator<Item = &'a str> + Clone,
) -> bool {
    let lower = debug.to_ascii_lowercase();
    if lower.contains("out of memory") || lower.contains("cannot allocate memory") {
        return true;
    }
    outside_strings(debug)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .any(|word| {
            let parts = parts(word);
            (0..parts.len()).any(|i| {
                (i + 1..=parts.len()).any(|j| {
                    let run = &word[parts[i].0..parts[j - 1].1];
                    names.clone().any(|n| n.eq_ignore_ascii_case(run))
                })
            })
        })
}

/// `debug` with the contents of its string and char literals (`"…"`, with `\"` escapes) blanked.
fn outside_strings(debug: &str) -> String {
    let mut out = String::with_capacity(debug.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in debug.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            out.push(' ');
        } else {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// The camel-case parts of `word` as byte ranges: `OomError` → `Oom`, `Error`; an all-caps word
/// (`ENOMEM`) is one part.
fn parts(word: &str) -> Vec<(usize, usize)> {
    let b = word.as_bytes();
    let mut starts = vec![0];
    for i in 1..b.len() {
        if b[i].is_ascii_uppercase() && b[i - 1].is_ascii_lowercase() {
            starts.push(i);
        }
    }
    let mut ends: Vec<usize> = starts[1..].to_vec();
    ends.push(word.len());
    starts.into_iter().zip(ends).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pack_contributes_its_names() {
        let names = pack_no_memory_names();
        for name in [
            "NoMemory",
            "OutOfMemory",
            "TryReserveError",
            "AllocError",
            "AllocErr",
            "CollectionAllocErr",
            "ENOMEM",
        ] {
            assert!(names.iter().any(|n| n == name), "{name}: {names:?}");
        }
    }

    #[test]
    fn names_count_as_identifiers_only_outside_strings() {
        let names = ["Reserve", "Allocation", "AllocErr", "Oom"];
        let says = |d: &str| names_no_memory(d, names.iter().copied());
        assert!(!says(
            "Custom { kind: Other, error: \"reserve allocation failed\" }"
        ));
        assert!(!says("Parse(\"an \\\"Oom\\\" in quotes\")"));
        assert!(says("Custom { kind: Other, error: \"out of memory\" }"));
        assert!(says("AllocErr { layout: Layout { size: 8, align: 8 } }"));
        assert!(says("Wrapped(OomError)"));
    }

    #[test]
    fn reads_a_multi_line_list_with_comments() {
        let text = "name = \"x\"\n# no_memory_names = [\"Not\"]\nno_memory_names = [\n  \"A\", # one\n  \"B\",\n]\nother = [\"C\"]\n";
        assert_eq!(no_memory_list(text), ["A", "B"]);
        assert!(no_memory_list("name = \"y\"\n").is_empty());
    }
}
