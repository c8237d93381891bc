#!/usr/bin/env python3
"""Print libvirt's protocol facts: the one input of `go generate ./internal/rpc`.

Usage: scripts/libvirt-facts.py LIBVIRT_SRC > internal/rpc/libvirt-9.0-facts.txt

Five sections. [remote], one line per REMOTE procedure: number, REMOTE_PROC_
name, API, the file that defines the API, priority (high or low:
remote_protocol.x's @priority annotation), read-only rule (allowed, denied,
or conditional: the guarding if). [admin], one line per ADMIN procedure
(admin_protocol.x): number, ADMIN_PROC_ name, priority. [error] and
[domain]: the virErrorNumber and virErrorDomain values of
include/libvirt/virterror.h the daemon uses (ERRORS, DOMAINS below).
[constant]: the flag bits and values of libvirt's headers the daemon reads
or answers (CONSTANTS below), with the header defining each.
internal/rpc/internal/genfacts turns the file into protocol.gen.go.

LIBVIRT_SRC is an unpacked libvirt source tree (9.0.0 for the checked-in
file; on Debian 12: add a deb-src line, then `apt-get source libvirt`).
libvirt enforces read-only access in its public API entry points
(src/libvirt*.c): an API is denied when its body calls virCheckReadOnly*,
and denied only for some arguments when that call sits under an `if`.
Each REMOTE_PROC_X of src/remote/remote_protocol.x is matched to the API
whose name, upper-cased, is VIR + X without underscores; procedures with no
such API (events, auth, callback registration) are allowed.
"""
import glob
import os
import re
import sys


def denied_apis(src):
    res = {}
    for path in sorted(glob.glob(os.path.join(src, "src", "libvirt*.c"))):
        cur, prev = None, ""
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"^(?:int |char \*|virDomainPtr )?(vir\w+)\(", line)
                if m:
                    cur = m.group(1)
                if "virCheckReadOnly" in line and cur:
                    indent = len(line) - len(line.lstrip())
                    res.setdefault(cur, []).append(prev.strip() if indent > 4 else None)
                if line.strip():
                    prev = line
    out = {}
    for api, conds in res.items():
        if all(conds):
            out[api] = "conditional: " + " / ".join(conds)
        else:
            out[api] = "denied"
    return out


def all_apis(src):
    names = {}
    for path in glob.glob(os.path.join(src, "src", "libvirt*.c")):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"^(?:int |char \*|virDomainPtr )?(vir\w+)\(", line)
                if m:
                    names[m.group(1)] = os.path.basename(path)
    return names


def procs(src, proto="remote"):
    """Yields (number, name, priority) from the <proto>_procedure enum: each
    <PROTO>_PROC_ is preceded by a /** ... */ block of annotations."""
    path = os.path.join(src, "src", proto, proto + "_protocol.x")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("enum %s_procedure" % proto):]
    pat = r"/\*\*(.*?)\*/\s*%s_PROC_(\w+)\s*=\s*(\d+)" % proto.upper()
    for m in re.finditer(pat, body, re.S):
        prio = "high" if re.search(r"@priority:\s*high", m.group(1)) else "low"
        yield int(m.group(3)), m.group(2), prio


# The virErrorNumber and virErrorDomain values the daemon sends.
ERRORS = """INTERNAL_ERROR NO_SUPPORT NO_CONNECT INVALID_ARG OPERATION_FAILED XML_ERROR
    DOM_EXIST OPERATION_DENIED SYSTEM_ERROR RPC NO_DOMAIN NO_NETWORK AUTH_FAILED OPERATION_INVALID
    CONFIG_UNSUPPORTED OPERATION_TIMEOUT NO_DOMAIN_SNAPSHOT ARGUMENT_UNSUPPORTED OVERFLOW
    NO_SERVER NO_CLIENT OPERATION_UNSUPPORTED AGENT_UNRESPONSIVE NO_DOMAIN_METADATA
    NO_STORAGE_POOL NO_STORAGE_VOL STORAGE_VOL_EXIST""".split()
DOMAINS = """NONE RPC STORAGE NETWORK DOMAIN NODEDEV VBOX INTERFACE SECRET NWFILTER
    DOMAIN_SNAPSHOT AUTH ADMIN DOMAIN_CHECKPOINT""".split()
# The flag bits and values the daemon reads or answers.
CONSTANTS = """VIR_CONNECT_RO VIR_CONNECT_LIST_DOMAINS_ACTIVE VIR_CONNECT_LIST_DOMAINS_INACTIVE
    VIR_DOMAIN_MEM_MAXIMUM VIR_DOMAIN_VCPU_GUEST VIR_DOMAIN_XML_SECURE VIR_DOMAIN_XML_MIGRATABLE
    VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT VIR_NODE_MEMORY_STATS_ALL_CELLS
    VIR_TYPED_PARAM_INT VIR_TYPED_PARAM_UINT VIR_TYPED_PARAM_LLONG VIR_TYPED_PARAM_ULLONG
    VIR_TYPED_PARAM_DOUBLE VIR_TYPED_PARAM_BOOLEAN VIR_TYPED_PARAM_STRING
    VIR_DRV_FEATURE_FD_PASSING VIR_DRV_FEATURE_PROGRAM_KEEPALIVE
    VIR_DRV_FEATURE_REMOTE_EVENT_CALLBACK VIR_DRV_FEATURE_REMOTE_CLOSE_CALLBACK""".split()


def enum_values(path):
    """Yields (name, value) for every member of the C enums in path; a member
    without "= value" is the previous one plus one."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    for body in re.findall(r"\benum\b[^{;]*\{(.*?)\}", text, re.S):
        nxt = 0
        for item in body.split(","):
            m = re.match(r"\s*(VIR_\w+)\s*(?:=\s*([^,]+?))?\s*$", item)
            if not m:
                continue
            if m.group(2) is not None:
                expr = m.group(2).replace("U", "")
                try:
                    nxt = int(eval(expr, {}, {}))  # literals and shifts only
                except Exception:
                    continue
            yield m.group(1), nxt
            nxt += 1


def header_constants(src):
    """Maps each VIR_ enum member of libvirt's public and internal headers to
    (value, header)."""
    res = {}
    # A source tree has libvirt-common.h only as its template, libvirt-common.h.in.
    paths = glob.glob(os.path.join(src, "include", "libvirt", "*.h"))
    paths += glob.glob(os.path.join(src, "include", "libvirt", "*.h.in"))
    paths.append(os.path.join(src, "src", "libvirt_internal.h"))
    for path in sorted(paths):
        for name, value in enum_values(path):
            res.setdefault(name, (value, os.path.basename(path).removesuffix(".in")))
    return res


def main():
    src = sys.argv[1]
    denied = denied_apis(src)
    apis = all_apis(src)
    by_upper = {a.upper(): a for a in apis}
    consts = header_constants(src)
    print("# libvirt 9.0's protocol facts, the one input of `go generate ./internal/rpc`.")
    print("# Generated by scripts/libvirt-facts.py from a libvirt 9.0 source tree; do not edit.")
    print("[remote] number, REMOTE_PROC name, API, the file defining it (its VIR_FROM_THIS is "
          "the error domain), priority, read-only rule")
    for num, name, prio in sorted(procs(src)):
        api = by_upper.get("VIR" + name.replace("_", ""), "-")
        rule = denied.get(api, "allowed")
        print(f"{num} {name} {api} {apis.get(api, '-')} {prio} {rule}")
    print("[admin] number, ADMIN_PROC name, priority")
    for num, name, prio in sorted(procs(src, "admin")):
        print(f"{num} {name} {prio}")
    print("[error] virErrorNumber (include/libvirt/virterror.h), the values the daemon sends")
    for name in sorted(("VIR_ERR_" + e for e in ERRORS), key=lambda n: consts[n][0]):
        print(f"{name} {consts[name][0]}")
    print("[domain] virErrorDomain (include/libvirt/virterror.h), the domains the daemon reports in")
    for name in sorted(("VIR_FROM_" + d for d in DOMAINS), key=lambda n: consts[n][0]):
        print(f"{name} {consts[name][0]}")
    print("[constant] flag bits and values the daemon reads or answers, and the header defining each")
    for name in CONSTANTS:
        print(f"{name} {consts[name][0]} {consts[name][1]}")


if __name__ == "__main__":
    main()
