#!/usr/bin/env python3
"""Verifies the DKIM signature of a delivered message with Debian's dkimpy
(python3-dkim), an implementation that is not omnigate's.

Usage: dkimcheck.py MESSAGE-FILE RECORDS.json
RECORDS.json maps DNS names to lists of TXT strings: the test's own zone.
dkimpy asks its dnsfunc for the key record; ours answers from that map,
so nothing reaches the network. Exits 0 when every signature verifies.
"""
import json
import sys

import dkim


def main():
    msg = open(sys.argv[1], "rb").read()
    records = {k.lower().rstrip("."): v for k, v in json.load(open(sys.argv[2])).items()}

    def dnsfunc(name, timeout=5):
        key = name.decode("ascii") if isinstance(name, bytes) else name
        txt = records.get(key.lower().rstrip("."))
        return "".join(txt[0]).encode("ascii") if txt else None

    d = dkim.DKIM(msg)
    sigs = [v for k, v in d.headers if k.lower() == b"dkim-signature"]
    if not sigs:
        print("no DKIM-Signature header", file=sys.stderr)
        return 1
    bad = 0
    for i in range(len(sigs)):
        ok = d.verify(idx=i, dnsfunc=dnsfunc)
        tags = dkim.util.parse_tag_value(sigs[i].replace(b"\r\n", b"").replace(b" ", b""))
        print("signature %d: d=%s s=%s a=%s: %s" % (
            i, tags.get(b"d", b"?").decode(), tags.get(b"s", b"?").decode(),
            tags.get(b"a", b"?").decode(), "pass" if ok else "FAIL"))
        bad += 0 if ok else 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
