#!/usr/bin/python3
# is_updated.py URI NAME: prints "updated=<0|1> persistent=<0|1>" for the
# domain NAME (virDomainIsUpdated, virDomainIsPersistent).
import sys

import libvirt

conn = libvirt.open(sys.argv[1])
dom = conn.lookupByName(sys.argv[2])
print("updated=%d persistent=%d" % (dom.isUpdated(), dom.isPersistent()))
conn.close()
