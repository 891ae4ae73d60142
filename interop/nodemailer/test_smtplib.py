"""Interop test: Python's standard-library smtplib (an SMTP client
independent of nodemailer) against omnigate's SMTP submission door.

run.sh starts `omnigate serve --demo --smtp-submission …` and sets the
OMNIGATE_* variables support.py lists (support.py reads the ones both tests
use, and reads a message back through the API).

Checks EHLO, STARTTLS (RFC 3207), AUTH PLAIN and LOGIN (RFC 4954) with the
access key, a MIME message with an attachment and a UTF-8 subject to
several recipients (read back through the MessageBird-style API and from
the recipients' maildirs), a recipient refused at RCPT (RFC 5321 3.3), wrong
credentials, SIZE (RFC 1870), 8BITMIME (RFC 6152), CHUNKING (RFC 3030),
SMTPUTF8 (RFC 6531) when offered, and a test key.

Usage: /usr/bin/python3 test_smtplib.py (from run.sh; stdlib only).
"""

import email
import email.policy
import email.utils
import glob
import os
import re
import smtplib
import time
import unittest
import uuid
from email.message import EmailMessage

from support import CTX, FROM, KEY, PORT, api_get, env, stored

TEST_KEY = env("OMNIGATE_TEST_KEY")
MAILDIR = env("OMNIGATE_DEMO_MAIL")
ID_RE = re.compile(rb"^2\.0\.0 OK id=([0-9a-f]{32})")


class SMTP(smtplib.SMTP):
    """smtplib.SMTP that keeps the reply to the end of DATA (send_message
    returns only the refused recipients; the message id is in that reply)."""

    last_data_reply = None

    def data(self, msg):
        reply = super().data(msg)
        self.last_data_reply = reply
        return reply


def connect(tls=True):
    s = SMTP("127.0.0.1", PORT, local_hostname="client.interop.test", timeout=30)
    s.ehlo()
    if tls:
        s.starttls(context=CTX)
        s.ehlo()
    return s


def logged_in(key=KEY):
    s = connect()
    s.login("interop", key)
    return s


def message_id(s):
    code, text = s.last_data_reply
    m = ID_RE.match(text)
    assert code == 250 and m, f"reply {code} {text!r}"
    return m.group(1).decode()


def delivered(rcpt, token, timeout=15):
    """The recipient's copy whose Subject holds token, from the demo's
    mail sink maildir."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for path in glob.glob(os.path.join(MAILDIR, rcpt, "new", "*")):
            with open(path, "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            if token in str(msg["Subject"]):
                return msg
        time.sleep(0.1)
    raise AssertionError(f"no copy for {rcpt} with {token!r} in {MAILDIR}")


def order_mail(token, to="Ann <ann@demo.example>", cc="bob@demo.example"):
    m = EmailMessage()
    m["From"] = f"Café Shop <{FROM}>"
    m["To"] = to
    if cc:
        m["Cc"] = cc
    m["Subject"] = f"Bestellbestätigung — café ☕ {token}"
    m["Date"] = email.utils.formatdate(localtime=True)
    m["X-Campaign"] = "interop-smtplib"
    m.set_content("Hallo,\n.a line that starts with a dot\n..two dots\nGrüße\n")
    m.add_alternative("<p>Hallo, <b>Grüße</b></p>", subtype="html")
    m.add_attachment(b"%PDF-1.4 interop\n", maintype="application", subtype="pdf", filename="Rechnung-Nr.1.pdf")
    return m


class Submission(unittest.TestCase):
    def test_01_ehlo_and_starttls(self):
        s = SMTP("127.0.0.1", PORT, local_hostname="client.interop.test", timeout=30)
        code, _ = s.ehlo()
        self.assertEqual(code, 250)
        for ext in ("starttls", "size", "8bitmime", "enhancedstatuscodes", "pipelining"):
            self.assertIn(ext, s.esmtp_features, ext)
        code, _ = s.starttls(context=CTX)
        self.assertEqual(code, 220)
        self.assertEqual(s.ehlo()[0], 250)
        # RFC 3207 4.2: not offered again after the TLS handshake.
        self.assertNotIn("starttls", s.esmtp_features)
        self.assertEqual(set(s.esmtp_features["auth"].upper().split()) >= {"PLAIN", "LOGIN"}, True)
        self.assertEqual(s.noop()[0], 250)
        self.assertEqual(s.rset()[0], 250)
        self.assertIn(s.verify("ann@demo.example")[0], (250, 251, 252, 502))
        self.assertEqual(s.quit()[0], 221)

    def test_02_auth_plain_and_login(self):
        for mech, method in (("PLAIN", "auth_plain"), ("LOGIN", "auth_login")):
            for initial in (True, False):
                with self.subTest(mech=mech, initial_response=initial):
                    s = connect()
                    s.user, s.password = "any-user-name", KEY
                    code, text = s.auth(mech, getattr(s, method), initial_response_ok=initial)
                    self.assertEqual(code, 235, text)
                    s.quit()

    def test_03_wrong_credentials_535(self):
        s = connect()
        with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
            s.login("interop", "live_notakeynotakeynotakey")
        self.assertEqual(cm.exception.smtp_code, 535)
        self.assertTrue(cm.exception.smtp_error.startswith(b"5.7.8"), cm.exception.smtp_error)
        # The session goes on unauthenticated: MAIL gets 530 5.7.0.
        code, text = s.mail(FROM)
        self.assertEqual(code, 530, text)
        self.assertTrue(text.startswith(b"5.7.0"), text)
        s.quit()

    def test_04_mime_message_with_attachment_to_several_recipients(self):
        token = uuid.uuid4().hex[:8]
        m = order_mail(token)
        m["Bcc"] = "carl@demo.example"
        s = logged_in()
        refused = s.send_message(m)  # envelope: To, Cc and Bcc; Bcc not sent
        self.assertEqual(refused, {})
        mid = message_id(s)
        s.quit()
        body, e = stored(self, mid)
        self.assertEqual(e["subject"], f"Bestellbestätigung — café ☕ {token}")
        self.assertEqual(e["from"], {"email": FROM, "name": "Café Shop"})
        self.assertEqual(sorted(r["email"] for r in body["recipients"]),
                         ["ann@demo.example", "bob@demo.example", "carl@demo.example"])
        # Transparency (RFC 5321 4.5.2): the leading dots smtplib doubled
        # are undone.
        self.assertEqual(e["content"]["text"].replace("\r\n", "\n"),
                         "Hallo,\n.a line that starts with a dot\n..two dots\nGrüße\n")
        self.assertIn("Grüße", e["content"]["html"])
        self.assertEqual([(a["name"], a["type"]) for a in e["attachments"]], [("Rechnung-Nr.1.pdf", "application/pdf")])
        # What a recipient gets: subject, attachment, no Bcc.
        got = delivered("carl@demo.example", token)
        self.assertEqual(str(got["Subject"]), f"Bestellbestätigung — café ☕ {token}")
        self.assertIsNone(got["Bcc"])
        att = [p for p in got.iter_attachments()]
        self.assertEqual([p.get_filename() for p in att], ["Rechnung-Nr.1.pdf"])
        self.assertEqual(att[0].get_content(), b"%PDF-1.4 interop\n")
        self.assertEqual(got["X-Campaign"], "interop-smtplib")

    def test_05_recipient_refused_at_rcpt_only_that_one(self):
        # RFC 5321 3.3: a recipient the server knows it will not take is
        # refused at RCPT (550/553, enhanced 5.1.x); the mail then goes to
        # the others. omnigate's own rules refuse "nobody@invalid" (a domain
        # without a dot, docs/email.md "Message format and limits").
        token = uuid.uuid4().hex[:8]
        s = logged_in()
        try:
            refused = s.send_message(order_mail(token, cc=None),
                                     to_addrs=["ann@demo.example", "nobody@invalid"])
        except smtplib.SMTPDataError as e:
            self.fail(f"RCPT TO:<nobody@invalid> got 250, then DATA was refused for every recipient: "
                      f"{e.smtp_code} {e.smtp_error.decode()}")
        finally:
            s.close()
        self.assertIn("nobody@invalid", refused)
        self.assertIn(refused["nobody@invalid"][0], (550, 553, 501))
        self.assertNotIn("ann@demo.example", refused)

    def test_06_8bitmime_body(self):
        s = logged_in()
        token = uuid.uuid4().hex[:8]
        raw = (f"From: {FROM}\r\nTo: ann@demo.example\r\nSubject: 8bit {token}\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
               "Content-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln\r\n").encode()
        refused = s.sendmail(FROM, ["ann@demo.example"], raw, mail_options=["BODY=8BITMIME"])
        self.assertEqual(refused, {})
        mid = message_id(s)
        s.quit()
        _, e = stored(self, mid)
        self.assertEqual(e["content"]["text"].strip(), "Grüße aus Köln")

    def test_07_chunking_bdat(self):
        # CHUNKING is advertised (RFC 3030): two BDAT chunks, the last LAST.
        s = logged_in()
        self.assertIn("chunking", s.esmtp_features)
        token = uuid.uuid4().hex[:8]
        raw = (f"From: {FROM}\r\nTo: ann@demo.example\r\nSubject: bdat {token}\r\n\r\n"
               "first chunk, then the second\r\n").encode()
        self.assertEqual(s.mail(FROM)[0], 250)
        self.assertEqual(s.rcpt("ann@demo.example")[0], 250)
        half = len(raw) // 2
        s.putcmd(f"BDAT {half}")
        s.send(raw[:half])
        self.assertEqual(s.getreply()[0], 250)
        s.putcmd(f"BDAT {len(raw) - half} LAST")
        s.send(raw[half:])
        s.last_data_reply = s.getreply()
        mid = message_id(s)
        s.quit()
        _, e = stored(self, mid)
        self.assertEqual(e["subject"], f"bdat {token}")

    def test_08_size_declared_over_the_limit_552(self):
        s = logged_in()
        limit = int(s.esmtp_features["size"])
        code, text = s.mail(FROM, [f"SIZE={limit + 1}"])
        self.assertEqual(code, 552, text)
        self.assertTrue(text.startswith(b"5.3.4"), text)
        s.quit()

    def big_mail(self, octets):
        """A message of about octets on the wire, mostly a base64 attachment."""
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = FROM, "ann@demo.example", "large"
        m.set_content("see the attachment")
        # base64 in lines of 76 + CRLF: 78 octets per 57 of data.
        m.add_attachment(os.urandom(octets * 57 // 78), maintype="application", subtype="octet-stream", filename="big.bin")
        return m.as_bytes(policy=email.policy.SMTP)

    def test_09_message_within_the_advertised_size(self):
        # RFC 1870: SIZE is the largest message the server takes. One that
        # is smaller must not be refused for its size. (The limit is the
        # server's to choose: the message is sized from the SIZE advertised,
        # 64 KiB under it.)
        s = logged_in()
        limit = int(s.esmtp_features["size"])
        raw = self.big_mail(limit - (64 << 10))
        self.assertLess(len(raw), limit)
        try:
            self.assertEqual(s.sendmail(FROM, ["ann@demo.example"], raw), {})
            message_id(s)
        except smtplib.SMTPDataError as e:
            self.fail(f"a {len(raw)}-octet message, under SIZE {limit}, was refused: "
                      f"{e.smtp_code} {e.smtp_error.decode()}")
        finally:
            s.close()

    def test_09b_message_over_the_size_undeclared_552_at_end_of_data(self):
        # RFC 1870 6.3: a message over SIZE sent without SIZE= is refused
        # with 552 (5.3.4) at the end of DATA, and the session goes on.
        s = logged_in()
        limit = int(s.esmtp_features["size"])
        raw = self.big_mail(limit + (64 << 10))
        self.assertGreater(len(raw), limit)
        self.assertEqual(s.mail(FROM)[0], 250)  # no SIZE= parameter
        self.assertEqual(s.rcpt("ann@demo.example")[0], 250)
        code, text = s.data(raw)  # smtplib returns the reply to the end of DATA
        self.assertEqual((code, text[:5]), (552, b"5.3.4"), text)
        self.assertEqual(s.noop()[0], 250)
        s.quit()

    def test_10_too_many_recipients_452(self):
        s = logged_in()
        self.assertEqual(s.mail(FROM)[0], 250)
        codes = [s.rcpt(f"r{i}@demo.example")[0] for i in range(51)]
        self.assertEqual(codes[:50], [250] * 50)
        self.assertEqual(codes[50], 452)
        s.rset()
        s.quit()

    def test_11_smtputf8(self):
        # RFC 6531: offered, and smtplib then sends a UTF-8 address with
        # SMTPUTF8 on MAIL FROM (it refuses to without).
        s = logged_in()
        self.assertIn("smtputf8", s.esmtp_features)
        token = uuid.uuid4().hex[:8]
        m = EmailMessage(policy=email.policy.SMTPUTF8)
        m["From"], m["To"], m["Subject"] = FROM, "jörg@demo.example", f"utf8 {token}"
        m.set_content("x")
        self.assertEqual(s.send_message(m), {})
        message_id(s)
        s.quit()

    def test_12_test_key_validated_not_stored(self):
        s = logged_in(TEST_KEY)
        s.send_message(order_mail(uuid.uuid4().hex[:8]))
        code, text = s.last_data_reply
        self.assertEqual(code, 250, text)
        m = re.search(rb"OK id=([0-9a-f]{32}) \(test key", text)
        self.assertTrue(m, text)
        s.quit()
        status, _ = api_get(f"/v1/messages/{m.group(1).decode()}")
        self.assertEqual(status, 404)

    def test_13_recipients_copy_keeps_the_authors_headers(self):
        # RFC 6409 8 lists what a submission server may change (add a
        # missing Date or Message-ID, Sender, transfer encoding, signing…);
        # Cc (RFC 5322 3.6.3), the author's Message-ID and the threading
        # fields In-Reply-To/References (3.6.4) are not among them.
        token = uuid.uuid4().hex[:8]
        m = order_mail(token)
        m["Message-ID"] = f"<{token}.reply@client.interop.test>"
        m["In-Reply-To"] = "<question-1@client.interop.test>"
        m["References"] = "<question-1@client.interop.test>"
        m["Bcc"] = "carl@demo.example"
        s = logged_in()
        self.assertEqual(s.send_message(m), {})
        s.quit()
        got = delivered("ann@demo.example", token)
        # Bcc (RFC 5322 3.6.3) is in no copy, not even the Bcc recipient's.
        self.assertIsNone(delivered("carl@demo.example", token)["Bcc"])
        self.assertIsNone(got["Bcc"])
        for name, want in (("To", "Ann <ann@demo.example>"),
                           ("Cc", "bob@demo.example"),
                           ("In-Reply-To", "<question-1@client.interop.test>"),
                           ("References", "<question-1@client.interop.test>"),
                           ("Message-ID", f"<{token}.reply@client.interop.test>")):
            with self.subTest(header=name):
                self.assertEqual(str(got[name] or ""), want, f"{name} in ann's copy")


if __name__ == "__main__":
    unittest.main(verbosity=2)
