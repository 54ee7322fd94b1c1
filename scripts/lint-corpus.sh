#!/usr/bin/env bash
# Zero-panic corpus run: lint every crate of the workspace's dependency tree (dependencies and
# dev-dependencies of all workspace members, all platforms, located with `cargo metadata`),
# each crate root separately with test code included, in a release build. Prints one line per
# crate and a TOTAL line (crates, Rust files, lines, files checked/parsed, findings, errors,
# panics, time). Fails on any panic or internal error.
#
# Usage: scripts/lint-corpus.sh [extra args for the test binary]
set -euo pipefail
cd "$(dirname "$0")/.."
# The sources must be in the local cargo cache: fetch them (a no-op when they are).
cargo fetch --quiet
exec cargo test --release -p oomcheck-analyzer --test dependency_corpus -- \
    --ignored --exact full_dependency_corpus_has_no_panics --nocapture "$@"
