#!/usr/bin/env bash
# First the go-libvirt comparison (../shared/bench/rpcload/compare.sh: the same Go client for libvirtd's test driver
# with 20 domains and virtvboxd with 20 simulated VMs; lookup, list, XML and version at 1 and 8 clients), so that the
# ratios measure the servers and not python; set RPCLOAD=0 to skip it. Then, for the python3-libvirt figures beside
# them, runs ../shared/bench/compare-daemons.py for libvirt's libvirtd (Debian's libvirt-daemon, test driver) and for
# bin/virtvboxd (against bin/vboxsim) in one sitting, as a throwaway unprivileged user, and prints both medians and
# the ratios our targets are stated in. Needs root (to create the user) and Debian's libvirt-daemon, libvirt-clients
# and python3-libvirt. Environment: RUNS (default 5), N (calls per client, default 20000), BENCH_USER.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
script=${COMPARE_SCRIPT:-$top/../shared/bench/compare-daemons.py}
user=${BENCH_USER:-vvdbench}
[ "$(id -u)" -eq 0 ] || { echo "bench/compare.sh: run as root (it creates the user $user)" >&2; exit 1; }
[ -x /usr/sbin/libvirtd ] || { echo "bench/compare.sh: /usr/sbin/libvirtd missing (apt-get install libvirt-daemon)" >&2; exit 1; }
if [ "${RPCLOAD:-1}" != 0 ]; then
  echo "== go-libvirt (rpcload): libvirtd test driver vs virtvboxd"
  "${RPCLOAD_COMPARE:-$top/../shared/bench/rpcload/compare.sh}" "$top" "${N:-20000}"
fi
id "$user" >/dev/null 2>&1 || useradd -m "$user"
home=$(getent passwd "$user" | cut -d: -f6)
work=/tmp/$user
rm -rf "$work"; mkdir -p "$work/bin" "$work/run" "$work/conf/libvirt" "$work/sim"
install -m 0755 "$top/bin/virtvboxd" "$top/bin/vboxsim" "$work/bin/"
(cd "$top" && go build -o "$work/bin/clientfloor" ./bench/clientfloor)
install -m 0644 "$script" "$work/compare-daemons.py"
ln -s "$work/bin/vboxsim" "$work/bin/VBoxManage"
echo "vboxmanage_path = \"$work/bin/VBoxManage\"" > "$work/conf/libvirt/virtvboxd.conf"
chown -R "$user": "$work"; chmod 700 "$work/run"

as_user() {
  su "$user" -s /bin/bash -c "cd '$work' && export HOME='$home' XDG_RUNTIME_DIR='$work/run' XDG_CONFIG_HOME='$work/conf' \
    VBOXSIM_HOME='$work/sim' VBOXSIM_LATENCY=\${VBOXSIM_LATENCY:-0} RUNS='${RUNS:-5}' N='${N:-20000}' PATH=/usr/sbin:/usr/bin:/bin && $*"
}
as_user "'$work/bin/vboxsim' seed --count 20 --running 4 >/dev/null"

echo "== libvirtd 9.0 (test driver through the daemon)"
out=$(as_user "/usr/bin/python3 compare-daemons.py /usr/sbin/libvirtd '$work/run/libvirt/libvirt-sock' \
  'test+unix:///default?socket=$work/run/libvirt/libvirt-sock'")
echo "$out"
lv=$(echo "$out" | grep '^MEDIAN')
echo "== virtvboxd"
out=$(as_user "/usr/bin/python3 compare-daemons.py '$work/bin/virtvboxd' '$work/run/libvirt/virtvboxd-sock' \
  'vbox:///session?socket=$work/run/libvirt/virtvboxd-sock'")
echo "$out"
vv=$(echo "$out" | grep '^MEDIAN')

echo "== clientfloor (a server that does no work: the client's own ceiling)"
out=$(as_user "/usr/bin/python3 compare-daemons.py '$work/bin/clientfloor' '$work/run/libvirt/virtvboxd-sock' \
  'vbox:///session?socket=$work/run/libvirt/virtvboxd-sock'")
echo "$out"
fl=$(echo "$out" | grep '^MEDIAN')

/usr/bin/python3 - "$lv" "$vv" "$fl" <<'PY'
import re, sys
def parse(line):
    return {k: float(v) for k, v in re.findall(r'(\w+)=([0-9.]+)', line)}
lv, vv, fl = parse(sys.argv[1]), parse(sys.argv[2]), parse(sys.argv[3])
print("libvirtd   : %s" % sys.argv[1])
print("virtvboxd  : %s" % sys.argv[2])
print("clientfloor: %s" % sys.argv[3])
print("ratios (virtvboxd / libvirtd): start_to_ready %.2fx (target <= 0.2), idle_rss %.2fx (target <= 0.4), "
      "rpc_1client %.2fx (target >= 5), rpc_8clients %.2fx (target >= 4), virsh_list_all %.2fx" % (
      vv['start_to_ready'] / lv['start_to_ready'], vv['idle_rss'] / lv['idle_rss'],
      vv['rpc_1client'] / lv['rpc_1client'], vv['rpc_8clients_total'] / lv['rpc_8clients_total'],
      vv['virsh_list_all'] / lv['virsh_list_all']))
print("the client's ceiling (clientfloor / libvirtd): rpc_1client %.2fx, rpc_8clients %.2fx; virtvboxd reaches "
      "%.0f%% and %.0f%% of it" % (fl['rpc_1client'] / lv['rpc_1client'], fl['rpc_8clients_total'] / lv['rpc_8clients_total'],
      100 * vv['rpc_1client'] / fl['rpc_1client'], 100 * vv['rpc_8clients_total'] / fl['rpc_8clients_total']))
PY
