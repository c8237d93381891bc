#!/usr/bin/env bash
# Quick look at python3-libvirt's own ceiling on this machine: its getLibVersion() loop against bench/clientfloor,
# a server that does no work. bench/compare.sh measures the same thing as the benchmark user, beside the daemons.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/vvdfloor.XXXXXX)
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
(cd "$top" && go build -o "$work/clientfloor" ./bench/clientfloor)
"$work/clientfloor" "$work/s" & pid=$!
for _ in $(seq 100); do [ -S "$work/s" ] && break; sleep 0.01; done
N=${N:-20000} /usr/bin/python3 - "vbox:///session?socket=$work/s" <<'PY'
import os, sys, time, libvirt
n = int(os.environ["N"])
c = libvirt.open(sys.argv[1])
t = time.monotonic()
for _ in range(n):
    c.getLibVersion()
print("python3-libvirt getLibVersion() against a no-op server, 1 client: %.0f/s" % (n / (time.monotonic() - t)))
c.close()
PY
