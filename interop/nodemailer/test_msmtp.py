"""Interop test: Debian's msmtp (a C SMTP client, GnuTLS) sends through
omnigate's SMTP submission door: STARTTLS with the test's CA, AUTH PLAIN
and AUTH LOGIN with the access key as the password, a MIME message with an
attachment and a UTF-8 subject to recipients given on the command line or
read from the headers (-t); the id in the 250 reply (from msmtp's log) is
read back through the API. A wrong key makes msmtp exit with EX_NOPERM.

The variables run.sh sets are listed (and read) in support.py.
Usage: /usr/bin/python3 test_msmtp.py (from run.sh; needs msmtp).
"""

import atexit
import base64
import os
import re
import shutil
import subprocess
import tempfile
import unittest
import uuid

from support import CA, FROM, KEY, PORT, stored

WORK = tempfile.mkdtemp(prefix="msmtp-")
atexit.register(shutil.rmtree, WORK, True)


def msmtp(args, message, auth="plain", password=KEY):
    """Runs msmtp with a config of its own; returns (exit status, log,
    stderr)."""
    name = uuid.uuid4().hex[:8]
    conf = os.path.join(WORK, name + ".conf")
    log = os.path.join(WORK, name + ".log")
    with open(conf, "w") as f:
        f.write(f"""defaults
logfile {log}
account default
host 127.0.0.1
port {PORT}
domain client.interop.test
tls on
tls_starttls on
tls_trust_file {CA}
auth {auth}
user interop
password {password}
from {FROM}
""")
    os.chmod(conf, 0o600)  # msmtp refuses a config with a password others can read
    p = subprocess.run(["msmtp", "-C", conf, *args], input=message, capture_output=True, timeout=60)
    text = ""
    if os.path.exists(log):
        with open(log) as f:
            text = f.read()
    return p.returncode, text, p.stderr.decode()


def mime(token, to, cc=None):
    """A message as a mail program writes it: RFC 2047 subject, multipart
    with a base64 attachment, CRLF-less (msmtp converts line ends)."""
    subject = "=?UTF-8?B?" + base64.b64encode(f"Grüße aus Köln ☕ {token}".encode()).decode() + "?="
    att = base64.b64encode(b"id;amount\n1;12.50\n").decode()
    lines = [f"From: Shop <{FROM}>", f"To: {to}"]
    if cc:
        lines.append(f"Cc: {cc}")
    lines += [f"Subject: {subject}", "MIME-Version: 1.0",
              'Content-Type: multipart/mixed; boundary="b1"', "",
              "--b1", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "",
              "Hallo,", ".leading dot", "Grüße", "",
              "--b1", 'Content-Type: text/csv; name="orders.csv"',
              'Content-Disposition: attachment; filename="orders.csv"', "Content-Transfer-Encoding: base64", "",
              att, "--b1--", ""]
    return "\n".join(lines).encode("utf-8")


def check_stored(test, log, token, recipients):
    m = re.search(r"smtpstatus=250 smtpmsg='250 2\.0\.0 OK id=([0-9a-f]{32})", log)
    test.assertTrue(m, log)
    body, e = stored(test, m.group(1))
    test.assertEqual(e["subject"], f"Grüße aus Köln ☕ {token}")
    test.assertEqual(e["content"]["text"].replace("\r\n", "\n"), "Hallo,\n.leading dot\nGrüße\n")
    test.assertEqual([(a["name"], a["type"]) for a in e["attachments"]], [("orders.csv", "text/csv")])
    test.assertEqual(sorted(r["email"] for r in body["recipients"]), sorted(recipients))


class Msmtp(unittest.TestCase):
    def test_01_version(self):
        out = subprocess.run(["msmtp", "--version"], capture_output=True, text=True).stdout
        print("\n" + out.splitlines()[0], end=" ")

    def test_02_auth_plain_recipients_on_the_command_line(self):
        token = uuid.uuid4().hex[:8]
        rc, log, err = msmtp(["ann@demo.example", "bob@demo.example"], mime(token, "ann@demo.example, bob@demo.example"))
        self.assertEqual(rc, 0, err + log)
        check_stored(self, log, token, ["ann@demo.example", "bob@demo.example"])

    def test_03_auth_login_recipients_from_the_headers(self):
        token = uuid.uuid4().hex[:8]
        rc, log, err = msmtp(["-t"], mime(token, "Ann <ann@demo.example>", cc="bob@demo.example"), auth="login")
        self.assertEqual(rc, 0, err + log)
        check_stored(self, log, token, ["ann@demo.example", "bob@demo.example"])

    def test_04_wrong_key(self):
        rc, log, err = msmtp(["ann@demo.example"], mime("x", "ann@demo.example"), password="live_notakeynotakeynotakey")
        self.assertEqual(rc, 77, err + log)  # EX_NOPERM: authentication failed
        self.assertIn("535", err + log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
