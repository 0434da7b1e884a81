#!/usr/bin/env python3
"""Builds quantkv-fuzz's seed corpus from the lit tests.

Every .mlir file given, or under the given directories, is split at `// -----` (the
--split-input-file separator) and each chunk that contains code is written to
OUT as <sha1>.mlir. Lit directives (RUN/CHECK/expected-* lines and other
comments) are dropped: they carry no IR and only lengthen the inputs. Both
valid and invalid chunks are kept: the invalid ones put the fuzzer right at the
verifier's edges.
"""

import hashlib
import os
import re
import sys

SPLIT = re.compile(r"^// -----\s*$", re.MULTILINE)


def chunks(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    for part in SPLIT.split(text):
        lines = [l for l in part.splitlines() if not l.lstrip().startswith("//")]
        body = "\n".join(lines).strip()
        if body:
            yield body + "\n"


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: make-seed-corpus.py OUT (DIR|FILE)...")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    wanted = set()
    paths = []
    for root in sys.argv[2:]:
        if os.path.isfile(root):
            paths.append(root)
        for dirpath, _, files in os.walk(root):
            paths += [os.path.join(dirpath, n) for n in sorted(files)
                      if n.endswith(".mlir")]
    for path in paths:
        for body in chunks(path):
            data = body.encode()
            digest = hashlib.sha1(data).hexdigest()
            wanted.add(digest + ".mlir")
            target = os.path.join(out, digest + ".mlir")
            if not os.path.exists(target):
                with open(target, "wb") as f:
                    f.write(data)
    # Seeds of tests that changed or went away are stale: drop them.
    for name in os.listdir(out):
        if name.endswith(".mlir") and name not in wanted:
            os.remove(os.path.join(out, name))
    print(f"quantkv-fuzz: {len(wanted)} seeds in {out}")


if __name__ == "__main__":
    main()
