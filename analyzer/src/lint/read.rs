//! Reading a planned file into memory (with the size limit and the UTF-8 check), and parsing
//! what was read.
use super::plan::Candidate;
use crate::analysis::SourceFile;
use crate::config::LoadedConfig;
use crate::finding::{FileError, FileProblem};
use crate::walk::io_message;

/// A file read into memory.
pub(crate) struct Loaded {
    /// The file.
    pub cand: Candidate,
    /// Its text.
    pub text: String,
    /// `infallible-alloc` is checked in it (it is inside an OOM-safe scope).
    pub infallible_alloc_checked: bool,
}

/// Read a file with the size limit and the UTF-8 check.
pub(crate) fn read_file(cand: Candidate, cfg: &LoadedConfig) -> Result<Loaded, FileError> {
    let max_size = cfg.max_file_size();
    let err = |problem| FileError::new(cand.path.clone(), problem);
    let unreadable = |e: std::io::Error| err(FileProblem::Unreadable(io_message(&e)));
    let meta = std::fs::metadata(&cand.path).map_err(unreadable)?;
    if !meta.is_file() {
        // Reading a FIFO would block until someone writes to it.
        return Err(err(FileProblem::NotRegularFile));
    }
    if meta.len() > max_size {
        return Err(err(FileProblem::TooLarge {
            size: meta.len(),
            limit: max_size,
        }));
    }
    let bytes = std::fs::read(&cand.path).map_err(unreadable)?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Loaded {
            infallible_alloc_checked: cfg
                .infallible_alloc_checked(&cand.abs, cand.crate_root.as_deref()),
            cand,
            text,
        }),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&valid[line_start..])
                .chars()
                .count()
                + 1;
            Err(FileError::at(
                cand.path.clone(),
                line,
                column,
                FileProblem::NotUtf8,
            ))
        }
    }
}

/// Parse one file into a [`SourceFile`].
pub(crate) fn parse(l: Loaded) -> Result<SourceFile, FileError> {
    SourceFile::parse(
        l.cand.path,
        l.text,
        l.cand.is_test_file,
        l.infallible_alloc_checked,
    )
}
