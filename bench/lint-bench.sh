#!/usr/bin/env bash
# Benchmark `oomcheck lint` against a full `syn` parse of the same corpus.
#
# The corpus: the sources of real published crates (and their dependencies), fetched with cargo
# into the local cargo cache through a throwaway project under target/, located with
# `cargo metadata`. Generated Windows bindings (windows*, winapi) are left out: they are
# enormous, generated, and would flatter the prefilter.
#
# Prints, from one run, MB/s and files/s of (a) reading + `syn::parse_file` of every file in
# parallel with no analysis and (b) `oomcheck lint --include-tests` (same files), and the ratio.
#
# Usage: bench/lint-bench.sh [--jobs N] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target=${CARGO_TARGET_DIR:-$root/target}
corpus=$target/bench-corpus
mkdir -p "$corpus/src"
cat > "$corpus/Cargo.toml" <<'TOML'
[package]
name = "oomcheck-bench-corpus"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
tokio = { version = "1", features = ["full"] }
syn = { version = "2", features = ["full", "visit", "visit-mut", "fold", "extra-traits"] }
regex = "1"
serde = { version = "1", features = ["derive"] }
serde_json = "1"
clap = { version = "4", features = ["derive"] }
hyper = { version = "1", features = ["full"] }
rustls = "0.23"
image = "0.25"
nalgebra = "0.33"
gimli = "0.31"
object = "0.36"
wasmparser = "0.220"
cranelift-codegen = "0.114"
rayon = "1"
hashbrown = "0.15"
smallvec = "1"
fallible_collections = "0.5"
chrono = "0.4"
toml_edit = "0.22"

[workspace]
TOML
echo 'fn main() {}' > "$corpus/src/main.rs"

echo "fetching the corpus into the cargo cache…" >&2
cargo fetch --manifest-path "$corpus/Cargo.toml" --quiet
dirs=$(cargo metadata --manifest-path "$corpus/Cargo.toml" --format-version 1 \
  | python3 -c '
import json, os, sys
m = json.load(sys.stdin)
for p in m["packages"]:
    if p["name"].startswith(("windows", "winapi")) or p["name"] == "oomcheck-bench-corpus":
        continue
    print(os.path.dirname(p["manifest_path"]))
')

echo "building the benchmark (release)…" >&2
cargo build --release --quiet -p oomcheck-analyzer --example lint_bench
# shellcheck disable=SC2086
"$target/release/examples/lint_bench" "$@" $dirs
