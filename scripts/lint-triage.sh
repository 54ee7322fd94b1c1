#!/usr/bin/env bash
# Real-code triage run: lint the pinned crates of scripts/triage/corpus.tsv and compare the
# error-level findings with the hand triage in scripts/triage/triage.tsv.
#
# The crates are fetched with cargo into the local cargo cache (nothing is vendored): a
# throwaway manifest under target/triage-corpus/ depends on each `crate = "=version"` (renamed,
# so two versions of one crate can coexist), `cargo fetch` downloads them, and `cargo metadata`
# locates their folders. `oomcheck lint --format json .` then runs inside each crate's folder
# (default options: test code skipped), and scripts/triage/compare.py prints precision
# (TP / all error-level findings, by rule and by FP pattern), NEW findings that need triage,
# VANISHED ones (a vanished TP is a known true bug lost), and the known bugs still MISSED.
#
# Usage: scripts/lint-triage.sh [--keep DIR]
#   OOMCHECK=/path/to/oomcheck   use this binary instead of building one (debug) from this tree
#   --keep DIR                   also write each crate's JSON report into DIR
# Exit status: 0 no known true bug lost, 1 a TP vanished, 2 bad input or a crate not checked.
set -euo pipefail
# OOMCHECK may be relative to the caller's folder, or a command name on PATH: make it absolute
# before moving, since the linter runs inside each crate's folder.
if [[ -n ${OOMCHECK:-} ]]; then
  if [[ $OOMCHECK == */* ]]; then
    OOMCHECK=$(cd "$(dirname "$OOMCHECK")" && pwd)/$(basename "$OOMCHECK")
  else
    OOMCHECK=$(command -v "$OOMCHECK")
  fi
fi
cd "$(dirname "$0")/.."
root=$(pwd)
here=$root/scripts/triage
target=${CARGO_TARGET_DIR:-$root/target}
corpus=$target/triage-corpus
keep=
if [[ ${1:-} == --keep ]]; then
  keep=${2:?--keep needs a folder}
  mkdir -p "$keep"
fi

if [[ -z ${OOMCHECK:-} ]]; then
  echo "building oomcheck (debug)…" >&2
  cargo build --quiet --locked --bin oomcheck
  OOMCHECK=$target/debug/oomcheck
fi

# The throwaway manifest: one renamed, exactly pinned dependency per corpus line. Default
# features are off: only the crate's own sources are linted, so fewer dependencies to fetch.
mkdir -p "$corpus/src" "$corpus/reports"
rm -f "$corpus"/reports/*.json
{
  printf '[package]\nname = "oomcheck-triage-corpus"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n'
  grep -v '^#' "$here/corpus.tsv" | grep -v '^[[:space:]]*$' | while IFS=$'\t' read -r name version _; do
    printf 'triage-%s-%s = { package = "%s", version = "=%s", default-features = false }\n' \
      "$name" "${version//./-}" "$name" "$version"
  done
  printf '\n[workspace]\n'
} > "$corpus/Cargo.toml"
echo 'fn main() {}' > "$corpus/src/main.rs"

echo "fetching the corpus into the cargo cache…" >&2
cargo fetch --quiet --manifest-path "$corpus/Cargo.toml"
cargo metadata --format-version 1 --manifest-path "$corpus/Cargo.toml" > "$corpus/metadata.json"

# `name version folder` of each pinned crate, in corpus order.
python3 - "$here/corpus.tsv" "$corpus/metadata.json" > "$corpus/dirs.txt" <<'PY'
import json, os, sys
meta = json.load(open(sys.argv[2]))
folders = {(p["name"], p["version"]): os.path.dirname(p["manifest_path"]) for p in meta["packages"]}
for line in open(sys.argv[1]):
    if line.strip() and not line.startswith("#"):
        name, version = line.split("\t")[:2]
        if (name, version) not in folders:
            sys.exit(f"{name} {version} was not resolved by cargo")
        print(name, version, folders[(name, version)])
PY

while read -r name version dir; do
  report=$corpus/reports/$name-$version.json
  # Exit status 1 only means "findings"; 2 (a file not checked) is reported by compare.py
  # from the report's `errors`. Anything else is a crash.
  rc=0
  (cd "$dir" && "$OOMCHECK" lint --format json .) > "$report" || rc=$?
  if (( rc > 2 )); then
    echo "error: oomcheck lint exited with status $rc on $name $version ($dir)" >&2
    exit 2
  fi
  if [[ -n $keep ]]; then cp "$report" "$keep/"; fi
done < "$corpus/dirs.txt"

exec python3 "$here/compare.py" "$here/triage.tsv" "$here/corpus.tsv" "$corpus/reports"
