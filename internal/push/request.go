package push

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Beams' limits (its server SDKs check the same).
const (
	MaxInterests      = 100   // interests per publish
	MaxUsers          = 1000  // users per publish
	MaxNameLength     = 164   // characters of an interest or a user id
	MaxPublishBody    = 10240 // bytes of a publish request
	MaxDeviceBody     = 10240 // bytes of a device API request
	MaxDeviceInterest = 5000  // interests of one device
)

var interestName = regexp.MustCompile(`^[-_=@,.;A-Za-z0-9]+$`)

// Error is an answer in Beams' error shape: {"error": …, "description": …}
// with its HTTP status.
type Error struct {
	Status      int    `json:"-"`
	Kind        string `json:"error"`
	Description string `json:"description"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s - %s", e.Status, e.Kind, e.Description) }

// Errorf makes an Error whose kind is the status's text, as Beams names them.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Kind: http.StatusText(status), Description: fmt.Sprintf(format, args...)}
}

// Publish is a parsed publish request: its targets and the platform
// payloads, kept as the customer wrote them.
type Publish struct {
	Interests []string
	Users     []string
	APNs      json.RawMessage // {"aps": {…}, …}: the APNs payload
	FCM       json.RawMessage // {"notification": {…}, "data": {…}}
	Web       json.RawMessage // {"notification": {…}, "data": {…}, "time_to_live": N}
}

// Body is what a delivery job needs of a publish: the platform payloads.
type Body struct {
	APNs json.RawMessage `json:"apns,omitempty"`
	FCM  json.RawMessage `json:"fcm,omitempty"`
	Web  json.RawMessage `json:"web,omitempty"`
}

// ParsePublish reads a publish request body: target is "interests" (POST
// …/publishes and …/publishes/interests) or "users" (…/publishes/users).
// Errors are Beams' 400s.
func ParsePublish(body []byte, target string) (*Publish, error) {
	if len(body) > MaxPublishBody {
		return nil, Errorf(http.StatusRequestEntityTooLarge, "Request body is larger than the limit of %d bytes", MaxPublishBody)
	}
	var raw struct {
		Interests *[]string `json:"interests"`
		Users     *[]string `json:"users"`
		APNs      rawObject `json:"apns"`
		FCM       rawObject `json:"fcm"`
		Web       rawObject `json:"web"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		return nil, Errorf(http.StatusBadRequest, "Request body is not valid JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, Errorf(http.StatusBadRequest, "Request body has data after the JSON object")
	}
	p := &Publish{APNs: json.RawMessage(raw.APNs), FCM: json.RawMessage(raw.FCM), Web: json.RawMessage(raw.Web)}
	switch target {
	case "interests":
		if raw.Users != nil {
			return nil, Errorf(http.StatusBadRequest, "'users' cannot be given when publishing to interests")
		}
		if raw.Interests == nil || len(*raw.Interests) == 0 {
			return nil, Errorf(http.StatusBadRequest, "Publish requests must target at least one interest to be delivered")
		}
		if len(*raw.Interests) > MaxInterests {
			return nil, Errorf(http.StatusBadRequest, "Number of interests (%d) exceeds maximum of %d", len(*raw.Interests), MaxInterests)
		}
		for _, in := range *raw.Interests {
			if err := CheckInterest(in); err != nil {
				return nil, err
			}
		}
		p.Interests = dedupe(*raw.Interests)
	case "users":
		if raw.Interests != nil {
			return nil, Errorf(http.StatusBadRequest, "'interests' cannot be given when publishing to users")
		}
		if raw.Users == nil || len(*raw.Users) == 0 {
			return nil, Errorf(http.StatusBadRequest, "Publish requests must target at least one user to be delivered")
		}
		if len(*raw.Users) > MaxUsers {
			return nil, Errorf(http.StatusBadRequest, "Number of users (%d) exceeds maximum of %d", len(*raw.Users), MaxUsers)
		}
		for _, u := range *raw.Users {
			if err := CheckUserID(u); err != nil {
				return nil, err
			}
		}
		p.Users = dedupe(*raw.Users)
	default:
		return nil, Errorf(http.StatusNotFound, "Unknown publish target %q", target)
	}
	if p.APNs == nil && p.FCM == nil && p.Web == nil {
		return nil, Errorf(http.StatusBadRequest, "Publish request must contain at least one of 'apns', 'fcm' or 'web'")
	}
	if p.APNs != nil {
		var a struct {
			APS *json.RawMessage `json:"aps"`
		}
		if err := json.Unmarshal(p.APNs, &a); err != nil || a.APS == nil {
			return nil, Errorf(http.StatusBadRequest, "'apns' must contain an 'aps' object")
		}
	}
	if p.Web != nil {
		var w struct {
			TTL *int64 `json:"time_to_live"`
		}
		if err := json.Unmarshal(p.Web, &w); err != nil {
			return nil, Errorf(http.StatusBadRequest, "'web': %s", jsonProblem(err))
		}
		if w.TTL != nil && (*w.TTL < 0 || *w.TTL > 4*7*24*3600) {
			return nil, Errorf(http.StatusBadRequest, "'web.time_to_live' must be between 0 and 2419200 seconds")
		}
	}
	if p.FCM != nil {
		var f struct {
			Notification map[string]any `json:"notification"`
			Data         map[string]any `json:"data"`
		}
		if err := json.Unmarshal(p.FCM, &f); err != nil {
			return nil, Errorf(http.StatusBadRequest, "'fcm': %s", jsonProblem(err))
		}
	}
	return p, nil
}

// rawObject is a JSON value that must be an object when present.
type rawObject []byte

func (r *rawObject) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("a platform payload must be a JSON object")
	}
	*r = append(rawObject(nil), b...)
	return nil
}

func jsonProblem(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return fmt.Sprintf("'%s' has the wrong type (%s where %s is expected)", te.Field, te.Value, te.Type)
	}
	return err.Error()
}

// CheckInterest checks an interest name as Beams does.
func CheckInterest(in string) error {
	switch {
	case in == "":
		return Errorf(http.StatusBadRequest, "Interest names cannot be empty")
	case len(in) > MaxNameLength:
		return Errorf(http.StatusBadRequest, "Interest %q is longer than the maximum of %d characters", in[:32]+"…", MaxNameLength)
	case !interestName.MatchString(in):
		return Errorf(http.StatusBadRequest, "Interest %q contains a forbidden character. Allowed characters are: ASCII upper/lower-case letters, numbers or one of _-=@,.;", in)
	}
	return nil
}

// CheckUserID checks a user id as Beams does: 1 to 164 bytes of UTF-8.
func CheckUserID(u string) error {
	switch {
	case u == "":
		return Errorf(http.StatusBadRequest, "User ids cannot be empty")
	case len(u) > MaxNameLength:
		return Errorf(http.StatusBadRequest, "User id is longer than the maximum of %d characters", MaxNameLength)
	}
	return nil
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// TokenIssuer is the issuer a Beams token of the instance names, as the
// server SDKs' generateToken writes it.
func TokenIssuer(instanceID string) string {
	return "https://" + instanceID + ".pushnotifications.pusher.com"
}

// ParseToken checks a Beams token (the server SDK's generateToken: a JWT
// signed HS256 with the instance's secret key, its subject the user id,
// its issuer TokenIssuer) against the secrets valid now, and returns its
// user id. Errors are Beams' 401s.
func ParseToken(token, instanceID string, secrets []string, now time.Time) (string, error) {
	if token == "" {
		return "", Errorf(http.StatusUnauthorized, "Missing Beams token")
	}
	if len(token) > 4096 {
		return "", Errorf(http.StatusUnauthorized, "Beams token is too long")
	}
	var lastErr error
	for _, secret := range secrets {
		claims := &jwt.RegisteredClaims{}
		_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return []byte(secret), nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(TokenIssuer(instanceID)), jwt.WithExpirationRequired(),
			jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithLeeway(30*time.Second))
		if err != nil {
			lastErr = err
			continue
		}
		if err := CheckUserID(claims.Subject); err != nil {
			return "", Errorf(http.StatusUnauthorized, "Beams token has no valid user id ('sub')")
		}
		return claims.Subject, nil
	}
	return "", Errorf(http.StatusUnauthorized, "Invalid Beams token: %v", lastErr)
}
