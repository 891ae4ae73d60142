package compliance

import (
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// ProofDocument is the export that proves a recipient's consent: every
// ledger entry, with its evidence, and the state it leaves.
type ProofDocument struct {
	AccountID   string          `json:"accountId"`
	Recipient   string          `json:"recipient"`
	GeneratedAt time.Time       `json:"generatedDatetime"`
	Marketing   string          `json:"marketing"` // "opted in", "opted out" or "no record"
	LegalAge    bool            `json:"legalAge"`
	Entries     []store.Consent `json:"entries"`
}

// Proof builds the proof document from a recipient's history.
func Proof(accountID, recipient string, history []store.Consent, now time.Time) ProofDocument {
	d := ProofDocument{AccountID: accountID, Recipient: recipient, GeneratedAt: now, Marketing: "no record", Entries: history}
	if d.Entries == nil {
		d.Entries = []store.Consent{}
	}
	for _, c := range history {
		if c.Purpose != Marketing {
			continue
		}
		if c.Action == store.OptIn {
			d.Marketing, d.LegalAge = "opted in", c.LegalAge
		} else {
			d.Marketing, d.LegalAge = "opted out", false
		}
	}
	return d
}

// WriteProofCSV writes a recipient's history as CSV, evidence flattened.
func WriteProofCSV(w io.Writer, history []store.Consent) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "date", "recipient", "purpose", "action", "legal_age", "categories", "source", "actor", "evidence"})
	for _, c := range history {
		var ev []string
		for k, v := range c.Evidence {
			ev = append(ev, k+"="+v)
		}
		sort.Strings(ev)
		cw.Write([]string{strconv.FormatInt(c.ID, 10), c.CreatedAt.Format(time.RFC3339), c.Recipient, c.Purpose, c.Action,
			strconv.FormatBool(c.LegalAge), strings.Join(c.Categories, ";"), c.Source, c.Actor, strings.Join(ev, "; ")})
	}
	cw.Flush()
	return cw.Error()
}
