#!/usr/bin/env bash
# `make run`: run the freshly built daemon in the foreground. With a real VirtualBox on the machine it drives it;
# without one it drives the project's VBoxManage simulator (bin/vboxsim) with a seeded demo inventory, and says so.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/bin
state=${VIRTVBOXD_RUN_DIR:-$top/.run}
mkdir -p "$state"
conf=$state/virtvboxd.conf

if [ "$(id -u)" -eq 0 ]; then
  sock=/run/libvirt/virtvboxd-sock; uri="vbox:///system"; admin="virtvboxd:///system"
else
  sock=${XDG_RUNTIME_DIR:-$HOME/.cache}/libvirt/virtvboxd-sock; uri="vbox:///session"; admin="virtvboxd:///session"
fi

vbm=$(command -v VBoxManage 2>/dev/null || true)
if [ -n "$vbm" ] && "$vbm" --version >/dev/null 2>&1; then
  echo "virtvboxd: using VirtualBox's $vbm ($("$vbm" --version | tail -n 1))"
  : > "$conf"
else
  export VBOXSIM_HOME=$state/vboxsim
  ln -sf "$bin/vboxsim" "$state/VBoxManage"
  if [ ! -s "$VBOXSIM_HOME/.seeded" ]; then
    mkdir -p "$VBOXSIM_HOME"
    VBOXSIM_LATENCY=0 "$bin/vboxsim" seed --count 12 --running 3 >/dev/null
    date > "$VBOXSIM_HOME/.seeded"
  fi
  echo "virtvboxd: no VirtualBox on this machine: running against the VBoxManage simulator"
  echo "           (bin/vboxsim as $state/VBoxManage, state in $VBOXSIM_HOME, seeded with a demo inventory)"
  echo "vboxmanage_path = \"$state/VBoxManage\"" > "$conf"
fi
echo "virtvboxd: config $conf; connect with:"
echo "    virsh -c '$uri?socket=$sock' list --all"
echo "    virt-admin -c '$admin?socket=${sock%-sock}-admin-sock' srv-list"
echo "virtvboxd: Ctrl-C stops the daemon (running guests keep running)."
exec "$bin/virtvboxd" -v -f "$conf" "$@"
