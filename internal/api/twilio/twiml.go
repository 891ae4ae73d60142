package twilio

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxTwiML bounds the answer of an SMS webhook that is read as TwiML.
const MaxTwiML = 64 << 10

// maxReplies bounds the <Message> verbs of one answer that are sent.
const maxReplies = 10

// Reply is one <Message> of a TwiML answer: Body sent to To from From;
// an empty To or From means the inbound message's sender or number.
type Reply struct {
	To, From string
	Body     string
	Action   string // the action attribute: where its status callbacks go
}

// twimlResponse is the part of a TwiML document the door acts on; other
// verbs (<Redirect>, <Reject>…) and unknown elements are ignored.
type twimlResponse struct {
	XMLName  xml.Name       `xml:"Response"`
	Messages []twimlMessage `xml:"Message"`
}

type twimlMessage struct {
	To     string   `xml:"to,attr"`
	From   string   `xml:"from,attr"`
	Action string   `xml:"action,attr"`
	Text   string   `xml:",chardata"`
	Body   []string `xml:"Body"`
}

// ParseTwiML reads the <Message> verbs of a messaging TwiML document. An
// empty document (or only white space) has none; anything else must be
// one <Response> element of at most MaxTwiML bytes with at most 10
// messages.
func ParseTwiML(doc []byte) ([]Reply, error) {
	if len(doc) > MaxTwiML {
		return nil, fmt.Errorf("TwiML of %d bytes: at most %d", len(doc), MaxTwiML)
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, nil
	}
	var resp twimlResponse
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = true
	if err := d.Decode(&resp); err != nil {
		return nil, fmt.Errorf("TwiML is not a <Response> document: %w", err)
	}
	// Nothing but white space, comments or processing instructions may
	// follow the document.
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("TwiML: after </Response>: %w", err)
		}
		if cd, ok := tok.(xml.CharData); ok && len(bytes.TrimSpace(cd)) == 0 {
			continue
		}
		switch tok.(type) {
		case xml.Comment, xml.ProcInst:
			continue
		}
		return nil, errors.New("TwiML: content after </Response>")
	}
	if len(resp.Messages) > maxReplies {
		return nil, fmt.Errorf("TwiML has %d <Message> verbs: at most %d", len(resp.Messages), maxReplies)
	}
	out := make([]Reply, 0, len(resp.Messages))
	for _, m := range resp.Messages {
		body := m.Text
		if len(m.Body) > 0 {
			body = strings.Join(m.Body, "")
		}
		out = append(out, Reply{To: strings.TrimSpace(m.To), From: strings.TrimSpace(m.From),
			Body: strings.TrimSpace(body), Action: strings.TrimSpace(m.Action)})
	}
	return out, nil
}
