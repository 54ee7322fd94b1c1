//! The driver: paths + configuration → findings and per-file errors.
