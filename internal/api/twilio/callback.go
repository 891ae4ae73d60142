package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
)

// HeaderSignature is the header Twilio signs requests to customers with.
const HeaderSignature = "X-Twilio-Signature"

// Signature is Twilio's request signature: the base64 HMAC-SHA1, keyed by
// the auth token, of the full URL followed by each POST parameter's name
// and value, sorted by name.
func Signature(authToken, fullURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Callbacks renders status callbacks of this door's messages, signed with
// the account's auth token.
type Callbacks struct{ Store store.Twilio }

// Render is the status callback of m's report rep to target: the form
// parameters Twilio posts and the X-Twilio-Signature header's value.
func (c Callbacks) Render(ctx context.Context, m *message.Message, rep store.Report, target string) (url.Values, string, error) {
	rp := m.Recipient(rep.Seq)
	if rp == nil {
		return nil, "", fmt.Errorf("report of recipient %d of a message of %d", rep.Seq, len(m.Recipients))
	}
	acct, err := c.Store.TwilioAccount(ctx, m.AccountID)
	if err != nil {
		return nil, "", fmt.Errorf("the account's Twilio credentials: %w", err)
	}
	at := *rp
	at.Status, at.StatusErrorCode = rep.Status, rep.ErrorCode
	status := Status(&at)
	if rep.Status == message.Sent || rep.Status == message.Buffered {
		status = "sent" // a report of sent is a connector taking it
	}
	p := url.Values{}
	p.Set("MessageSid", SID(m.ID))
	p.Set("SmsSid", SID(m.ID))
	p.Set("AccountSid", acct.SID)
	p.Set("From", m.Originator)
	p.Set("To", phoneText(at.Address))
	p.Set("MessageStatus", status)
	p.Set("SmsStatus", status)
	p.Set("ApiVersion", APIVersion)
	if code := errorCode(&at); code != 0 {
		p.Set("ErrorCode", strconv.Itoa(code))
	}
	return p, Signature(acct.AuthToken, target, p), nil
}

// IsSID says whether s is a SID of the given two-letter prefix: the prefix
// and 32 lower-case hex characters.
func IsSID(prefix, s string) bool {
	if len(s) != 34 || !strings.HasPrefix(s, prefix) {
		return false
	}
	return strings.Trim(s[2:], "0123456789abcdef") == ""
}
