#!/usr/bin/env bash
# Round trips per second of CONNECT_GET_LIB_VERSION against the in-process
# RPC server (internal/rpc): a raw minimal client over a real UNIX socket
# (1 and 8 clients, one call in flight each), then python3-libvirt
# getLibVersion() from 1 and 8 processes, as reference 10 measured libvirtd
# (about 5000/s for one client and 9500/s for eight).
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run '^$' -bench 'RoundTrip' -benchtime "${N:-20000}x" -count "${COUNT:-3}" ./internal/rpc
go test -run '^$' -bench 'PythonLibvirt' -benchtime 1x -count "${COUNT:-3}" ./internal/rpc/rpctest
