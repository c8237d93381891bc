#!/usr/bin/python3
# python3-libvirt on snapshots of a running VM, as a user would write it:
# take (live), list, look up, revert, delete. argv[1] is the URI.
import sys
import time

import libvirt

XML = """<domain type='vbox'>
  <name>py-snap</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
</domain>"""


def wait_state(dom, want, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if dom.state()[0] == want:
            return
        time.sleep(0.1)
    raise SystemExit("domain stuck in state %d, want %d" % (dom.state()[0], want))


conn = libvirt.open(sys.argv[1])
dom = conn.defineXML(XML)
dom.create()
wait_state(dom, libvirt.VIR_DOMAIN_RUNNING)

first = dom.snapshotCreateXML(
    "<domainsnapshot><name>first</name><description>from python</description></domainsnapshot>",
    libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_LIVE)
assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING, "a live snapshot stopped the domain"
second = dom.snapshotCreateXML("<domainsnapshot><name>second</name></domainsnapshot>",
                               libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_LIVE)

names = sorted(s.getName() for s in dom.listAllSnapshots())
assert names == ["first", "second"], names
assert dom.snapshotNum() == 2
assert sorted(dom.snapshotListNames()) == ["first", "second"]
assert [s.getName() for s in first.listAllChildren()] == ["second"]
assert second.getParent().getName() == "first"
assert dom.snapshotCurrent().getName() == "second"
assert second.isCurrent() and not first.isCurrent()
assert dom.hasCurrentSnapshot()
assert "<description>from python</description>" in first.getXMLDesc()
assert "<state>running</state>" in first.getXMLDesc()
print("ok listed")

try:
    dom.snapshotLookupByName("missing")
    raise SystemExit("lookup of a missing snapshot succeeded")
except libvirt.libvirtError as e:
    assert e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT, e.get_error_code()
print("ok missing")

dom.revertToSnapshot(dom.snapshotLookupByName("first"))
assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING, dom.state()
assert dom.snapshotCurrent().getName() == "first"
dom.revertToSnapshot(first, libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED)
assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED, dom.state()
print("ok reverted")

first.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN)
assert dom.snapshotNum() == 0
assert not dom.hasCurrentSnapshot()
print("ok deleted")

dom.destroy()
dom.undefine()
print("ok done")
