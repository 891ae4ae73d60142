package twilio

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// numberSID is the "PN" SID of an account's inbound number: derived from
// the account and the number, so numbers assigned with `omnigate number
// add` have one without being written.
func numberSID(accountID, number string) string {
	sum := sha256.Sum256([]byte("twilio-number\x00" + accountID + "\x00" + number))
	return "PN" + hex.EncodeToString(sum[:16])
}

// numberParams are the IncomingPhoneNumbers update parameters the door
// reads; others are ignored and counted.
var numberParams = map[string]bool{"SmsUrl": true, "SmsMethod": true, "StatusCallback": true, "FriendlyName": true}

// numberJSON is Twilio's IncomingPhoneNumber resource.
type numberJSON struct {
	AccountSID             string            `json:"account_sid"`
	AddressRequirements    string            `json:"address_requirements"`
	AddressSID             *string           `json:"address_sid"`
	APIVersion             string            `json:"api_version"`
	Beta                   bool              `json:"beta"`
	BundleSID              *string           `json:"bundle_sid"`
	Capabilities           map[string]bool   `json:"capabilities"`
	DateCreated            *string           `json:"date_created"`
	DateUpdated            *string           `json:"date_updated"`
	EmergencyAddressSID    *string           `json:"emergency_address_sid"`
	EmergencyAddressStatus string            `json:"emergency_address_status"`
	EmergencyStatus        string            `json:"emergency_status"`
	FriendlyName           string            `json:"friendly_name"`
	IdentitySID            *string           `json:"identity_sid"`
	Origin                 string            `json:"origin"`
	PhoneNumber            string            `json:"phone_number"`
	SID                    string            `json:"sid"`
	SMSApplicationSID      string            `json:"sms_application_sid"`
	SMSFallbackMethod      string            `json:"sms_fallback_method"`
	SMSFallbackURL         string            `json:"sms_fallback_url"`
	SMSMethod              string            `json:"sms_method"`
	SMSURL                 string            `json:"sms_url"`
	Status                 string            `json:"status"`
	StatusCallback         string            `json:"status_callback"`
	StatusCallbackMethod   string            `json:"status_callback_method"`
	SubresourceURIs        map[string]string `json:"subresource_uris"`
	TrunkSID               *string           `json:"trunk_sid"`
	URI                    string            `json:"uri"`
	VoiceApplicationSID    string            `json:"voice_application_sid"`
	VoiceCallerIDLookup    bool              `json:"voice_caller_id_lookup"`
	VoiceFallbackMethod    string            `json:"voice_fallback_method"`
	VoiceFallbackURL       string            `json:"voice_fallback_url"`
	VoiceMethod            string            `json:"voice_method"`
	VoiceReceiveMode       string            `json:"voice_receive_mode"`
	VoiceURL               string            `json:"voice_url"`
}

// numberView is an account's number with its Twilio settings.
func numberView(n store.Number, settings *store.TwilioNumber) store.TwilioNumber {
	sid := numberSID(n.AccountID, n.Number)
	if settings != nil && settings.AccountID == n.AccountID && settings.SID == sid {
		return *settings
	}
	return store.TwilioNumber{Number: n.Number, AccountID: n.AccountID, SID: sid, FriendlyName: phoneText(n.Number),
		SMSMethod: http.MethodPost, CreatedAt: n.CreatedAt, UpdatedAt: n.CreatedAt}
}

func renderNumber(n store.TwilioNumber, accountSID string) numberJSON {
	uri := "/" + APIVersion + "/Accounts/" + accountSID + "/IncomingPhoneNumbers/" + n.SID
	return numberJSON{
		AccountSID: accountSID, AddressRequirements: "none", APIVersion: APIVersion,
		Capabilities: map[string]bool{"sms": true, "mms": false, "voice": false, "fax": false},
		DateCreated:  rfc2822(n.CreatedAt), DateUpdated: rfc2822(n.UpdatedAt),
		EmergencyAddressStatus: "unregistered", EmergencyStatus: "Inactive",
		FriendlyName: n.FriendlyName, Origin: "twilio", PhoneNumber: phoneText(n.Number), SID: n.SID,
		SMSFallbackMethod: http.MethodPost, SMSMethod: n.SMSMethod, SMSURL: n.SMSURL, Status: "in-use",
		StatusCallback: n.StatusCallback, StatusCallbackMethod: http.MethodPost,
		SubresourceURIs: map[string]string{"assigned_add_ons": uri + "/AssignedAddOns.json"},
		URI:             uri + ".json", VoiceFallbackMethod: http.MethodPost, VoiceMethod: http.MethodPost, VoiceReceiveMode: "voice",
	}
}

// accountNumbers are the account's numbers with their Twilio settings.
func (a *API) accountNumbers(r *http.Request, accountID string) ([]store.TwilioNumber, error) {
	nums, err := a.store.ListNumbers(r.Context(), accountID)
	if err != nil {
		return nil, err
	}
	set, err := a.store.ListTwilioNumbers(r.Context(), accountID)
	if err != nil {
		return nil, err
	}
	byNumber := make(map[string]*store.TwilioNumber, len(set))
	for i := range set {
		byNumber[set[i].Number] = &set[i]
	}
	out := make([]store.TwilioNumber, len(nums))
	for i, n := range nums {
		out[i] = numberView(n, byNumber[n.Number])
	}
	return out, nil
}

// numberList is Twilio's page of incoming phone numbers.
type numberList struct {
	IncomingPhoneNumbers []numberJSON `json:"incoming_phone_numbers"`
	page2010
}

// pageOf reads PageSize and Page (and PageToken "PO<offset>").
func pageOf(q url.Values) (size, offset int, e *Error) {
	size = 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return 0, 0, bad(CodeInvalidParam, "PageSize must be from 1 to 1000")
		}
		size = n
	}
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			return 0, 0, bad(CodeInvalidParam, "Page must be a page number from 0")
		}
		offset = n * size
	}
	if v := q.Get("PageToken"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "PO"))
		if err != nil || !strings.HasPrefix(v, "PO") || n < 0 || n > 1_000_000_000 {
			return 0, 0, bad(CodeInvalidParam, "PageToken is not one this server gave")
		}
		offset = n
	}
	return size, offset, nil
}

// listNumbers handles GET IncomingPhoneNumbers.json: filters PhoneNumber
// (digits contained) and FriendlyName (exact).
func (a *API) listNumbers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pr := principalOf(r.Context())
	size, offset, e := pageOf(q)
	if e != nil {
		return e
	}
	all, err := a.accountNumbers(r, pr.AccountID)
	if err != nil {
		return err
	}
	want, name := digits(q.Get("PhoneNumber")), q.Get("FriendlyName")
	var match []store.TwilioNumber
	for _, n := range all {
		if (want == "" || strings.Contains(n.Number, want)) && (name == "" || n.FriendlyName == name) {
			match = append(match, n)
		}
	}
	path := "/" + APIVersion + "/Accounts/" + pr.SID + "/IncomingPhoneNumbers.json"
	link := func(offset int) string {
		v := url.Values{}
		for _, k := range []string{"PhoneNumber", "FriendlyName"} {
			if x := q.Get(k); x != "" {
				v.Set(k, x)
			}
		}
		v.Set("PageSize", strconv.Itoa(size))
		v.Set("Page", strconv.Itoa(offset/size))
		if offset > 0 {
			v.Set("PageToken", "PO"+strconv.Itoa(offset))
		}
		return path + "?" + v.Encode()
	}
	out := numberList{IncomingPhoneNumbers: []numberJSON{}, page2010: page2010{Page: offset / size, PageSize: size, Start: offset, End: offset,
		FirstPageURI: link(0), URI: link(offset)}}
	for i := offset; i < len(match) && i < offset+size; i++ {
		out.IncomingPhoneNumbers = append(out.IncomingPhoneNumbers, renderNumber(match[i], pr.SID))
	}
	if len(out.IncomingPhoneNumbers) > 0 {
		out.End = offset + len(out.IncomingPhoneNumbers) - 1
	}
	if offset+size < len(match) {
		next := link(offset + size)
		out.NextPageURI = &next
	}
	if offset > 0 {
		prev := link(max(0, offset-size))
		out.PreviousPageURI = &prev
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createNumber handles POST IncomingPhoneNumbers.json: buying numbers is
// not available; numbers are assigned by the operator.
func (a *API) createNumber(w http.ResponseWriter, r *http.Request) error {
	if _, e := a.readForm(w, r); e != nil {
		return e
	}
	return bad(CodeNumberUnavailable, "Phone number is not available: buying numbers is not available on this server yet; "+
		"the operator assigns numbers (omnigate number add), and they are listed here")
}

// numberOf reads the path's number of the account.
func (a *API) numberOf(r *http.Request) (*store.TwilioNumber, error) {
	sid := strings.TrimSuffix(r.PathValue("Sid"), ".json")
	pr := principalOf(r.Context())
	if !strings.HasSuffix(r.PathValue("Sid"), ".json") || !IsSID("PN", sid) {
		return nil, errNotFound(r.URL.Path)
	}
	all, err := a.accountNumbers(r, pr.AccountID)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].SID == sid {
			return &all[i], nil
		}
	}
	return nil, errNotFound(r.URL.Path)
}

// fetchNumber handles GET IncomingPhoneNumbers/{Sid}.json.
func (a *API) fetchNumber(w http.ResponseWriter, r *http.Request) error {
	n, err := a.numberOf(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderNumber(*n, principalOf(r.Context()).SID))
	return nil
}

// updateNumber handles POST IncomingPhoneNumbers/{Sid}.json: SmsUrl,
// SmsMethod, StatusCallback and FriendlyName.
func (a *API) updateNumber(w http.ResponseWriter, r *http.Request) error {
	form, e := a.readForm(w, r)
	if e != nil {
		return e
	}
	n, err := a.numberOf(r)
	if err != nil {
		return err
	}
	for name := range form {
		if !numberParams[name] {
			a.metrics.UnknownParam(Door, name)
		}
	}
	if _, ok := form["SmsUrl"]; ok {
		if n.SMSURL, e = callbackURL("SmsUrl", form.Get("SmsUrl")); e != nil {
			return e
		}
	}
	if _, ok := form["StatusCallback"]; ok {
		if n.StatusCallback, e = callbackURL("StatusCallback", form.Get("StatusCallback")); e != nil {
			return e
		}
	}
	if _, ok := form["SmsMethod"]; ok {
		m := strings.ToUpper(strings.TrimSpace(form.Get("SmsMethod")))
		if m != http.MethodPost && m != http.MethodGet {
			return bad(CodeInvalidParam, "SmsMethod must be GET or POST")
		}
		n.SMSMethod = m
	}
	if _, ok := form["FriendlyName"]; ok {
		name := form.Get("FriendlyName")
		if len(name) > 64 {
			return bad(CodeInvalidParam, "FriendlyName has at most 64 characters")
		}
		if name == "" {
			name = phoneText(n.Number)
		}
		n.FriendlyName = name
	}
	n.UpdatedAt = time.Now().UTC()
	if err := a.store.PutTwilioNumber(r.Context(), n); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, renderNumber(*n, principalOf(r.Context()).SID))
	return nil
}

// callbackURL checks a URL parameter: "" or an absolute http(s) URL.
func callbackURL(name, v string) (string, *Error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > 2048 {
		return "", bad(CodeInvalidParam, name+" must be an absolute http or https URL")
	}
	return v, nil
}

// digits keeps the digits of s.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
