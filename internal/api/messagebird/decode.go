package messagebird

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/omnigate/omnigate/internal/api/rest"
)

// maxRecipients is MessageBird's limit per request.
const maxRecipients = 50

// createRequest is POST /messages after decoding, whatever the encoding.
type createRequest struct {
	Originator string
	Body       string
	Recipients []string
	GroupIDs   []string
	// GroupNumbers are the groups' numbers, resolved at acceptance.
	GroupNumbers      []string
	Type              string
	Reference         string
	ReportURL         string
	DataCoding        string
	Validity          *int
	Gateway           *int
	MClass            *int
	ScheduledDatetime string
	TypeDetails       map[string]any
	Purpose           string
	Categories        []string
	Urgent            bool
	// Unknown names the parameters given that the door does not know;
	// they are ignored, as MessageBird does, and counted.
	Unknown []string
}

// knownFields are the names POST /messages reads. Besides the documented
// parameters they include those the PHP SDK sends back from a whole message
// object (direction, id, href, createdDatetime …), which are ignored. Other
// names are ignored too (SDKs and older integrations send fields omnigate
// does not know, and MessageBird ignores them), but counted; a known
// parameter with a malformed value is an error.
var knownFields = map[string]bool{
	"originator": true, "body": true, "recipients": true, "groupIds": true, "type": true, "reference": true,
	"reportUrl": true, "datacoding": true, "validity": true, "gateway": true, "mclass": true,
	"scheduledDatetime": true, "typeDetails": true, "shortenUrls": true,
	"direction": true, "id": true, "href": true, "createdDatetime": true,
	// omnigate's own: compliance
	"purpose": true, "categories": true, "urgent": true,
}

// decodeCreate reads POST /messages in JSON or form encoding.
func decodeCreate(w http.ResponseWriter, r *http.Request, limit int64) (*createRequest, *rest.Problem) {
	body, p := rest.ReadBody(w, r, limit)
	if p != nil {
		return nil, p
	}
	kind, p := rest.BodyKind(r, body)
	if p != nil {
		return nil, p
	}
	switch kind {
	case "json":
		return decodeCreateJSON(body)
	case "form":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, rest.Malformed("malformed form body: " + err.Error())
		}
		return decodeCreateForm(form)
	}
	return nil, rest.Missing("recipients")
}

func decodeCreateJSON(body []byte) (*createRequest, *rest.Problem) {
	if p := rest.CheckJSON(body); p != nil {
		return nil, p
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil {
		return nil, rest.Malformed("malformed JSON: " + err.Error())
	}
	if dec.More() {
		return nil, rest.Malformed("malformed JSON: data after the object")
	}
	var req createRequest
	for name, raw := range fields {
		if !knownFields[name] {
			req.Unknown = append(req.Unknown, name)
			continue
		}
		var p *rest.Problem
		switch name {
		case "originator":
			req.Originator, p = rest.JSONText(name, raw)
		case "body":
			req.Body, p = rest.JSONText(name, raw)
		case "type":
			req.Type, p = rest.JSONText(name, raw)
		case "reference":
			req.Reference, p = rest.JSONText(name, raw)
		case "reportUrl":
			req.ReportURL, p = rest.JSONText(name, raw)
		case "datacoding":
			req.DataCoding, p = rest.JSONText(name, raw)
		case "scheduledDatetime":
			req.ScheduledDatetime, p = rest.JSONText(name, raw)
		case "direction":
			var dir string
			if dir, p = rest.JSONText(name, raw); p == nil && dir != "" && dir != "mt" {
				p = rest.Invalid(name, "only mt (outbound) messages can be created")
			}
		case "validity":
			req.Validity, p = rest.JSONInt(name, raw)
		case "gateway":
			req.Gateway, p = rest.JSONInt(name, raw)
		case "mclass":
			req.MClass, p = rest.JSONInt(name, raw)
		case "recipients":
			req.Recipients, p = rest.JSONList(name, raw, true)
		case "groupIds":
			req.GroupIDs, p = rest.JSONList(name, raw, false)
		case "typeDetails":
			req.TypeDetails, p = rest.JSONObject(name, raw)
		case "purpose":
			req.Purpose, p = rest.JSONText(name, raw)
		case "categories":
			req.Categories, p = rest.JSONList(name, raw, true)
		case "urgent":
			req.Urgent, p = rest.JSONBool(name, raw)
		}
		if p != nil {
			return nil, p
		}
	}
	return &req, nil
}

func decodeCreateForm(form url.Values) (*createRequest, *rest.Problem) {
	if p := rest.CheckForm(form); p != nil {
		return nil, p
	}
	var req createRequest
	for key, vals := range form {
		name, sub, hasSub := strings.Cut(key, "[")
		if !knownFields[name] {
			req.Unknown = append(req.Unknown, name)
			continue
		}
		last := vals[len(vals)-1]
		switch name {
		case "recipients":
			for _, v := range vals {
				req.Recipients = append(req.Recipients, rest.SplitList(v)...)
			}
		case "groupIds":
			for _, v := range vals {
				req.GroupIDs = append(req.GroupIDs, rest.SplitList(v)...)
			}
		case "categories":
			for _, v := range vals {
				req.Categories = append(req.Categories, rest.SplitList(v)...)
			}
		case "typeDetails":
			sub = strings.TrimSuffix(sub, "]")
			if !hasSub || sub == "" {
				return nil, rest.Invalid(name, "send typeDetails as typeDetails[key]=value")
			}
			if req.TypeDetails == nil {
				req.TypeDetails = map[string]any{}
			}
			req.TypeDetails[sub] = last
		default:
			if p := req.setFormField(name, last); p != nil {
				return nil, p
			}
		}
	}
	return &req, nil
}

func (req *createRequest) setFormField(name, v string) *rest.Problem {
	intField := func(dst **int) *rest.Problem {
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return rest.Invalid(name, name+" must be an integer")
		}
		*dst = &n
		return nil
	}
	switch name {
	case "originator":
		req.Originator = v
	case "body":
		req.Body = v
	case "type":
		req.Type = v
	case "reference":
		req.Reference = v
	case "reportUrl":
		req.ReportURL = v
	case "datacoding":
		req.DataCoding = v
	case "scheduledDatetime":
		req.ScheduledDatetime = v
	case "direction":
		if v != "" && v != "mt" {
			return rest.Invalid(name, "only mt (outbound) messages can be created")
		}
	case "purpose":
		req.Purpose = v
	case "urgent":
		switch v {
		case "", "false", "0":
		case "true", "1":
			req.Urgent = true
		default:
			return rest.Invalid(name, name+" must be true or false")
		}
	case "validity":
		return intField(&req.Validity)
	case "gateway":
		return intField(&req.Gateway)
	case "mclass":
		return intField(&req.MClass)
	}
	return nil
}
