#!/usr/bin/python3
# A script that manages a fleet of VirtualBox hosts the way libvirt scripts
# do: one vbox+ssh:// URI per host, read-only where it only looks.
# argv[1:] are "URI=MACHINE" pairs: each URI must list MACHINE. The first URI
# is also opened read-only, and a change through that connection must be
# refused. Prints one line per host.
import sys

import libvirt

pairs = [a.rsplit("=", 1) for a in sys.argv[1:]]
for uri, machine in pairs:
    conn = libvirt.open(uri)
    names = sorted(d.name() for d in conn.listAllDomains())
    if machine not in names:
        raise SystemExit("%s: %s not in %s" % (uri, machine, names))
    print("%s %s %s" % (uri, conn.getType(), " ".join(names)))
    conn.close()

uri, machine = pairs[0]
ro = libvirt.openReadOnly(uri)
dom = ro.lookupByName(machine)
try:
    dom.setAutostart(1)
except libvirt.libvirtError as e:
    if e.get_error_code() != libvirt.VIR_ERR_OPERATION_DENIED:
        raise
    print("read-only %s: %s" % (uri, e.get_error_message()))
else:
    raise SystemExit("%s: read-only connection changed %s" % (uri, machine))
ro.close()
