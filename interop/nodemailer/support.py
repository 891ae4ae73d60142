"""What test_smtplib.py and test_msmtp.py share: the variables run.sh sets
and reading a message back through the API.

run.sh sets:
  OMNIGATE_URL        the API's https URL
  OMNIGATE_CA         the self-signed certificate (API and STARTTLS)
  OMNIGATE_KEY        the demo account's live access key
  OMNIGATE_TEST_KEY   its test key
  OMNIGATE_SMTP_PORT  the submission port on 127.0.0.1
  OMNIGATE_FROM       an address of the demo's verified sending domain
  OMNIGATE_DEMO_MAIL  the demo mail sink's maildir root (<dir>/<rcpt>/new/)

The tests import it from their own directory (Python puts a script's
directory first on sys.path); stdlib only.
"""

import json
import os
import ssl
import urllib.error
import urllib.request


def env(name):
    v = os.environ.get(name)
    if not v:
        raise SystemExit(f"{name} is not set; run interop/nodemailer/run.sh")
    return v


URL = env("OMNIGATE_URL")
CA = env("OMNIGATE_CA")
KEY = env("OMNIGATE_KEY")
PORT = int(env("OMNIGATE_SMTP_PORT"))
FROM = env("OMNIGATE_FROM")
CTX = ssl.create_default_context(cafile=CA)


def api_get(path):
    """GET path with the live key: (status, the JSON body, or the text of
    an error's)."""
    req = urllib.request.Request(URL + path, headers={"Authorization": "AccessKey " + KEY})
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def stored(test, mid):
    """The message the API has under the id mid (test asserts a 200):
    (the whole body, its content's email)."""
    status, body = api_get(f"/v1/messages/{mid}")
    test.assertEqual(status, 200, body)
    return body, body["content"]["email"]
