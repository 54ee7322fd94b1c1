//! Project configuration: `oomcheck.toml`, `[workspace.metadata.oomcheck]`,
//! `[package.metadata.oomcheck]`, found by walking up from the scanned path.
