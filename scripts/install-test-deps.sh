#!/usr/bin/env bash
# Installs the stock libvirt clients and tools the end-to-end tests drive. Idempotent; quiet when all is there.
set -euo pipefail
need=()
command -v virsh >/dev/null 2>&1 || need+=(libvirt-clients)
command -v virt-admin >/dev/null 2>&1 || need+=(libvirt-clients)
/usr/bin/python3 -c 'import libvirt' >/dev/null 2>&1 || need+=(python3-libvirt)
command -v systemd-socket-activate >/dev/null 2>&1 || need+=(systemd)
command -v rst2man >/dev/null 2>&1 || need+=(python3-docutils)
# Real tools of test/e2e/tools_test.go: virt-install/virt-xml, Ansible with community.libvirt (Debian's
# ansible package ships the collection), and lxml, which community.libvirt.virt imports.
command -v virt-install >/dev/null 2>&1 || need+=(virtinst)
command -v virt-xml >/dev/null 2>&1 || need+=(virtinst)
command -v ansible-playbook >/dev/null 2>&1 || need+=(ansible)
[ -d /usr/lib/python3/dist-packages/ansible_collections/community/libvirt ] || need+=(ansible)
/usr/bin/python3 -c 'import lxml' >/dev/null 2>&1 || need+=(python3-lxml)
# make deb, scripts/pkg-test.sh and test/e2e/ssh_test.go: the package build, lintian, a loopback sshd,
# nc and virt-ssh-helper for vbox+ssh://.
command -v dh >/dev/null 2>&1 || need+=(debhelper)
command -v dpkg-buildpackage >/dev/null 2>&1 || need+=(dpkg-dev)
command -v lintian >/dev/null 2>&1 || need+=(lintian)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v nc >/dev/null 2>&1 || need+=(netcat-openbsd)
command -v virt-ssh-helper >/dev/null 2>&1 || need+=(libvirt-daemon) # ships virt-ssh-helper; starts nothing
# test/e2e/stats_test.go scrapes prometheus-libvirt-exporter run against the daemon.
command -v prometheus-libvirt-exporter >/dev/null 2>&1 || need+=(prometheus-libvirt-exporter)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing test dependencies: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Installing openssh-server must not start an sshd on port 22: the tests start their own on loopback.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
fi
apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null
