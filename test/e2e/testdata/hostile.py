#!/usr/bin/env python3
"""Hostile client for test/e2e/hostile_test.go, run as another uid (nobody).

Usage: hostile.py MODE SOCKET [N]

Modes (the test reads "ready" on stdout, then closes stdin to end a mode
that holds its connections):
  hold N       open N connections and hold them (exhausts descriptors)
  announce N   open N connections that each announce a 32 MiB packet and send
               only 32 bytes of it, and hold them
  memstats N   on one opened connection, call NODE_GET_MEMORY_STATS N times
               with nparams -1; print the first error message
  noread       open a connection and pipeline calls without ever reading,
               until the server stops reading; hold it
  xmlflood N   look up the domains hvm1..hvmN, then ask their XML, five per
               connection (the calls wait on a hung VBoxManage), and hold them
"""
import socket
import struct
import sys

REMOTE = 0x20008086


def call(proc, serial, payload=b""):
    return struct.pack(">IIIiIII", 28 + len(payload), REMOTE, 1, proc, 0, serial, 0) + payload


def xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError("server closed the connection")
        b += chunk
    return b


def recv_packet(s):
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    return recv_exact(s, n - 4)


def connect(path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    return s


def open_conn(path):
    s = connect(path)
    s.sendall(call(1, 0, struct.pack(">I", 1) + xdr_string("vbox:///session") + struct.pack(">I", 0)))
    hdr = recv_packet(s)
    status = struct.unpack(">I", hdr[20:24])[0]
    if status != 0:
        raise SystemExit("CONNECT_OPEN failed")
    return s


def error_message(pkt):
    # remote_error: code, domain, then the optional message string.
    body = pkt[24:]
    if struct.unpack(">I", body[8:12])[0] == 0:
        return ""
    (n,) = struct.unpack(">I", body[12:16])
    return body[16:16 + n].decode()


def ready_then_wait():
    print("ready", flush=True)
    sys.stdin.read()


def main():
    mode, path = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if mode == "hold":
        socks = [connect(path) for _ in range(n)]
        ready_then_wait()
    elif mode == "announce":
        socks = []
        for _ in range(n):
            s = connect(path)
            s.sendall(struct.pack(">I", 33554436) + b"\0" * 28)
            socks.append(s)
        ready_then_wait()
    elif mode == "memstats":
        s = open_conn(path)
        first = None
        args = struct.pack(">iiI", -1, -1, 0)
        for i in range(1, n + 1):
            s.sendall(call(228, i, args))
            pkt = recv_packet(s)
            if first is None:
                first = error_message(pkt)
        print(first, flush=True)
    elif mode == "noread":
        s = open_conn(path)
        s.settimeout(1)
        serial = 1
        try:
            while True:
                s.sendall(call(7, serial))  # CONNECT_GET_CAPABILITIES
                serial += 1
        except socket.timeout:
            pass
        ready_then_wait()
    elif mode == "xmlflood":
        socks = []
        for i in range(n):
            if i % 5 == 0:
                s = open_conn(path)
                socks.append(s)
            s.sendall(call(23, 1000 + i, xdr_string("hvm%d" % (i + 1))))  # DOMAIN_LOOKUP_BY_NAME
            dom = recv_packet(s)[24:]
            s.sendall(call(14, i, dom + struct.pack(">I", 0)))  # DOMAIN_GET_XML_DESC, never read
        ready_then_wait()
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
