//! `oomcheck rules` and `oomcheck explain ID`: the rule documentation, from the one source,
//! each rule's file in the analyzer's rule catalogue (`oomcheck_analyzer::rules::REGISTRY`).
use std::io::Write;

use clap::Args;
use oomcheck_analyzer::rules::{RuleDoc, REGISTRY};
use oomcheck_analyzer::{Level, RuleId};

use crate::Status;

/// Arguments of `oomcheck explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The rule id, e.g. `discarded-alloc-result` (see `oomcheck rules`).
    pub rule: String,
}

/// How a rule's default level reads in the table and the README.
pub fn level_name(doc: &RuleDoc) -> &'static str {
    match doc.default_level {
        Some(Level::Error) => "error",
        Some(Level::Warn) => "warn",
        None => "off (opt-in)",
    }
}

/// The rules table: id, default level, one-line summary.
pub fn rules_table() -> String {
    let width = REGISTRY.iter().map(|d| d.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for d in REGISTRY {
        out.push_str(&format!(
            "{:width$}  {:12}  {}\n",
            d.name,
            level_name(d),
            d.summary
        ));
    }
    out
}

/// Run `oomcheck rules`.
pub fn rules() -> Status {
    print_stdout(&rules_table())
}

/// Run `oomcheck explain ID`.
pub fn explain(args: &ExplainArgs) -> Status {
    let Some(rule) = RuleId::from_id(args.rule.trim()) else {
        let known: Vec<&str> = REGISTRY.iter().map(|d| d.name).collect();
        eprintln!(
            "error: unknown rule `{}`; known rules: {}",
            args.rule,
            known.join(", ")
        );
        return Status::Error;
    };
    let doc = rule.doc();
    print_stdout(&format!(
        "{}: {}\ndefault level: {}\n\n{}\n",
        doc.id,
        doc.summary,
        level_name(doc),
        doc.explanation.trim()
    ))
}

/// Write to stdout; a closed pipe (`oomcheck rules | head`) is not an error.
pub fn print_stdout(text: &str) -> Status {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Status::Clean,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Status::Clean,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            Status::Error
        }
    }
}
