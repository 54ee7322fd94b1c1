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
    /// Other places of the same problem, in the same file, that this one finding stands for
    /// (the other sites of a function whose `Option` return type turns allocation failure into
    /// `None`); empty for most findings. Not serialized when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
}

/// A secondary place of a [`Finding`]: fixed together with it (in the same file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Related {
    /// Where the call is.
    pub span: Span,
    /// One line, lower-case start, no trailing period: what happens here.
    pub message: String,
}

/// A file that could not be checked (or a path that could not be walked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}: {problem}", self.location())]
pub struct FileError {
    /// The file, as given or discovered (empty when the error is about no file).
    pub path: PathBuf,
    /// 1-based line, when the error has a place in the file.
    pub line: Option<usize>,
    /// 1-based column (characters), when the error has a place in the file.
    pub column: Option<usize>,
    /// What went wrong (serialized as its one-line message).
    #[serde(rename = "message", serialize_with = "as_message")]
    pub problem: FileProblem,
}

impl FileError {
    /// An error about a whole file.
    pub fn new(path: PathBuf, problem: FileProblem) -> FileError {
        FileError {
            path,
            line: None,
            column: None,
            problem,
        }
    }

    /// An error at a place in the file (1-based line and column).
    pub fn at(path: PathBuf, line: usize, column: usize, problem: FileProblem) -> FileError {
        FileError {
            path,
            line: Some(line),
            column: Some(column),
            problem,
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

fn as_message<S: serde::Serializer>(problem: &FileProblem, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(problem)
}

/// What stopped a file or path from being checked; each message is one line, lower-case
/// start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FileProblem {
    /// A path given on the command line does not exist.
    #[error("no such file or directory")]
    NotFound,
    /// A symbolic link whose target does not exist.
    #[error("is a broken symbolic link")]
    BrokenSymlink,
    /// The operating system refused to read it (its error text, shortened by the walker's
    /// `io_message`).
    #[error("cannot read: {0}")]
    Unreadable(String),
    /// A path given on the command line is neither a regular file nor a folder.
    #[error("not a regular file or folder")]
    NotFileOrFolder,
    /// A FIFO, socket or device named like a Rust file: reading it could block forever.
    #[error("not a regular file")]
    NotRegularFile,
    /// A symbolic link that points back to a folder above it.
    #[error("symbolic link loop: points back to {}", .0.display())]
    SymlinkLoop(PathBuf),
    /// Another problem of the folder walk (as the `ignore` crate words it).
    #[error("{0}")]
    Walk(String),
    /// Larger than the configured `max-file-size`.
    #[error("skipped: the file is {size} bytes, more than the limit of {limit} (max-file-size)")]
    TooLarge {
        /// The file's size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// Not UTF-8 (the error's line and column say where the first invalid byte is).
    #[error("not valid UTF-8")]
    NotUtf8,
    /// Not Rust syntax (the parser's message).
    #[error("cannot parse: {0}")]
    Syntax(String),
    /// A Cargo.toml whose dependencies cannot be read (the TOML parser's message, one line).
    #[error("cannot read dependencies: {0}")]
    Dependencies(String),
    /// The thread pool could not be started (nothing was checked).
    #[error("cannot start worker threads: {0}")]
    NoThreads(String),
    /// A bug: the parser or the analysis (`stage`) panicked on this file.
    #[error("internal error: the {stage} panicked: {message}")]
    Panicked {
        /// `parser` or `analysis`.
        stage: &'static str,
        /// The panic's message.
        message: String,
    },
    /// A bug: a worker thread ended without answering.
    #[error("internal error: a worker thread stopped unexpectedly")]
    WorkerLost,
    /// A worker thread could not be started (its files were checked by the others).
    #[error("internal error: cannot start a worker thread: {0}")]
    WorkerNotStarted(String),
}
