package messagebird

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/api/rest"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/verify"
)

// SetVerify gives the door the verification service; without it /verify
// is not registered.
func (a *API) SetVerify(v *verify.Service) { a.verify = v }

// registerVerify adds MessageBird's Verify API: POST /verify, GET
// /verify/{id} (?token= checks a code), DELETE /verify/{id} and GET
// /verify/messages/email/{id}.
func (a *API) registerVerify(mux *http.ServeMux) {
	if a.verify == nil {
		return
	}
	a.rest.Handle(mux, "POST /verify", a.createVerify)
	a.rest.Handle(mux, "GET /verify/{id}", a.getVerify)
	a.rest.Handle(mux, "DELETE /verify/{id}", a.deleteVerify)
	a.rest.Handle(mux, "GET /verify/messages/email/{id}", a.getVerifyEmail)
	rest.MethodNotAllowed(mux, "/verify", "/verify/{id}", "/verify/messages/email/{id}")
}

// verifyFields are the names POST /verify reads: MessageBird's parameters
// (datacoding as the Node and PHP SDKs spell it, dataCoding as Go does)
// and omnigate's own ip, the end user's address for the per-IP velocity
// limit.
var verifyFields = map[string]bool{
	"recipient": true, "originator": true, "reference": true, "type": true, "template": true,
	"datacoding": true, "dataCoding": true, "reportUrl": true, "voice": true, "language": true,
	"timeout": true, "tokenLength": true, "subject": true, "ip": true,
}

// decodeVerify reads POST /verify in JSON or form encoding, with the
// query's parameters merged in (the PHP SDK sends them there); the body
// wins where both have one.
func decodeVerify(w http.ResponseWriter, r *http.Request, limit int64) (map[string]string, []string, *rest.Problem) {
	body, p := rest.ReadBody(w, r, limit)
	if p != nil {
		return nil, nil, p
	}
	fields := map[string]string{}
	var unknown []string
	add := func(name, v string) {
		if !verifyFields[name] {
			unknown = append(unknown, name)
			return
		}
		if name == "dataCoding" {
			name = "datacoding"
		}
		fields[name] = v
	}
	query := r.URL.Query()
	if p := rest.CheckForm(query); p != nil {
		return nil, nil, p
	}
	for k, vs := range query {
		add(k, vs[len(vs)-1])
	}
	if len(bytes.TrimSpace(body)) > 0 {
		kind, p := rest.BodyKind(r, body)
		if p != nil {
			return nil, nil, p
		}
		switch kind {
		case "json":
			if p := rest.CheckJSON(body); p != nil {
				return nil, nil, p
			}
			var raw map[string]json.RawMessage
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&raw); err != nil {
				return nil, nil, rest.Malformed("malformed JSON: " + err.Error())
			}
			if dec.More() {
				return nil, nil, rest.Malformed("malformed JSON: data after the object")
			}
			for k, v := range raw {
				if !verifyFields[k] {
					add(k, "")
					continue
				}
				s, p := rest.JSONText(k, v)
				if p != nil {
					return nil, nil, p
				}
				add(k, s)
			}
		case "form":
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, nil, rest.Malformed("malformed form body: " + err.Error())
			}
			if p := rest.CheckForm(form); p != nil {
				return nil, nil, p
			}
			for k, vs := range form {
				add(k, vs[len(vs)-1])
			}
		}
	}
	return fields, unknown, nil
}

// verifyRequest turns the fields into the service's request.
func verifyRequest(f map[string]string) (verify.Request, *rest.Problem) {
	req := verify.Request{Recipient: f["recipient"], Originator: strings.TrimSpace(f["originator"]), Reference: f["reference"],
		Type: strings.ToLower(strings.TrimSpace(f["type"])), Template: f["template"], DataCoding: f["datacoding"],
		Language: f["language"], ReportURL: strings.TrimSpace(f["reportUrl"]), Subject: f["subject"], IP: f["ip"]}
	if strings.TrimSpace(req.Recipient) == "" {
		return req, rest.Missing("recipient")
	}
	intField := func(name string) (int, *rest.Problem) {
		s := strings.TrimSpace(f[name])
		if s == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return 0, rest.Invalid(name, name+" must be a positive integer")
		}
		return n, nil
	}
	t, p := intField("timeout")
	if p != nil {
		return req, p
	}
	req.Timeout = time.Duration(t) * time.Second
	if req.TokenLength, p = intField("tokenLength"); p != nil {
		return req, p
	}
	if req.Type != verify.TypeEmail && req.Originator != "" {
		if p := validOriginator(req.Originator); p != nil {
			return req, p
		}
	}
	if req.DataCoding != "" && req.DataCoding != "plain" && req.DataCoding != "unicode" && req.DataCoding != "auto" {
		return req, rest.Invalid("datacoding", "datacoding must be plain, unicode or auto")
	}
	if req.ReportURL != "" {
		u, err := url.Parse(req.ReportURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(req.ReportURL) > 2048 {
			return req, rest.Invalid("reportUrl", "reportUrl must be an absolute http or https URL")
		}
	}
	if v := strings.TrimSpace(f["voice"]); v != "" && v != "male" && v != "female" {
		return req, rest.Invalid("voice", "voice must be male or female")
	}
	if len(req.IP) > 64 {
		return req, rest.Invalid("ip", "ip must be the end user's IP address")
	}
	return req, nil
}

// createVerify handles POST /verify.
func (a *API) createVerify(w http.ResponseWriter, r *http.Request) error {
	f, unknown, p := decodeVerify(w, r, a.rest.MaxBody())
	if p != nil {
		return p
	}
	a.countUnknown(unknown)
	req, p := verifyRequest(f)
	if p != nil {
		return p
	}
	pr := rest.Principal(r.Context())
	req.AccountID, req.Test = pr.AccountID, pr.Test
	res, err := a.verify.Create(r.Context(), req)
	if err != nil {
		return verifyProblem(err)
	}
	rest.WriteJSON(w, http.StatusCreated, renderVerify(a.verify, res.Verification, a.rest.BaseURL(r)))
	return nil
}

// getVerify handles GET /verify/{id}: with a token it checks the code.
func (a *API) getVerify(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	id := r.PathValue("id")
	q := r.URL.Query()
	if pr.Test {
		return errVerifyNotFound() // test keys see no live verification; theirs are not stored
	}
	var v *store.Verification
	var err error
	if _, ok := q["token"]; ok {
		token := strings.TrimSpace(q.Get("token"))
		if token == "" {
			return rest.Missing("token")
		}
		if len(token) > verify.MaxTokenLength || strings.Trim(token, "0123456789") != "" {
			return rest.Invalid("token", "token must be the code's digits")
		}
		v, err = a.verify.Check(r.Context(), pr.AccountID, id, token)
	} else {
		v, err = a.verify.Get(r.Context(), pr.AccountID, id)
	}
	if err != nil {
		return verifyProblem(err)
	}
	rest.WriteJSON(w, http.StatusOK, renderVerify(a.verify, v, a.rest.BaseURL(r)))
	return nil
}

// deleteVerify handles DELETE /verify/{id}: 204.
func (a *API) deleteVerify(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errVerifyNotFound()
	}
	if err := a.verify.Delete(r.Context(), pr.AccountID, r.PathValue("id")); err != nil {
		return verifyProblem(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getVerifyEmail handles GET /verify/messages/email/{id}: the email that
// carried a code, {id, status}.
func (a *API) getVerifyEmail(w http.ResponseWriter, r *http.Request) error {
	pr := rest.Principal(r.Context())
	if pr.Test {
		return errVerifyNotFound()
	}
	m, err := a.store.GetMessage(r.Context(), pr.AccountID, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || err == nil && (m.Channel != message.ChannelEmail || len(m.Recipients) == 0) {
		return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "verify email message not found")
	}
	if err != nil {
		return err
	}
	rest.WriteJSON(w, http.StatusOK, struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}{m.ID, string(m.Recipients[0].Status)})
	return nil
}

func errVerifyNotFound() *rest.Problem {
	return rest.NewProblem(http.StatusNotFound, rest.CodeNotFound, "", "verification not found")
}

// verifyProblem answers the service's errors in MessageBird's format;
// others go on to the shared mapping (compliance, balance …).
func verifyProblem(err error) error {
	var wrong *verify.ErrWrongCode
	var done *verify.ErrNotPending
	var refused *verify.Refusal
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errVerifyNotFound()
	case errors.As(err, &wrong):
		if wrong.Left == 0 {
			return rest.Invalid("token", "The token is invalid. Too many wrong tokens: the verification has failed; create a new one")
		}
		return rest.Invalid("token", fmt.Sprintf("The token is invalid. %d attempts left", wrong.Left))
	case errors.As(err, &done):
		return rest.Invalid("token", "The verification is "+done.Status+"; its token can no longer be checked")
	case errors.As(err, &refused):
		status := http.StatusUnprocessableEntity // as a compliance refusal (rest.errCompliance)
		if refused.Velocity {
			status = http.StatusTooManyRequests
		}
		return rest.NewProblem(status, rest.CodeCompliance, "recipient", refused.Error())
	}
	return err
}

// verifyJSON is a Verify object as the SDKs parse it.
type verifyJSON struct {
	ID                 string            `json:"id"`
	Href               string            `json:"href"`
	Recipient          any               `json:"recipient"` // an integer for numbers, a string for email
	Reference          *string           `json:"reference"`
	Messages           map[string]string `json:"messages"`
	Status             string            `json:"status"`
	CreatedDatetime    string            `json:"createdDatetime"`
	ValidUntilDatetime string            `json:"validUntilDatetime"`
}

func renderVerify(s *verify.Service, v *store.Verification, base string) verifyJSON {
	out := verifyJSON{ID: v.ID, Href: base + "/verify/" + v.ID, Status: s.Status(v),
		CreatedDatetime: v.CreatedAt.UTC().Format(message.TimeLayout), ValidUntilDatetime: v.ValidUntil.UTC().Format(message.TimeLayout)}
	if v.Reference != "" {
		out.Reference = &v.Reference
	}
	if v.Type == verify.TypeEmail {
		out.Recipient = v.Recipient
		out.Messages = map[string]string{"href": base + "/verify/messages/email/" + v.MessageID}
	} else {
		out.Recipient = json.Number(v.Recipient)
		out.Messages = map[string]string{"href": base + "/messages/" + v.MessageID}
	}
	return out
}
