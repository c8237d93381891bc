#!/usr/bin/python3
# An unmodified python3-libvirt lifecycle, as a user would write it:
# define, start, suspend, resume, shutdown, undefine. argv[1] is the URI.
import sys
import time

import libvirt

XML = """<domain type='vbox'>
  <name>%s</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
  <features><acpi/></features>
  <devices><interface type='user'><model type='82540em'/></interface></devices>
</domain>"""


def wait_state(dom, want, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        state, _ = dom.state()
        if state == want:
            return
        time.sleep(0.1)
    raise SystemExit("domain %s stuck in state %d, want %d" % (dom.name(), dom.state()[0], want))


def lifecycle(conn, name):
    dom = conn.defineXML(XML % name.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;"))
    assert dom.name() == name, (dom.name(), name)
    assert not dom.isActive()
    assert dom.isPersistent()
    same = conn.lookupByUUIDString(dom.UUIDString())
    assert same.name() == name
    dom.create()
    wait_state(dom, libvirt.VIR_DOMAIN_RUNNING)
    assert dom.ID() > 0
    assert conn.lookupByID(dom.ID()).name() == name
    dom.suspend()
    assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    dom.resume()
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    dom.shutdown()
    wait_state(dom, libvirt.VIR_DOMAIN_SHUTOFF)
    dom.undefine()
    try:
        conn.lookupByName(name)
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN, e.get_error_code()
        assert name in e.get_error_message(), e.get_error_message()
    else:
        raise SystemExit("%r still defined after undefine" % name)
    print("ok", name)


def main():
    conn = libvirt.open(sys.argv[1])
    assert conn.getType() == "VBOX", conn.getType()
    names = sys.argv[2:] or ["py-lifecycle"]
    for name in names:
        lifecycle(conn, name)
    # Errors come back as libvirt errors with libvirt's codes.
    try:
        conn.defineXML("<domain type='vbox'><name>bad")
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_XML_ERROR, (e.get_error_code(), e.get_error_message())
    else:
        raise SystemExit("malformed XML was accepted")
    conn.close()


main()
