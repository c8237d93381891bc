#!/usr/bin/env bash
# 200 VMs, 20 running, prometheus-libvirt-exporter scraped every 15 s for 60 s; counts VBoxManage runs.
set -e
W=$(mktemp -d); B=${BIN:-$(cd "$(dirname "$0")/.." && pwd)/bin}
mkdir -p $W/vbox $W/vbin $W/s
ln -s $B/vboxsim $W/vbin/VBoxManage
export VBOXSIM_HOME=$W/vbox VBOXSIM_LATENCY=0 VBOXSIM_COLD_START=0 XDG_RUNTIME_DIR=$W/xdg XDG_CONFIG_HOME=$W/xdgc
$B/vboxsim seed --count 200 --running 20 >/dev/null
printf 'unix_sock_dir = "%s"\nvboxmanage_path = "%s"\nlog_outputs = "1:file:%s"\n' $W/s $W/vbin/VBoxManage $W/log > $W/conf
$B/virtvboxd -f $W/conf -p $W/pid & DPID=$!
for i in $(seq 50); do [ -S $W/s/virtvboxd-sock ] && break; sleep 0.1; done
URI="vbox:///session?socket=$W/s/virtvboxd-sock"
prometheus-libvirt-exporter --web.listen-address=127.0.0.1:19177 --libvirt.uri="$URI" >/dev/null 2>&1 & EPID=$!
sleep 1
curl -s 127.0.0.1:19177/metrics >/dev/null   # warm-up scrape (first metrics setup)
sleep 15
before=$(wc -l < $W/vbox/invocations.log)
for i in 1 2 3 4; do curl -s 127.0.0.1:19177/metrics > $W/m.txt; sleep 15; done
after=$(wc -l < $W/vbox/invocations.log)
echo "per minute with a 15 s scraper: $((after-before))"; echo "online: $(VBOXSIM_HOME=$W/vbox $B/vboxsim list runningvms | wc -l)"
grep -c '^libvirt_up 1' $W/m.txt || true
tail -n +$((before+1)) $W/vbox/invocations.log | sed 's/.*argv=\["\([a-z]*\)".*/\1/' | sort | uniq -c
before=$(wc -l < $W/vbox/invocations.log); sleep 30; after=$(wc -l < $W/vbox/invocations.log)
echo "30 s with the scraper idle (connection open): $((after-before))"
kill $EPID $DPID; wait $EPID $DPID 2>/dev/null || true
rm -rf $W
