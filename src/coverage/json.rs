//! `--format json`: the joined data as one JSON object with its `version`.
use super::join::Joined;

/// The JSON text (pretty, one trailing newline).
pub fn render(j: &Joined) -> String {
    let mut text = serde_json::to_string_pretty(j).expect("the joined data serializes");
    text.push('\n');
    text
}
