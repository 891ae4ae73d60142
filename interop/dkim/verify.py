"""Verifies messages signed by omnigate (interop/dkim/signer) with dkimpy,
an implementation independent of omnigate's. DNS is a function returning
the record the signer wrote: no network.

Usage: python3 verify.py DIR   (DIR holds cases.json and the messages)
Exits 0 when every message that must verify does and every tampered one
does not."""
import json
import os
import sys

import dkim

d = sys.argv[1]
cases = json.load(open(os.path.join(d, "cases.json")))
failed = 0
for c in cases:
    msg = open(os.path.join(d, c["file"]), "rb").read()

    def dnsfunc(name, timeout=5, want=c["record_name"], record=c["record"]):
        name = name.decode() if isinstance(name, bytes) else name
        if name.rstrip(".").lower() == want:
            return record.encode()
        return b""

    logs = []

    class Log:
        def debug(self, *a): logs.append(a)
        info = warning = error = debug

    ok = dkim.verify(msg, logger=Log(), dnsfunc=dnsfunc)
    status = "ok  " if ok == c["valid"] else "FAIL"
    if ok != c["valid"]:
        failed += 1
    print(f"{status} {c['name']}: verified={ok}, want {c['valid']}", file=sys.stderr)
    if ok != c["valid"]:
        for l in logs[-5:]:
            print("     ", *l, file=sys.stderr)
sys.exit(1 if failed else 0)
