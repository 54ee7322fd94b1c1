//! The per-file analysis: classify how each allocation call's result is used.
