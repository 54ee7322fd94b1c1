#!/usr/bin/env bash
# Sweep a real published crate's own test suite, unmodified, with `oomcheck run --preload`, and
# print the outcome table (one line per test, then totals). Not part of the default test suite:
# it fetches the crate and its dev-dependencies with cargo and builds them.
#
# Usage: scripts/preload-real-crate.sh [CRATE@VERSION] [oomcheck run flags]
#   default crate: fallible_collections@0.5.2 (fallible allocation throughout, small tests)
#   e.g. scripts/preload-real-crate.sh semver@1.0.28 --strategy fork
# Exit status: oomcheck's when it could not sweep (2), else 0 (findings are the point).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
spec=${1:-fallible_collections@0.5.2}
[ $# -gt 0 ] && shift
name=${spec%@*}
version=${spec#*@}

cargo build --quiet --bin oomcheck
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A throwaway package depending on the crate: `cargo metadata` downloads it and says where.
mkdir -p "$work/fetch/src"
printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n%s = "=%s"\n\n[workspace]\n' \
    "$name" "$version" > "$work/fetch/Cargo.toml"
: > "$work/fetch/src/lib.rs"
manifest=$(cd "$work/fetch" && cargo metadata --quiet --format-version 1 | python3 -c '
import json, sys
meta = json.load(sys.stdin)
print(next(p["manifest_path"] for p in meta["packages"] if p["name"] == sys.argv[1]))' "$name")
# A copy: the registry's sources are shared, and cargo writes a lock file beside the manifest.
cp -r "$(dirname "$manifest")" "$work/crate"

status=0
CARGO_TARGET_DIR="$repo/target/real-crates" target/debug/oomcheck run --preload \
    --manifest-path "$work/crate/Cargo.toml" --format json "$@" > "$work/records.jsonl" || status=$?
if [ "$status" -ge 2 ]; then
    exit "$status"
fi
python3 - "$work/records.jsonl" "$spec" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
outcomes = ["no-memory", "tolerated", "wrong-error", "corrupted", "panic", "abort", "hang"]
short = ["no-mem", "toler", "wrong", "corrupt", "panic", "abort", "hang"]
print(f"{sys.argv[2]}: {len(records)} tests swept with oomcheck run --preload")
print(f"{'test':<44} {'nalloc':>6} {'swept':>5} {'skip':>5} " + " ".join(f"{s:>7}" for s in short))
total = {o: 0 for o in outcomes}
nalloc = swept = skipped = 0
for r in records:
    p = r.get("preload", {})
    n_swept, n_skipped = len(p.get("swept", [])), len(p.get("skipped", []))
    nalloc += r.get("nalloc", 0); swept += n_swept; skipped += n_skipped
    counts = r.get("outcomes", {})
    for o in outcomes:
        total[o] += counts.get(o, 0)
    status = "" if r.get("status") == "swept" else f"  ({r['status']}: {r.get('message', '')})"
    print(f"{r['test'][:44]:<44} {r.get('nalloc', 0):>6} {n_swept:>5} {n_skipped:>5} "
          + " ".join(f"{counts.get(o, 0):>7}" for o in outcomes) + status)
print(f"{'TOTAL':<44} {nalloc:>6} {swept:>5} {skipped:>5} " + " ".join(f"{total[o]:>7}" for o in outcomes))
sites = {}
for r in records:
    for f in r.get("findings", []):
        s = f.get("site") or {}
        key = (f["outcome"], s.get("function", "?"), s.get("line"))
        sites.setdefault(key, []).append(f"{r['test']} #{f['alloc']}")
for (outcome, function, line), where in sorted(sites.items(), key=lambda kv: -len(kv[1])):
    print(f"  {outcome:<12} {function}:{line}  ({len(where)} indices, e.g. {where[0]})")
PY
