#!/usr/bin/python3
# Listens for domain events with python3-libvirt's default event loop
# (virEventRegisterDefaultImpl): lifecycle events print
# "lifecycle <domain> <event> <detail>", reboot events "reboot <domain>".
# The line "dereg" on stdin deregisters both callbacks and prints
# "deregistered"; the script exits at end of input.
import sys, threading, libvirt

libvirt.virEventRegisterDefaultImpl()
c = libvirt.openReadOnly(sys.argv[1])


def lifecycle(conn, dom, event, detail, opaque):
    print("lifecycle", dom.name(), event, detail, flush=True)


def reboot(conn, dom, opaque):
    print("reboot", dom.name(), flush=True)


ids = [c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lifecycle, None),
       c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, reboot, None)]


def loop():
    while True:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=loop, daemon=True).start()
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "dereg":
        for i in ids:
            c.domainEventDeregisterAny(i)
        ids = []
        print("deregistered", flush=True)
c.close()
