//! What the analyzer reports: findings, and the files it could not check.
use std::path::PathBuf;

use serde::Serialize;

use crate::rules::{Level, RuleId};

/// A 1-based line/column range in a source file (columns count characters, 1-based).
///
/// The end is exclusive: `end_column` is the column just after the last character, as in a
/// SARIF region. For a method call the range starts at the method name (`try_reserve(n)` in
/// `v.try_reserve(n)`), so a multi-line chain is reported on the line of the method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    /// First line (1-based).
    pub start_line: usize,
    /// Column of the first character (1-based, in characters).
    pub start_column: usize,
    /// Last line (1-based).
    pub end_line: usize,
    /// Column after the last character (1-based, in characters; exclusive).
    pub end_column: usize,
}

/// One mishandled allocation failure (or a problem with a suppression comment).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule that fired.
    pub rule: RuleId,
    /// The file, as given or discovered (relative paths stay relative).
    pub path: PathBuf,
    /// Where the flagged call (or comment) is.
    pub span: Span,
    /// One line, lower-case start, no trailing period: what is wrong here.
    pub message: String,
    /// One line: how to handle the failure instead.
    pub help: String,
    /// Severity, from the rule's default level or the configuration.
    pub level: Level,
}

/// A file that could not be checked (or a path that could not be walked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}: {message}", self.location())]
pub struct FileError {
    /// The file, as given or discovered.
    pub path: PathBuf,
    /// 1-based line, when the error has a place in the file.
    pub line: Option<usize>,
    /// 1-based column (characters), when the error has a place in the file.
    pub column: Option<usize>,
    /// One line, lower-case start: what went wrong.
    pub message: String,
}

impl FileError {
    /// An error about a whole file.
    pub fn new(path: PathBuf, message: String) -> FileError {
        FileError {
            path,
            line: None,
            column: None,
            message,
        }
    }

    /// `path:line:col`, `path` or nothing.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.path.display()),
            (Some(l), None) => format!("{}:{l}", self.path.display()),
            _ => self.path.display().to_string(),
        }
    }
}
