#!/usr/bin/python3
# Drives `virsh console` on a pty: argv[1] virsh, argv[2] the URI, argv[3]
# the domain. Types a line, waits for the guest's echo, leaves with ^] and
# prints what it saw and virsh's exit status.
import os, pty, select, sys, termios, time

virsh, uri, name = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.environ["LC_ALL"] = "C"
    os.execv(virsh, [virsh, "-c", uri, "console", name])


def read_until(want, timeout=20):
    got = b""
    end = time.monotonic() + timeout
    while want not in got:
        left = end - time.monotonic()
        if left <= 0:
            sys.exit("timed out waiting for %r, got %r" % (want, got))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                b = os.read(fd, 4096)
            except OSError:
                sys.exit("virsh went away; got %r" % got)
            if not b:
                sys.exit("virsh went away; got %r" % got)
            got += b
    return got


read_until(b"Escape character is ^]")
# virsh prints the banner before it puts the terminal in raw mode: typed
# before that, the line is echoed by the tty itself and ^] is swallowed by
# the line discipline. The master sees the slave's modes.
end = time.monotonic() + 20
while termios.tcgetattr(fd)[3] & termios.ICANON:
    if time.monotonic() > end:
        sys.exit("virsh never put the terminal in raw mode")
    time.sleep(0.01)
os.write(fd, b"hello from the pty\r")
read_until(b"hello from the pty")
print("echoed", flush=True)
os.write(fd, b"\x1d")
tail = b""
end = time.monotonic() + 20
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    if time.monotonic() > end:
        os.kill(pid, 9)
        sys.exit("virsh did not leave on ^]; it printed %r" % tail)
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            tail += os.read(fd, 4096)
        except OSError:
            pass
print("virsh exit", os.waitstatus_to_exitcode(status), flush=True)
