#!/usr/bin/python3
# Reads the capabilities and sysinfo documents through python3-libvirt and
# parses them with Python's own XML parser, printing one line per fact that
# clients read. argv[1] is the URI.
import sys
import xml.etree.ElementTree as ET

import libvirt


def main():
    conn = libvirt.open(sys.argv[1])
    caps = ET.fromstring(conn.getCapabilities())
    print("host arch", caps.findtext("host/cpu/arch"))
    for guest in caps.findall("guest"):
        arch = guest.find("arch")
        domains = ",".join(d.get("type") for d in arch.findall("domain"))
        print("guest", guest.findtext("os_type"), arch.get("name"), arch.findtext("wordsize"), domains)
    si = ET.fromstring(conn.getSysinfo())
    print("sysinfo", si.get("type"), "processor", si.findtext("processor/entry[@name='version']"))


if __name__ == "__main__":
    main()
