#!/usr/bin/python3
# A virt-manager-style connect with python3-libvirt: listAllDomains, then the
# XML of every domain, timed. Usage: connect.py URI LABEL
import sys, time, libvirt

libvirt.registerErrorHandler(lambda *a: None, None)
uri, label = sys.argv[1], sys.argv[2]
t = time.monotonic()
c = libvirt.open(uri)
doms = c.listAllDomains(0)
for d in doms:
    d.XMLDesc(0)
el = time.monotonic() - t
c.close()
print("%s domains=%d xml_reads=%d seconds=%.3f" % (label, len(doms), len(doms), el))
