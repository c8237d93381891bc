#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a bounded time each ($1, default 10s).
set -euo pipefail
t=${1:-10s}
grep -rl --include='*_test.go' '^func Fuzz' . | while read -r f; do
  pkg=./$(dirname "${f#./}")
  grep -h '^func Fuzz' "$f" | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/' | while read -r fn; do
    echo "fuzz $pkg $fn ($t)"
    go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$t" "$pkg"
  done
done
