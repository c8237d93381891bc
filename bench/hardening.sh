#!/usr/bin/env bash
# bench/hardening.sh: the figures issue 9 (hardening against local clients)
# asks for, from one run. Nothing is asserted: the summary prints each figure
# beside its target, for docs/performance.md ("Hardening figures").
#
#   1 announce   RSS with 100 read-only clients (uid nobody) that each announce
#                a 32 MiB packet and send 32 bytes: peak while connected, 3 s
#                after they close
#   2 busy       `virsh version` and root's `virsh list --all` while 24
#                read-only go-libvirt clients (nobody) loop over lookup, list,
#                dominfo and dumpxml against a simulator at 2 s a call
#   3 stop       SIGTERM -> exit with a client that pipelines calls and never
#                reads its replies (nobody), and the exit status
#   4 load       64 clients x 1000 mixed reads (getLibVersion, lookup, list,
#                dominfo, dumpxml), 20 machines, no latency: errors, p50/p99,
#                calls/s, RSS and open fds before/during/after
#   5 soak       SOAK seconds of mixed reads as root (rw socket), nobody and
#                daemon (ro socket), root also starting and destroying two
#                machines, simulator at 60 ms a call: errors, p50/p99, RSS and
#                fds every 10 s
#
# Usage, as root from the project root after `make build`:
#   bench/hardening.sh            # SOAK=300 (about 7 minutes in all)
#   SOAK=20 bench/hardening.sh    # a trial run
# Every daemon runs as root with unix_sock_dir in a temporary directory under
# /tmp, one daemon a scenario; everything is removed on exit. Needs go (to
# build bench/hardload), python3, virsh and virt-admin.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
soak=${SOAK:-300}
if [ "$(id -u)" != 0 ]; then
	echo "bench/hardening.sh: run as root (clients run as nobody and daemon)" >&2
	exit 1
fi
for f in "$top/bin/virtvboxd" "$top/bin/vboxsim"; do
	[ -x "$f" ] || { echo "bench/hardening.sh: $f missing: run make build" >&2; exit 1; }
done
for t in python3 virsh virt-admin go; do
	command -v "$t" >/dev/null || { echo "bench/hardening.sh: $t missing" >&2; exit 1; }
done

work=$(mktemp -d /tmp/vvdharden.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # the clients of nobody and daemon reach the sockets through it
(cd "$top" && go build -o "$work/hardload" ./bench/hardload)
install -m 0644 "$top/test/e2e/testdata/hostile.py" "$work/hostile.py"

python3 - "$top" "$work" "$soak" <<'PY'
import os, signal, socket, statistics, subprocess, sys, threading, time

top, work, soak = sys.argv[1], sys.argv[2], int(sys.argv[3])
NOBODY, DAEMON = 65534, 1
started = []  # every process we started, for the clean-up


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def nfds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def as_user(uid, argv, **kw):
    """Starts argv as uid (same gid), without root's supplementary groups."""
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": work, "LIBVIRT_AUTOSTART": "0"}
    p = subprocess.Popen(argv, user=uid, group=uid, extra_groups=[], env=env, cwd=work, **kw)
    started.append(p)
    return p


class Daemon:
    def __init__(self, name, latency="0", vms=20, conf=""):
        self.dir = d = os.path.join(work, name)
        os.makedirs(os.path.join(d, "s"))
        os.makedirs(os.path.join(d, "vbin"))
        os.chmod(d, 0o755)
        os.chmod(os.path.join(d, "s"), 0o755)
        os.symlink(os.path.join(top, "bin", "vboxsim"), os.path.join(d, "vbin", "VBoxManage"))
        self.rw, self.ro = f"{d}/s/virtvboxd-sock", f"{d}/s/virtvboxd-sock-ro"
        self.admin, self.log = f"{d}/s/virtvboxd-admin-sock", f"{d}/virtvboxd.log"
        sim = {"VBOXSIM_HOME": f"{d}/vbox", "VBOXSIM_COLD_START": "0"}
        seed = dict(os.environ, **sim, VBOXSIM_LATENCY="0")
        for i in range(1, vms + 1):
            subprocess.run([f"{d}/vbin/VBoxManage", "createvm", "--name", f"vm{i:02d}", "--register"],
                           env=seed, check=True, stdout=subprocess.DEVNULL)
        with open(f"{d}/virtvboxd.conf", "w") as f:
            f.write(f'unix_sock_dir = "{d}/s"\nvboxmanage_path = "{d}/vbin/VBoxManage"\n'
                    f'log_outputs = "1:file:{self.log}"\n{conf}')
        nsock = f"{d}/notify"
        n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        n.bind(nsock)
        n.settimeout(10)
        env = dict(os.environ, **sim, VBOXSIM_LATENCY=latency, NOTIFY_SOCKET=nsock,
                   XDG_RUNTIME_DIR=f"{d}/xdg-run", XDG_CONFIG_HOME=f"{d}/xdg-conf")
        self.proc = subprocess.Popen([f"{top}/bin/virtvboxd", "-f", f"{d}/virtvboxd.conf", "-p", f"{d}/pid"],
                                     env=env, stderr=open(f"{d}/stderr", "w"))
        started.append(self.proc)
        msg = n.recv(4096)
        n.close()
        if msg != b"READY=1":
            raise SystemExit(f"{name}: daemon said {msg!r}")
        self.pid = self.proc.pid

    def vbox_calls(self):
        try:
            with open(f"{self.dir}/vbox/invocations.log") as f:
                return sum(1 for _ in f)
        except FileNotFoundError:
            return 0

    def rss(self):
        return status(self.pid, "VmRSS")

    def fds(self):
        return nfds(self.pid)

    def virsh(self, *args):
        t = time.perf_counter()
        r = subprocess.run(["virsh", "-c", f"vbox:///session?socket={self.rw}", *args],
                           env=dict(os.environ, LC_ALL="C", LIBVIRT_AUTOSTART="0"),
                           capture_output=True, text=True)
        took = time.perf_counter() - t
        if r.returncode != 0:
            raise SystemExit(f"virsh {' '.join(args)}: {r.stderr}")
        return took

    def nclients(self):
        r = subprocess.run(["virt-admin", "-q", "-c", f"virtvboxd:///system?socket={self.admin}",
                            "srv-clients-info", "virtvboxd"], capture_output=True, text=True, check=True)
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) == 3 and f[0] == "nclients":
                return int(f[2])
        raise SystemExit("srv-clients-info: " + r.stdout)

    def until_clients(self, cond):
        # The number of connected clients is a state no event announces: poll.
        deadline = time.time() + 30
        while not cond(self.nclients()):
            if time.time() > deadline:
                raise SystemExit("timed out waiting for the daemon's client count")
            time.sleep(0.05)

    def stop(self):
        t = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        return time.perf_counter() - t, rc


class Sampler(threading.Thread):
    """Samples the daemon's VmRSS and open fds every period seconds."""

    def __init__(self, d, period):
        super().__init__(daemon=True)
        self.d, self.period, self.samples, self.halt = d, period, [], threading.Event()
        self.t0 = time.time()

    def run(self):
        while True:
            self.samples.append((time.time() - self.t0, self.d.rss(), self.d.fds()))
            if self.halt.wait(self.period):
                return

    def stop(self):
        self.halt.set()
        self.join()
        return self.samples


def hardload(uid, sock, *args):
    return as_user(uid, [f"{work}/hardload", "-socket", sock, *args], stdout=subprocess.PIPE, text=True)


def figures(p):
    out, _ = p.communicate()
    if p.returncode != 0:
        raise SystemExit(f"hardload exited {p.returncode}: {out}")
    kv = {}
    for field in out.split():
        k, _, v = field.partition("=")
        kv[k] = v
    kv["first_error"] = out.split("first_error=", 1)[1].strip()
    return kv


def hostile(mode, sock, n=0):
    p = as_user(NOBODY, ["python3", f"{work}/hostile.py", mode, sock, str(n)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if line != "ready":
        raise SystemExit(f"hostile.py {mode}: {line!r}")
    return p


def release(p):
    p.stdin.close()
    p.wait(timeout=30)


rows = []  # (item, figure, value, target)
ms = lambda s: f"{s * 1000:.0f} ms"
mb = lambda kb: f"{kb / 1024:.1f} MiB"
load_start = loadavg()
print(f"load average at start: {load_start}", flush=True)

try:
    # 1: 100 clients announcing 32 MiB each.
    print("1/5 announce", flush=True)
    d = Daemon("announce", vms=1)
    idle = d.rss()
    s = Sampler(d, 0.05)
    s.start()
    h = hostile("announce", d.ro, 100)
    d.until_clients(lambda n: n >= 100)
    connected = d.rss()
    release(h)
    samples = s.stop()
    time.sleep(3)
    after = d.rss()
    peak = max(r for _, r, _ in samples)
    rows += [("1 announce", "RSS idle before", mb(idle), ""),
             ("1 announce", "RSS peak while 100 x 32 MiB announced (sampled every 50 ms)", mb(peak), "no 32 MiB a client"),
             ("1 announce", "VmHWM of the daemon", mb(status(d.pid, "VmHWM")), ""),
             ("1 announce", "RSS with the 100 connected (after the count reached 100)", mb(connected), ""),
             ("1 announce", "RSS 3 s after they closed", mb(after), "")]
    d.stop()

    # 2: root's calls while 24 read-only clients hammer a 2 s VirtualBox.
    print("2/5 busy (simulator at 2 s a call)", flush=True)
    d = Daemon("busy", latency="2s")
    d.virsh("version")  # the version is read once (one VBoxManage call) and cached
    d.virsh("list", "--all")
    idle_ver = [d.virsh("version") for _ in range(5)]
    idle_lst = [d.virsh("list", "--all") for _ in range(5)]
    readers = hardload(NOBODY, d.ro, "-clients", "24", "-duration", "40s")
    d.until_clients(lambda n: n >= 24)
    time.sleep(4)  # let the readers' calls queue up behind VBoxManage
    ver, lst = [], []
    for _ in range(5):
        ver.append(d.virsh("version"))
        lst.append(d.virsh("list", "--all"))
    r = figures(readers)
    rows += [("2 busy", "idle daemon first: virsh version / virsh list --all, median of 5",
              f"{ms(statistics.median(idle_ver))} / {ms(statistics.median(idle_lst))}", ""),
             ("2 busy", "virsh version, 5 runs: median / max", f"{ms(statistics.median(ver))} / {ms(max(ver))}", "< 100 ms"),
             ("2 busy", "root's virsh list --all, 5 runs: median / max", f"{ms(statistics.median(lst))} / {ms(max(lst))}", "< 2100 ms"),
             ("2 busy", "the 24 readers: calls, errors, p50 / p99",
              f"{r['calls']}, {r['errors']}, {r['p50_ms']} / {r['p99_ms']} ms", "")]
    d.stop()

    # 3: SIGTERM with a never-reading client.
    print("3/5 stop", flush=True)
    d = Daemon("stop", vms=1)
    h = hostile("noread", d.ro)
    took, rc = d.stop()
    release(h)
    rows += [("3 stop", "SIGTERM -> exit with a never-reading client; exit status", f"{ms(took)}; {rc}", "prompt; 0")]

    # 4: 64 x 1000 mixed reads.
    print("4/5 load 64 x 1000", flush=True)
    d = Daemon("load")
    d.virsh("list", "--all")
    before = (d.rss(), d.fds())
    calls0 = d.vbox_calls()
    s = Sampler(d, 0.25)
    s.start()
    r = figures(hardload(0, d.rw, "-clients", "64", "-n", "1000"))
    samples = s.stop()
    time.sleep(3)
    after = (d.rss(), d.fds())
    rows += [("4 load", "calls, errors", f"{r['calls']}, {r['errors']}" + (f" ({r['first_error']})" if r["errors"] != "0" else ""), "0 errors"),
             ("4 load", "p50 / p99, calls/s; VBoxManage processes",
              f"{r['p50_ms']} / {r['p99_ms']} ms, {r['rate']}/s; {d.vbox_calls() - calls0}", ""),
             ("4 load", "RSS before / peak during / 3 s after",
              f"{mb(before[0])} / {mb(max(x for _, x, _ in samples))} / {mb(after[0])}", ""),
             ("4 load", "open fds before / peak during / 3 s after",
              f"{before[1]} / {max(x for _, _, x in samples)} / {after[1]}", "")]
    _, rc = d.stop()
    rows.append(("4 load", "exit status after SIGTERM", str(rc), "0"))

    # 5: soak.
    print(f"5/5 soak {soak} s", flush=True)
    d = Daemon("soak", latency="60ms")
    s = Sampler(d, 10)
    s.start()
    common = ["-clients", "4", "-think", "50ms", "-duration", f"{soak}s"]
    groups = {"root, rw socket, + start/destroy": hardload(0, d.rw, *common, "-lifecycle", "vm19,vm20"),
              "nobody, ro socket": hardload(NOBODY, d.ro, *common),
              "daemon, ro socket": hardload(DAEMON, d.ro, *common)}
    res = {g: figures(p) for g, p in groups.items()}
    samples = s.stop()
    time.sleep(3)
    samples.append((time.time() - s.t0, d.rss(), d.fds()))
    for g, r in res.items():
        rows.append(("5 soak", f"{g}: calls, errors, p50 / p99" + (", lifecycle calls" if r["lifecycle"] != "0" else ""),
                     f"{r['calls']}, {r['errors']}, {r['p50_ms']} / {r['p99_ms']} ms"
                     + (f", {r['lifecycle']}" if r["lifecycle"] != "0" else "")
                     + (f" ({r['first_error']})" if r["errors"] != "0" else ""), "0 errors"))
    rows.append(("5 soak", "VBoxManage processes", str(d.vbox_calls()), ""))
    rss = [x for _, x, _ in samples]
    fds = [x for _, _, x in samples]
    rows += [("5 soak", "RSS every 10 s, MiB (last: 3 s after)", " ".join(f"{x / 1024:.1f}" for x in rss), "flat"),
             ("5 soak", "open fds every 10 s (last: 3 s after)", " ".join(str(x) for x in fds), "flat")]
    _, rc = d.stop()
    rows.append(("5 soak", "exit status after SIGTERM", str(rc), "0"))
finally:
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()

print()
print(f"load average: {load_start} at start, {loadavg()} at the end ({os.cpu_count()} CPUs)")
print("| scenario | figure | measured | target |")
print("|---|---|---|---|")
for row in rows:
    print("| " + " | ".join(row) + " |")
PY
