#!/usr/bin/python3
# The console through python3-libvirt's virStream: argv[1] the URI, argv[2]
# the read-only URI, argv[3] the domain. Prints one line per step.
import sys, libvirt

libvirt.registerErrorHandler(lambda *a: None, None)
uri, ro_uri, name = sys.argv[1], sys.argv[2], sys.argv[3]
c = libvirt.open(uri)
d = c.lookupByName(name)


def echo(st, msg):
    st.send(msg)
    got = b""
    while msg not in got:
        b = st.recv(4096)
        if not b:
            return "eof after %r" % got
        got += b
    return "echo %r" % msg.decode()


first = c.newStream(0)
d.openConsole(None, first, 0)
print("first", echo(first, b"ping\r\n"), flush=True)
try:
    d.openConsole("serial0", c.newStream(0), 0)
    print("second opened", flush=True)
except libvirt.libvirtError as e:
    print("second refused:", e.get_error_code(), e.get_error_message(), flush=True)
forced = c.newStream(0)
d.openConsole(None, forced, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
try:
    print("first after force read", first.recv(4096), flush=True)
except libvirt.libvirtError as e:
    print("first after force:", e.get_error_message(), flush=True)
print("forced", echo(forced, b"pong\n"), flush=True)
forced.finish()
print("finished", flush=True)
again = c.newStream(0)
d.openConsole(None, again, 0)
print("again", echo(again, "\u00e9t\u00e9\n".encode()), flush=True)
again.finish()
ro = libvirt.openReadOnly(ro_uri)
try:
    ro.lookupByName(name).openConsole(None, ro.newStream(0), 0)
    print("read-only opened", flush=True)
except libvirt.libvirtError as e:
    print("read-only refused:", e.get_error_code(), e.get_error_message(), flush=True)
try:
    c.lookupByName(sys.argv[4]).openConsole(None, c.newStream(0), 0)
    print("plain opened", flush=True)
except libvirt.libvirtError as e:
    print("plain refused:", e.get_error_code(), e.get_error_message(), flush=True)
