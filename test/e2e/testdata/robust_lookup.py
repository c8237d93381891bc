#!/usr/bin/python3
# Looks a domain up by name (or by UUID with --uuid) and prints "ok NAME" or
# "error CODE MESSAGE", so that tests see libvirt's error code, which virsh
# hides behind its own "failed to get domain" line. argv[1] is the URI.
import sys

import libvirt


def main():
    conn = libvirt.open(sys.argv[1])
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    key = sys.argv[-1]
    try:
        if "--uuid" in sys.argv[2:-1]:
            dom = conn.lookupByUUIDString(key)
        else:
            dom = conn.lookupByName(key)
        print("ok", dom.name())
    except libvirt.libvirtError as e:
        print("error", e.get_error_code(), e.get_error_message())
    conn.close()


main()
