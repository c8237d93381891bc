#!/usr/bin/env python3
"""Count the APIs of libvirt's VirtualBox drivers that virtvboxd answers.

Usage: scripts/vbox-api-coverage.py LIBVIRT_SRC   (a libvirt 9.0 source tree; run from the project root)

For each of libvirt's three vbox driver tables (hypervisor in src/vbox/vbox_common.c, network in vbox_network.c,
storage in vbox_storage.c) it maps every entry to its REMOTE procedure through the facts file
(internal/rpc/libvirt-9.0-facts.txt) and looks the procedure up in the handler sets of internal/rpc/remote*.go.
Entries with no procedure are answered inside the client library and never reach a daemon.
"""
import glob
import re
import sys

PRE_OPEN = ("procConnectOpen", "procConnectClose", "procConnectSupportsFeature", "procAuthList")
TABLES = [("hypervisor", "vbox_common.c", "virHypervisorDriver vboxCommonDriver"),
          ("network", "vbox_network.c", "virNetworkDriver vboxNetworkDriver"),
          ("storage", "vbox_storage.c", "virStorageDriver vboxStorageDriver")]


def main(src):
    facts = open("internal/rpc/libvirt-9.0-facts.txt").read().split("[admin]")[0]
    api_procs = {}
    for line in facts.splitlines():
        m = re.match(r"(\d+) (\w+) (vir\w+) ", line)
        if m:
            api_procs.setdefault(m.group(3), []).append(int(m.group(1)))
    gen = open("internal/rpc/protocol.gen.go").read()
    numbers = {m.group(1): int(m.group(2)) for m in re.finditer(r"\b(proc\w+)\s*=\s*(\d+)", gen)}
    handled = {numbers[n] for n in PRE_OPEN}
    for f in glob.glob("internal/rpc/remote*.go"):
        if not f.endswith("_test.go"):
            handled |= {numbers[m] for m in re.findall(r"^\s*(proc\w+):", open(f).read(), re.M)}
    for name, path, decl in TABLES:
        text = open(f"{src}/src/vbox/{path}").read()
        start = text.index(decl)
        entries = [f for f, _ in re.findall(r"\.(\w+)\s*=\s*(\w+)", text[start:text.index("};", start)])
                   if f != "name"]
        works, missing, local = [], [], []
        for field in entries:
            procs = api_procs.get("vir" + field[0].upper() + field[1:])
            if not procs:
                local.append(field)
            elif any(p in handled for p in procs):
                works.append(field)
            else:
                missing.append(field)
        print(f"{name}: {len(entries)} entries, {len(works)} of {len(works) + len(missing)} with a procedure work")
        if missing:
            print("  not answered:", " ".join(missing))
        if local:
            print("  answered by the client library (no procedure):", " ".join(local))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
