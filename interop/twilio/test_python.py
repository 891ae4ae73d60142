"""Interop test: Twilio's official Python helper library against omnigate.

The library is Debian's python3-twilio (7.7.1), a third client of the
Twilio door besides the npm package (test.mjs) and twilio-go (gotest/).
Run by run.sh with /usr/bin/python3, which has the Debian package; the
environment gives the server (OMNIGATE_URL, OMNIGATE_CA), the Twilio
credentials and the number (TWILIO_*).

It covers what the other two do not: the Account resource
(client.api.accounts(sid).fetch(), the credential check many
applications start with), Verify v2 services listed, renamed and deleted,
and the library's own RequestValidator on status callbacks. It also sends,
fetches, lists and pages messages, schedules and cancels one, redacts and
deletes one, uses a Messaging Service, and checks errors as
TwilioRestException with Twilio's codes.
"""

import datetime
import http.server
import os
import sys
import threading
import time
import traceback
import urllib.parse

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

URL = os.environ["OMNIGATE_URL"]
CA = os.environ["OMNIGATE_CA"]
SID, TOKEN = os.environ["TWILIO_SID"], os.environ["TWILIO_TOKEN"]
KEY_SID, KEY_SECRET = os.environ["TWILIO_KEY_SID"], os.environ["TWILIO_KEY_SECRET"]
NUMBER = os.environ["TWILIO_NUMBER"]


def client(user=SID, password=TOKEN, account=None):
    """A Client whose three domains point at omnigate, trusting its CA."""
    h = TwilioHttpClient()
    h.session.verify = CA
    c = Client(user, password, account_sid=account, http_client=h)
    c.api.base_url = URL
    c.messaging.base_url = URL
    c.verify.base_url = URL
    return c


tw = client()
keyed = client(KEY_SID, KEY_SECRET, SID)
state = {}
failures = []
# Its recipients (+31612349900 to +31612349999) are its own: the npm and
# Go tests, run on the same server, count the messages to theirs.


def test(f):
    try:
        f()
        print("ok  ", f.__name__)
    except Exception:  # noqa: BLE001 - report every failure, then go on
        failures.append(f.__name__)
        print("FAIL", f.__name__)
        traceback.print_exc()
    return f


def raises(code, status, f):
    try:
        f()
    except TwilioRestException as e:
        assert (e.status, e.code) == (status, code), (e.status, e.code, e.msg)
        return e
    raise AssertionError("no TwilioRestException %d" % code)


# Status callbacks: each is kept with its full URL and signature.
callbacks = []


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the standard library's name
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        params = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        callbacks.append((receiver_base + self.path, params, self.headers.get("X-Twilio-Signature", "")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
receiver_base = "http://127.0.0.1:%d" % server.server_address[1]
threading.Thread(target=server.serve_forever, daemon=True).start()


@test
def account_fetch():
    a = tw.api.accounts(SID).fetch()
    assert a.sid == SID and a.status == "active" and a.type == "Full", (a.sid, a.status, a.type)
    assert a.auth_token == TOKEN
    assert a.friendly_name
    assert isinstance(a.date_created, datetime.datetime), a.date_created
    # Through an API key: the account, without its token.
    k = keyed.api.accounts(SID).fetch()
    assert k.sid == SID and k.auth_token is None, k.auth_token
    listed = tw.api.accounts.list()
    assert [x.sid for x in listed] == [SID], [x.sid for x in listed]
    raises(20404, 404, lambda: tw.api.accounts("AC" + "0" * 32).fetch())


@test
def create_and_deliver_with_signed_callbacks():
    cb = receiver_base + "/status?tenant=acme"
    m = tw.messages.create(to="+31612349901", from_=NUMBER, body="hello from python", status_callback=cb)
    assert m.sid.startswith("SM") and len(m.sid) == 34, m.sid
    assert m.status in ("queued", "accepted", "sent"), m.status
    assert m.to == "+31612349901" and m.num_segments == "1", (m.to, m.num_segments)
    state["sid"] = m.sid
    for _ in range(100):
        m = tw.messages(m.sid).fetch()
        if m.status == "delivered" and any(p.get("MessageStatus") == "delivered" for _, p, _ in callbacks):
            break
        time.sleep(0.1)
    assert m.status == "delivered", m.status
    assert m.price is not None and m.price_unit, (m.price, m.price_unit)
    assert isinstance(m.date_sent, datetime.datetime) and m.error_code is None, (m.date_sent, m.error_code)
    statuses = [p.get("MessageStatus") for _, p, _ in callbacks]
    assert "delivered" in statuses, statuses
    v = RequestValidator(TOKEN)
    for url, params, signature in callbacks:
        assert params["MessageSid"] == m.sid and params["AccountSid"] == SID, params
        assert v.validate(url, params, signature), "signature of %s verifies" % params.get("MessageStatus")
        assert not RequestValidator("0" * 32).validate(url, params, signature), "another token does not verify"
        assert not v.validate(url, dict(params, MessageStatus="failed"), signature), "changed parameters do not verify"


@test
def create_with_api_key():
    m = keyed.messages.create(to="+31612349902", from_=NUMBER, body="hello via an API key")
    assert m.sid.startswith("SM") and m.account_sid == SID, (m.sid, m.account_sid)


@test
def list_stream_and_page():
    for i in range(5):
        tw.messages.create(to="+316123499%02d" % (10 + i), from_=NUMBER, body="list %d" % i)
    listed = tw.messages.list(limit=20, page_size=2)
    sids = [m.sid for m in listed]
    assert len(sids) >= 7 and len(set(sids)) == len(sids), sids
    mine = list(tw.messages.stream(to="+31612349901", page_size=1))
    assert [m.sid for m in mine] == [state["sid"]], [m.sid for m in mine]
    page = tw.messages.page(page_size=3)
    first = [m.sid for m in page]
    following = page.next_page()
    assert len(first) == 3 and following is not None
    second = [m.sid for m in following]
    assert len(second) == 3 and not set(first) & set(second), (first, second)
    day = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    assert len(tw.messages.list(date_sent_after=day, limit=3)) == 3


@test
def messaging_service_schedule_and_cancel():
    svc = tw.messaging.v1.services.create(friendly_name="py service")
    assert svc.sid.startswith("MG"), svc.sid
    number = [n for n in tw.incoming_phone_numbers.list() if n.phone_number == NUMBER]
    assert number, "the number is listed"
    tw.messaging.v1.services(svc.sid).phone_numbers.create(phone_number_sid=number[0].sid)
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)
    m = tw.messages.create(to="+31612349920", messaging_service_sid=svc.sid, body="later", send_at=at, schedule_type="fixed")
    assert m.status == "scheduled", m.status
    assert tw.messages(m.sid).update(status="canceled").status == "canceled"
    sent = tw.messages.create(to="+31612349921", messaging_service_sid=svc.sid, body="through the service")
    assert sent.messaging_service_sid == svc.sid and sent.from_ == NUMBER, (sent.messaging_service_sid, sent.from_)
    assert tw.messaging.v1.services(svc.sid).update(friendly_name="renamed").friendly_name == "renamed"
    assert svc.sid in [s.sid for s in tw.messaging.v1.services.list()]
    assert tw.messaging.v1.services(svc.sid).delete() is True


@test
def errors():
    raises(21211, 400, lambda: tw.messages.create(to="not a number", from_=NUMBER, body="x"))
    raises(20404, 404, lambda: tw.messages("SM" + "0" * 32).fetch())
    raises(20003, 401, lambda: client(SID, "0" * 32).messages(state["sid"]).fetch())


@test
def redact_and_delete():
    assert tw.messages(state["sid"]).update(body="").body == ""
    assert tw.messages(state["sid"]).delete() is True
    raises(20404, 404, lambda: tw.messages(state["sid"]).fetch())


@test
def verify_v2():
    s = tw.verify.v2.services.create(friendly_name="Py Verify", code_length=6)
    assert s.sid.startswith("VA") and s.code_length == 6, (s.sid, s.code_length)
    svc = tw.verify.v2.services(s.sid)
    v = svc.verifications.create(to="+31612349930", channel="sms")
    assert v.sid.startswith("VE") and v.status == "pending", (v.sid, v.status)
    check = svc.verification_checks.create(to="+31612349930", code="000000")
    assert check.status == "pending" and check.valid is False, (check.status, check.valid)
    assert svc.verifications(v.sid).fetch().status == "pending"
    assert svc.verifications(v.sid).update(status="canceled").status == "canceled"
    # The services: listed, renamed, given another code length, deleted.
    other = tw.verify.v2.services.create(friendly_name="Py Other")
    listed = [x.sid for x in tw.verify.v2.services.list(page_size=1)]
    assert listed[:2] == [other.sid, s.sid], listed
    changed = svc.update(friendly_name="Py Verify 2", code_length=8)
    assert (changed.friendly_name, changed.code_length) == ("Py Verify 2", 8)
    assert svc.fetch().code_length == 8
    raises(60200, 400, lambda: svc.update(code_length=3))
    assert svc.delete() is True
    raises(20404, 404, lambda: svc.fetch())
    raises(20404, 404, lambda: svc.verifications.create(to="+31612349930", channel="sms"))
    assert s.sid not in [x.sid for x in tw.verify.v2.services.list()]
    assert tw.verify.v2.services(other.sid).delete() is True


server.shutdown()
if failures:
    print("FAILED:", ", ".join(failures))
    sys.exit(1)
print("all passed")
