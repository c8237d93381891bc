#!/usr/bin/env bash
# What watching for domain events costs (docs/events.md): bin/virtvboxd
# against bin/vboxsim seeded with 200 machines (20 running), default watch
# interval (1 s) and linger (5 s). For SECONDS each (default 60), counts the
# VBoxManage processes the daemon starts (vboxsim's invocation log):
#   idle        no client at all
#   listener    one `virsh -r event --all --loop`, nothing changing
#   changing    the same listener while a running VM is paused or resumed by
#               hand every 2.5 s (the by-hand calls are not counted)
# and prints them per minute. Run from the project root after make build:
#   bench/events-cost.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd); bin=${BIN_DIR:-$top/bin}; secs=${SECONDS_EACH:-60}
w=$(mktemp -d /tmp/vvd-evcost.XXXXXX); trap 'kill $(cat $w/pid 2>/dev/null) 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf $w' EXIT
mkdir -p $w/vbin $w/s; ln -s $bin/vboxsim $w/vbin/VBoxManage
export VBOXSIM_HOME=$w/sim VBOXSIM_LATENCY=${LATENCY:-60ms} VBOXSIM_COLD_START=0 LC_ALL=C LIBVIRT_AUTOSTART=0
VBOXSIM_LATENCY=0 $bin/vboxsim seed --count ${COUNT:-200} --running ${RUNNING:-20} >/dev/null
printf 'unix_sock_dir = "%s"\nvboxmanage_path = "%s"\n' $w/s $w/vbin/VBoxManage > $w/conf
XDG_RUNTIME_DIR=$w/x XDG_CONFIG_HOME=$w/xc $bin/virtvboxd -f $w/conf -p $w/pid >$w/log 2>&1 &
for _ in $(seq 200); do [ -S $w/s/virtvboxd-sock ] && [ -s $w/pid ] && break; sleep 0.05; done
uri="vbox:///session?socket=$w/s/virtvboxd-sock"
daemon_calls() { grep -c . $w/sim/invocations.log 2>/dev/null || echo 0; }
per_min() { echo $(( ($2 - $1) * 60 / secs )); }
a=$(daemon_calls); sleep $secs; b=$(daemon_calls)
echo "idle: $(per_min $a $b) VBoxManage/min"
virsh -r -c "$uri" event --all --loop >$w/events 2>&1 & lpid=$!
sleep 7 # the first listing, and past any linger
a=$(daemon_calls); sleep $secs; b=$(daemon_calls)
echo "listener: $(per_min $a $b) VBoxManage/min"
vm=$($w/vbin/VBoxManage list runningvms | head -1 | sed 's/^"\(.*\)" {.*/\1/')
a=$(daemon_calls); by=0; end=$((SECONDS + secs))
while [ $SECONDS -lt $end ]; do
  $w/vbin/VBoxManage controlvm "$vm" pause; sleep 2.5; $w/vbin/VBoxManage controlvm "$vm" resume; sleep 2.5; by=$((by + 2))
done
b=$(daemon_calls)
echo "changing: $(per_min $a $((b - by))) VBoxManage/min ($(grep -c lifecycle $w/events) events seen)"
kill $lpid
