#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a bounded time each ($1, default 10s).
#
# Go's fuzzing coordinator sometimes ends a run that found nothing with a bare "context deadline exceeded" when
# -fuzztime runs out on a loaded machine. A real failure always leaves its input under testdata/fuzz/; such a
# run, and only such a run, is tried once more.
set -euo pipefail
t=${1:-10s}
status=0
while read -r f; do
  pkg=./$(dirname "${f#./}")
  for fn in $(grep -h '^func Fuzz' "$f" | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/'); do
    for try in 1 2; do
      echo "fuzz $pkg $fn ($t)"
      out=$(mktemp)
      if go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$t" "$pkg" 2>&1 | tee "$out"; test "${PIPESTATUS[0]}" -eq 0; then
        rm -f "$out"; break
      fi
      if [ "$try" -eq 1 ] && grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written to' "$out"; then
        echo "fuzz $pkg $fn: the coordinator timed out without a failing input; trying once more"
        rm -f "$out"; continue
      fi
      rm -f "$out"; status=1; break
    done
  done
done < <(grep -rl --include='*_test.go' '^func Fuzz' .)
exit $status
