#!/usr/bin/env python3
"""Compare `oomcheck lint --format json` output on the triage corpus with the triage file.

Usage: compare.py TRIAGE_TSV CORPUS_TSV FINDINGS_DIR

FINDINGS_DIR holds one `CRATE-VERSION.json` per corpus crate (the JSON report of
`oomcheck lint --format json .` run inside the crate's folder, so paths are relative to it).

A finding is identified by exactly (crate, version, file:line, rule): the crates are pinned,
so lines are stable and nothing fuzzier is needed. Only error-level findings are compared.
A triage line reported as a *related location* of an error-level finding of the same rule
(`related` in the JSON: the other sites of a function whose `Option` return type turns
allocation failure into `None`) counts as reported: a known bug folded into another finding is
not lost. Precision counts findings only, so a related location neither adds to it nor
counts against it.

Prints precision (TP / all error-level findings, broken down by rule and by FP pattern),
NEW findings (reported, not in the triage file: they need triage), VANISHED findings (in the
triage file as TP/FP/intended, no longer reported), missed-TP entries now reported (promote
them to TP), and the known true bugs still MISSED.

Exit status: 0 when no known true bug was lost; 1 when a TP vanished; 2 on bad input (an
unreadable report, a malformed triage line, a lint run that could not check a file).
"""
import collections
import json
import os
import sys

VERDICTS = ("TP", "FP", "intended", "missed-TP")
PATTERNS = ("1", "2", "3", "4", "5", "6", "7", "8", "other", "-")
PATTERN_NAMES = {
    "1": "infallible twin",
    "2": "no error channel",
    "3": "explicit OOM-ignore marker",
    "4": "constructor-inferred receiver",
    "5": "method-call receiver of a wrapper",
    "6": "wrapper returning the crate's own error",
    "7": "result through if/match/closure/.ok()/pointer copy/macro",
    "8": "bare method name on the crate's own type",
    "other": "other",
    "-": "-",
}


class Entry:
    """One line of the triage file."""

    def __init__(self, fields, lineno):
        if len(fields) != 7:
            raise ValueError(f"triage line {lineno}: expected 7 tab-separated fields, got {len(fields)}")
        self.crate, self.version, self.location, self.rule, self.verdict, self.pattern, self.reason = fields
        if self.verdict not in VERDICTS:
            raise ValueError(f"triage line {lineno}: verdict {self.verdict!r} is not one of {VERDICTS}")
        if self.pattern not in PATTERNS:
            raise ValueError(f"triage line {lineno}: pattern {self.pattern!r} is not one of {PATTERNS}")
        if ":" not in self.location:
            raise ValueError(f"triage line {lineno}: location {self.location!r} is not file:line")

    @property
    def key(self):
        return (self.crate, self.version, self.location, self.rule)

    def show(self):
        return f"{self.crate}@{self.version} {self.location} {self.rule}"


def sort_key(key):
    """Crate, version, file, numeric line, rule: so that line 231 sorts before line 1018."""
    crate, version, location, rule = key
    path, _, line = location.rpartition(":")
    return (crate, version, path, int(line) if line.isdigit() else 0, rule)


def read_tsv(path):
    """Non-empty, non-comment lines of a tab-separated file, with their line numbers."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.strip() and not line.startswith("#"):
                yield lineno, line.split("\t")


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    triage_path, corpus_path, findings_dir = argv[1:]
    try:
        entries = [Entry(fields, n) for n, fields in read_tsv(triage_path)]
        corpus = [(fields[0], fields[1]) for _, fields in read_tsv(corpus_path)]
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    by_key = {}
    for e in entries:
        if e.key in by_key:
            print(f"error: duplicate triage entry {e.show()}", file=sys.stderr)
            return 2
        by_key[e.key] = e

    # Error-level findings reported now, keyed like the triage entries, and the related
    # locations they carry (same rule), each with the finding it is folded into.
    reported = {}
    related = {}
    bad_input = False
    for crate, version in corpus:
        path = os.path.join(findings_dir, f"{crate}-{version}.json")
        try:
            with open(path, encoding="utf-8") as f:
                report = json.load(f)
        except (OSError, ValueError) as e:
            print(f"error: no usable lint report for {crate}@{version}: {e}", file=sys.stderr)
            bad_input = True
            continue
        for err in report.get("errors", []):
            print(f"error: {crate}@{version}: the linter could not check: {err}", file=sys.stderr)
            bad_input = True
        for f in report["findings"]:
            if f["level"] != "error":
                continue
            key = (crate, version, f"{f['path']}:{f['line']}", f["rule"])
            reported[key] = f["message"]
            for r in f.get("related", []):
                related[(crate, version, f"{r['path']}:{r['line']}", f["rule"])] = key

    known_crates = set(corpus)
    for e in entries:
        if (e.crate, e.version) not in known_crates:
            print(f"error: triage entry for a crate not in the corpus: {e.show()}", file=sys.stderr)
            bad_input = True

    def seen(key):
        """Reported as a finding, or as a related location of one."""
        return key in reported or key in related

    new = sorted((k for k in reported if k not in by_key), key=sort_key)
    vanished = sorted(
        (e for e in entries if e.verdict != "missed-TP" and not seen(e.key)), key=lambda e: sort_key(e.key)
    )
    caught = sorted(
        (e for e in entries if e.verdict == "missed-TP" and seen(e.key)), key=lambda e: sort_key(e.key)
    )
    missed = sorted(
        (e for e in entries if e.verdict == "missed-TP" and not seen(e.key)), key=lambda e: sort_key(e.key)
    )
    folded = sorted((e for e in entries if e.key in related and e.key not in reported), key=lambda e: sort_key(e.key))

    # Precision: a reported finding counts as true when triaged TP or missed-TP (a known bug
    # that is now caught); untriaged findings count against it until someone triages them.
    def is_true(key):
        e = by_key.get(key)
        return e is not None and e.verdict in ("TP", "missed-TP")

    total = len(reported)
    true = sum(1 for k in reported if is_true(k))
    pct = f"{100.0 * true / total:.1f} %" if total else "n/a"
    print(f"error-level findings: {total} on {len(corpus)} crates")
    print(f"precision: {true}/{total} = {pct} (TP / all error-level findings; {len(new)} untriaged)")

    print("\nby rule (true / all):")
    per_rule = collections.Counter(k[3] for k in reported)
    per_rule_true = collections.Counter(k[3] for k in reported if is_true(k))
    for rule in sorted(per_rule):
        print(f"  {rule:28} {per_rule_true[rule]:3} / {per_rule[rule]}")

    print("\nnot true, by verdict and pattern:")
    per_pattern = collections.Counter()
    for k in reported:
        e = by_key.get(k)
        if e is None:
            per_pattern[("untriaged", "-")] += 1
        elif not is_true(k):
            per_pattern[(e.verdict, e.pattern)] += 1
    for (verdict, pattern), n in sorted(per_pattern.items()):
        print(f"  {verdict:9} pattern {pattern:5} {PATTERN_NAMES.get(pattern, pattern):55} {n:3}")

    known_bugs = [e for e in entries if e.verdict in ("TP", "missed-TP")]
    found_bugs = [e for e in known_bugs if seen(e.key)]
    print(f"\nknown true bugs reported: {len(found_bugs)}/{len(known_bugs)}")

    print(f"\nreported as related locations of another finding: {len(folded)}")
    for e in folded:
        primary = related[e.key]
        print(f"  {e.show()} [{e.verdict}] -> {primary[2]}")

    print(f"\nNEW findings (not in the triage file, need triage): {len(new)}")
    for k in new:
        print(f"  {k[0]}@{k[1]} {k[2]} {k[3]}: {reported[k]}")

    lost = [e for e in vanished if e.verdict == "TP"]
    print(f"\nVANISHED findings: {len(vanished)}")
    for e in vanished:
        tag = "KNOWN TRUE BUG LOST" if e.verdict == "TP" else f"was {e.verdict}, pattern {e.pattern}"
        print(f"  {e.show()} [{tag}]: {e.reason}")

    print(f"\nmissed-TP now reported (promote to TP): {len(caught)}")
    for e in caught:
        print(f"  {e.show()} (pattern {e.pattern}): {e.reason}")

    per_missed = collections.Counter(e.pattern for e in missed)
    summary = ", ".join(f"pattern {p}: {n}" for p, n in sorted(per_missed.items()))
    print(f"\nMISSED known true bugs (verdict missed-TP, not reported): {len(missed)}" + (f" ({summary})" if summary else ""))
    for e in missed:
        print(f"  {e.show()} (pattern {e.pattern}): {e.reason}")

    if bad_input:
        return 2
    if lost:
        print(f"\nFAILED: {len(lost)} known true bug(s) lost", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
