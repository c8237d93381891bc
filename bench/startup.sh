#!/usr/bin/env bash
# bench/startup.sh: virtvboxd's start-up figures, for the notes (nothing is asserted).
#
#   size      ls -l of a `go build -trimpath -ldflags '-s -w'` binary
#   ready     exec -> READY=1 on $NOTIFY_SOCKET (sockets bound and listening)
#   auth      exec -> first AUTH_LIST reply on the rw socket (client polls every 0.2 ms)
#   rss       VmRSS 5 s after ready, idle
#   stop      SIGTERM -> process gone (idle)
#
# Usage: bench/startup.sh [RUNS]   (default 9; medians printed). Needs python3 and go.
set -euo pipefail
runs=${1:-9}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/vvdbench.XXXXXX)
trap 'rm -rf "$work"' EXIT

(cd "$top" && go build -trimpath -ldflags '-s -w' -o "$work/virtvboxd" ./cmd/virtvboxd)
echo "binary: $(ls -l "$work/virtvboxd" | awk '{print $5}') bytes ($(ls -l "$work/virtvboxd"))"

printf 'unix_sock_dir = "%s"\n' "$work" > "$work/virtvboxd.conf"
exec python3 - "$work" "$runs" <<'PY'
import os, socket, statistics, subprocess, sys, time

work, runs = sys.argv[1], int(sys.argv[2])
binary, conf = f"{work}/virtvboxd", f"{work}/virtvboxd.conf"
sock, pidf, nsock = f"{work}/virtvboxd-sock", f"{work}/virtvboxd.pid", f"{work}/notify"
AUTH_LIST = bytes.fromhex("0000001c2000808600000001000000420000000000000000" + "00000000")

def auth_list():
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(sock)
        s.sendall(AUTH_LIST)
        got = b""
        while len(got) < 36:
            chunk = s.recv(36 - len(got))
            if not chunk:
                return False
            got += chunk
        return True
    except OSError:
        return False
    finally:
        s.close()

ready, auth, rss, stop = [], [], [], []
for i in range(runs):
    for p in (nsock,):
        if os.path.exists(p):
            os.unlink(p)
    n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n.bind(nsock)
    env = dict(os.environ, NOTIFY_SOCKET=nsock)

    # exec -> READY=1
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary, "-f", conf, "-p", pidf], env=env, stderr=subprocess.DEVNULL)
    msg = n.recv(4096)
    ready.append(time.perf_counter() - t0)
    assert msg == b"READY=1", msg
    proc.terminate(); proc.wait()

    # exec -> first AUTH_LIST reply
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary, "-f", conf, "-p", pidf], env=env, stderr=subprocess.DEVNULL)
    while not auth_list():
        time.sleep(0.0002)
    auth.append(time.perf_counter() - t0)
    n.recv(4096)

    if i < 3:  # RSS takes 5 s a run: three samples are enough
        time.sleep(5)
        with open(f"/proc/{proc.pid}/status") as f:
            rss.append(int(next(l for l in f if l.startswith("VmRSS:")).split()[1]))

    t0 = time.perf_counter()
    proc.terminate(); proc.wait()
    stop.append(time.perf_counter() - t0)
    n.close()

ms = lambda xs: f"median {statistics.median(xs)*1000:.2f} ms (min {min(xs)*1000:.2f}, max {max(xs)*1000:.2f}, n={len(xs)})"
print(f"exec -> READY=1 (listening):   {ms(ready)}")
print(f"exec -> first AUTH_LIST reply: {ms(auth)}")
print(f"idle VmRSS 5 s after ready:    median {statistics.median(rss)} kB (samples {rss})")
print(f"SIGTERM -> exit (idle):        {ms(stop)}")
PY
