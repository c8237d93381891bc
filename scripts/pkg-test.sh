#!/usr/bin/env bash
# pkg-test.sh DEBDIR: tests the built Debian packages on this machine, as root.
# Installs virtvboxd and virtvboxd-sim from DEBDIR, runs the daemon the way
# systemd would (its installed socket units through systemd-socket-activate,
# its installed ExecStart), reaches it with the default URIs, checks that virsh
# autostarts the installed binary for a session, upgrades over itself while a
# simulated guest runs, then purges and checks that nothing is left behind.
#
# systemd is not PID 1 on the test machines, so the maintainer scripts' calls to
# deb-systemd-invoke and systemctl go to a stand-in that records them; the test
# asserts the recorded requests and carries each one out itself (KillMode=process:
# a stop signals the daemon's main process only; RemoveOnStop= as the unit says).
#
# It refuses to run where virtvboxd is already installed or its system socket
# is live: it installs and purges the package. Everything it started or
# installed is stopped and purged on exit, failed or not.
set -euo pipefail

debdir=$(realpath "${1:?usage: pkg-test.sh DEBDIR}")
unitdir=/lib/systemd/system
socket_units=(virtvboxd.socket virtvboxd-ro.socket virtvboxd-admin.socket)
start_time=$(date +%s)

say() { echo "pkg-test: $*"; }
fail() {
  echo "pkg-test: FAIL: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || fail "run as root on a throwaway machine: the test installs and purges the virtvboxd package"
if dpkg-query -W -f='${db:Status-Status}' virtvboxd 2>/dev/null | grep -qv '^not-installed$'; then
  fail "virtvboxd is already installed here; the test would purge it (run it on a throwaway machine)"
fi
if [ -S /run/libvirt/virtvboxd-sock ] && timeout 5 nc -zU /run/libvirt/virtvboxd-sock 2>/dev/null; then
  fail "a daemon already listens on /run/libvirt/virtvboxd-sock"
fi
debs=("$debdir"/virtvboxd_*.deb "$debdir"/virtvboxd-sim_*.deb)
for f in "${debs[@]}"; do [ -f "$f" ] || fail "no package $f (make deb)"; done

work=$(mktemp -d /tmp/vvd-pkg.XXXXXX)
chmod 0711 "$work"
export VBOXSIM_HOME=$work/vbox VBOXSIM_LATENCY=0 VBOXSIM_COLD_START=0 LC_ALL=C LIBVIRT_AUTOSTART=0
unset VIRTD_PATH LIBVIRT_DEFAULT_URI LIBVIRT_ADMIN_DEFAULT_URI
main_pid=
session_pid=
made_systemd_dir=

# The stand-in for systemd's tools in the maintainer scripts: requests to the
# running manager are recorded; systemctl's offline work on the unit files
# (`systemctl --root=/ preset`, which deb-systemd-helper uses to enable) is done.
mkdir -p "$work/fakebin"
printf '#!/bin/sh\necho "deb-systemd-invoke $*" >>"%s/systemd-requests"\n' "$work" >"$work/fakebin/deb-systemd-invoke"
printf '#!/bin/sh\ncase "$*" in --root=*) exec /bin/systemctl "$@";; esac\necho "systemctl $*" >>"%s/systemd-requests"\n' \
  "$work" >"$work/fakebin/systemctl"
chmod +x "$work/fakebin/deb-systemd-invoke" "$work/fakebin/systemctl"
if [ ! -d /run/systemd/system ]; then
  mkdir -p /run/systemd/system
  made_systemd_dir=1
fi

cleanup() {
  local rc=$?
  set +e
  for p in $main_pid $session_pid; do
    kill -TERM "$p" 2>/dev/null && timeout 15 tail --pid="$p" -f /dev/null
  done
  if dpkg-query -W -f='${db:Status-Status}' virtvboxd virtvboxd-sim 2>/dev/null | grep -qv '^not-installed$'; then
    PATH=$work/fakebin:$PATH dpkg --purge virtvboxd virtvboxd-sim >/dev/null 2>&1
  fi
  rm -f /run/libvirt/virtvboxd-sock /run/libvirt/virtvboxd-sock-ro /run/libvirt/virtvboxd-admin-sock
  [ -n "$made_systemd_dir" ] && rmdir /run/systemd/system 2>/dev/null && rmdir /run/systemd 2>/dev/null
  rm -rf "$work"
  if [ $rc -eq 0 ]; then say "PASS in $(($(date +%s) - start_time)) s"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# unit_values UNIT KEY prints the values of KEY= in the installed UNIT, one a line.
unit_values() { sed -n "s/^$2=//p" "$unitdir/$1"; }

# requests prints what the maintainer scripts asked of systemd in the last dpkg_step.
requests() { sed -n "s/^deb-systemd-invoke //p" "$work/systemd-requests" 2>/dev/null; }

dpkg_step() {
  : >"$work/systemd-requests"
  PATH=$work/fakebin:$PATH dpkg "$@" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg $*"; }
}

# start_service does what systemd does for the socket units and the service:
# the units' ListenStream paths are bound, and on the first connection the
# service's ExecStart (with its Environment= and EnvironmentFile=) is executed
# in the same process with the sockets passed under the units' names. The
# daemon logs at debug level to daemon.log, to show it adopted them.
start_service() {
  local listen=() names=() u path
  mkdir -p /run/libvirt
  for u in "${socket_units[@]}"; do
    path=$(unit_values "$u" ListenStream)
    rm -f "$path"
    listen+=(-l "$path")
    names+=("$u")
  done
  local envline execstart args=()
  envline=$(unit_values virtvboxd.service Environment)
  eval "local $envline"
  local envfile
  envfile=$(unit_values virtvboxd.service EnvironmentFile)
  envfile=${envfile#-}
  # shellcheck disable=SC1090
  [ -f "$envfile" ] && . "$envfile"
  execstart=$(unit_values virtvboxd.service ExecStart)
  for w in $execstart; do
    if [ "$w" = '$VIRTVBOXD_ARGS' ]; then
      # shellcheck disable=SC2206
      args+=($VIRTVBOXD_ARGS)
    else
      args+=("$w")
    fi
  done
  systemd-socket-activate "${listen[@]}" --fdname="$(
    IFS=:
    echo "${names[*]}"
  )" \
    -E VBOXSIM_HOME="$VBOXSIM_HOME" -E VBOXSIM_LATENCY=0 -E VBOXSIM_COLD_START=0 -E LIBVIRT_DEBUG=1 -E LIBVIRT_LOG_OUTPUTS=1:stderr \
    "${args[@]}" >"$work/daemon.log" 2>&1 &
  main_pid=$!
  for u in "${socket_units[@]}"; do
    path=$(unit_values "$u" ListenStream)
    timeout 10 sh -c "until [ -S '$path' ]; do sleep 0.01; done" || fail "$path was not bound"
    chmod "$(unit_values "$u" SocketMode)" "$path"
  done
}

# stop_service does what systemd does on `stop virtvboxd.service` with
# KillMode=process: SIGTERM to the main process alone, then wait for it.
stop_service() {
  kill -TERM "$main_pid"
  wait "$main_pid" || fail "virtvboxd exited with status $? after SIGTERM: $(tail -5 "$work/daemon.log")"
  main_pid=
}

# load_sockets reads the socket units as systemd loads them, on install.
declare -A remove_on_stop
load_sockets() {
  local u
  for u in "${socket_units[@]}"; do remove_on_stop[$u]="$(unit_values "$u" RemoveOnStop) $(unit_values "$u" ListenStream)"; done
}

# stop_sockets does what systemd does on `stop` of the socket units: it
# removes the socket files of the units that say RemoveOnStop=yes.
stop_sockets() {
  local u
  for u in "${socket_units[@]}"; do
    set -- ${remove_on_stop[$u]}
    if [ "$1" = yes ]; then rm -f "$2"; fi
  done
}

virsh_sys() { virsh -c vbox:///system "$@"; }
domstate() { virsh_sys domstate pkgtest | sed '/^$/d'; }
sim_stops() { grep -cE '"(poweroff|acpipowerbutton|savestate|reset)"' <<<"$(vboxsim log)" || true; }

say "lintian"
lintian --fail-on error "$debdir"/virtvboxd_*.changes >"$work/lintian.log" 2>&1 || {
  cat "$work/lintian.log" >&2
  fail "lintian reports errors"
}
sed 's/^/  /' "$work/lintian.log"

say "install ${debs[*]##*/}"
dpkg_step -i "${debs[@]}"
for f in /usr/sbin/virtvboxd /etc/libvirt/virtvboxd.conf /etc/default/virtvboxd /usr/share/man/man8/virtvboxd.8.gz \
  "$unitdir/virtvboxd.service" "${socket_units[@]/#/$unitdir/}" /usr/bin/vboxsim; do
  [ -e "$f" ] || fail "$f not installed"
done
if grep -iE 'vboxsim|vboxmanage' <<<"$(dpkg -L virtvboxd)"; then fail "the virtvboxd package ships a VBoxManage stand-in"; fi
if grep -i vboxmanage <<<"$(dpkg -L virtvboxd-sim)"; then fail "virtvboxd-sim puts a VBoxManage on the PATH"; fi
conffiles=$(dpkg-query -W -f='${Conffiles}' virtvboxd)
for f in /etc/libvirt/virtvboxd.conf /etc/default/virtvboxd; do
  grep -q "^ $f " <<<"$conffiles" || fail "$f is not a conffile: $conffiles"
done
for link in sockets.target.wants/virtvboxd.socket sockets.target.wants/virtvboxd-ro.socket \
  sockets.target.wants/virtvboxd-admin.socket multi-user.target.wants/virtvboxd.service; do
  [ -L "/etc/systemd/system/$link" ] || fail "/etc/systemd/system/$link: unit not enabled on install"
done
[ "$(requests)" = "start virtvboxd-admin.socket virtvboxd-ro.socket virtvboxd.socket" ] ||
  fail "on install the maintainer scripts asked systemd: $(requests)"
grep -q '^KillMode=process$' "$unitdir/virtvboxd.service" || fail "virtvboxd.service lost KillMode=process"
load_sockets

say "systemd-analyze verify"
systemd-analyze verify "$unitdir/virtvboxd.service" "${socket_units[@]/#/$unitdir/}" >"$work/verify.log" 2>&1 || {
  cat "$work/verify.log" >&2
  fail "systemd-analyze verify"
}
sed 's/^/  /' "$work/verify.log"

say "start as systemd would, with the simulator as VBoxManage"
echo 'vboxmanage_path = "/usr/bin/vboxsim"' >>/etc/libvirt/virtvboxd.conf
vboxsim createvm --name pkgtest --ostype Debian_64 --register >/dev/null
start_service
out=$(virsh_sys list --all)
grep -q ' pkgtest  *shut off' <<<"$out" || fail "virsh -c vbox:///system list --all: $out"
out=$(virsh -r -c vbox:///system list --all)
grep -q pkgtest <<<"$out" || fail "virsh -r -c vbox:///system list --all: $out"
admin=$(virt-admin -c virtvboxd:///system srv-list)
grep -q virtvboxd <<<"$admin" && grep -q admin <<<"$admin" || fail "virt-admin -c virtvboxd:///system srv-list: $admin"
[ "$(grep -c 'adopted activated socket' "$work/daemon.log")" = 3 ] ||
  fail "the daemon did not adopt the three activated sockets: $(cat "$work/daemon.log")"
virsh_sys start pkgtest >/dev/null
[ "$(domstate)" = running ] || fail "pkgtest is $(domstate) after virsh start"
stops_before=$(sim_stops)

say "virsh autostarts the installed daemon for a session (remote_mode direct, VIRTD_PATH unset)"
home=$work/home
mkdir -p "$home/.config/libvirt" "$home/run"
echo 'remote_mode = "direct"' >"$home/.config/libvirt/libvirt.conf"
echo 'vboxmanage_path = "/usr/bin/vboxsim"' >"$home/.config/libvirt/virtvboxd.conf"
chown -R nobody: "$home"
chmod 0700 "$home/run"
runuser -u nobody -- env -i PATH=/usr/bin:/bin HOME="$home" XDG_RUNTIME_DIR="$home/run" \
  XDG_CONFIG_HOME="$home/.config" VBOXSIM_LATENCY=0 virsh -c vbox:///session list --all >"$work/session.out" 2>&1 ||
  fail "virsh -c vbox:///session as nobody: $(cat "$work/session.out")"
session_pid=$(cat "$home/run/libvirt/virtvboxd.pid")
[ "$(readlink "/proc/$session_pid/exe")" = /usr/sbin/virtvboxd ] ||
  fail "the autostarted session daemon is $(readlink "/proc/$session_pid/exe"), not /usr/sbin/virtvboxd"
grep -q -- '--timeout=120' <<<"$(tr '\0' ' ' <"/proc/$session_pid/cmdline")" || fail "session daemon not started with --timeout=120"
kill -TERM "$session_pid"
timeout 15 tail --pid="$session_pid" -f /dev/null || fail "session daemon did not exit on SIGTERM"
session_pid=
[ ! -e "$home/run/libvirt/virtvboxd-sock" ] || fail "the session daemon left its socket behind"

say "upgrade over itself while pkgtest runs"
old_pid=$main_pid
dpkg_step -i "${debs[@]}"
grep -q '^vboxmanage_path = "/usr/bin/vboxsim"$' /etc/libvirt/virtvboxd.conf || fail "the upgrade lost the local change to the conffile"
# Started sockets are left alone (a start of an active unit does nothing); the
# service is restarted, never stopped first.
[ "$(requests)" = "$(printf 'start virtvboxd-admin.socket virtvboxd-ro.socket virtvboxd.socket\nrestart virtvboxd.service')" ] ||
  fail "on upgrade the maintainer scripts asked systemd: $(requests)"
[ "$(domstate)" = running ] || fail "pkgtest is $(domstate) after dpkg -i, before the restart"
stop_service # the requested restart
start_service
[ "$main_pid" != "$old_pid" ] || fail "the daemon was not restarted"
virsh_sys version >/dev/null
[ "$(grep -c 'adopted activated socket' "$work/daemon.log")" = 3 ] || fail "the restarted daemon did not adopt its sockets"
[ "$(domstate)" = running ] || fail "pkgtest is $(domstate) after the restart"
[ "$(sim_stops)" = "$stops_before" ] || fail "the upgrade stopped the guest: $(vboxsim log | tail -5)"

say "remove and purge"
dpkg_step --remove virtvboxd
[ "$(requests)" = "$(printf 'stop virtvboxd.service\nstop virtvboxd-admin.socket virtvboxd-ro.socket virtvboxd.socket')" ] ||
  fail "on remove the maintainer scripts asked systemd: $(requests)"
stop_service
stop_sockets
[ "$(vboxsim showvminfo pkgtest --machinereadable | sed -n 's/^VMState="\(.*\)"/\1/p')" = running ] ||
  fail "removing the package stopped the guest"
dpkg_step --purge virtvboxd virtvboxd-sim
if dpkg-query -W -f='${db:Status-Status}\n' virtvboxd virtvboxd-sim 2>/dev/null | grep -v '^not-installed$'; then
  fail "packages still known to dpkg after purge"
fi
left=$(find /usr/sbin/virtvboxd /usr/bin/vboxsim /etc/libvirt /etc/default/virtvboxd /etc/systemd /var/lib/systemd \
  /lib/systemd/system /run/libvirt /run/virtvboxd.pid /usr/share/doc /usr/share/man/man8 /var/lib/dpkg/info \
  -name 'virtvboxd*' -o -name 'vboxsim*' 2>/dev/null || true)
[ -z "$left" ] || fail "left behind after purge: $left"
