#!/usr/bin/env bash
# The 200-VM connect of issue 10 with python3-libvirt: bin/virtvboxd against
# bin/vboxsim seeded with 200 machines (20 running), VBoxManage at LATENCY a
# call (default 150ms); a cold connect (fresh daemon), a warm one right after,
# a warm one with another client connected throughout, and the VBoxManage
# processes each started (vboxsim log --count). Run from the project root
# after make build, as root (it runs everything as a throwaway user):
#   bench/connect200.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd); bin=${BIN_DIR:-$top/bin}
user=vvdconn; id $user >/dev/null 2>&1 || useradd -m $user
w=/tmp/$user; rm -rf $w; mkdir -p $w/bin $w/run $w/conf/libvirt $w/sim
install -m 755 $bin/virtvboxd $bin/vboxsim $w/bin/; ln -s $w/bin/vboxsim $w/bin/VBoxManage
install -m 644 $top/bench/connect.py $w/
echo "vboxmanage_path = \"$w/bin/VBoxManage\"" > $w/conf/libvirt/virtvboxd.conf
chown -R $user: $w; chmod 700 $w/run
as() { su $user -s /bin/bash -c "cd $w && export HOME=/home/$user XDG_RUNTIME_DIR=$w/run XDG_CONFIG_HOME=$w/conf VBOXSIM_HOME=$w/sim VBOXSIM_LATENCY=${LATENCY:-150ms} PATH=/usr/sbin:/usr/bin:/bin && $*"; }
as "VBOXSIM_LATENCY=0 $w/bin/vboxsim seed --count ${COUNT:-200} --running ${RUNNING:-20} >/dev/null"
sock=$w/run/libvirt/virtvboxd-sock; uri="vbox:///session?socket=$sock"
as "$w/bin/virtvboxd -p $w/daemon.pid >$w/daemon.log 2>&1 &"
trap 'kill "$(cat $w/daemon.pid 2>/dev/null)" 2>/dev/null || true' EXIT # also when interrupted
for _ in $(seq 200); do [ -S $sock ] && [ -s $w/daemon.pid ] && break; sleep 0.05; done
count() { as "$w/bin/vboxsim log --count"; }
run() { # LABEL
  local before after; before=$(count)
  out=$(as "python3 connect.py '$uri' $1"); after=$(count)
  echo "$out vboxmanage=$((after - before))"
}
run cold
run warm
run warm2
as "python3 -c 'import libvirt,time; c=libvirt.open(\"$uri\"); time.sleep(4)'" & other=$!
sleep 1.5
run warm-other-client-connected
wait $other
