package smsc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	codec "github.com/omnigate/omnigate/internal/smpp"
	"github.com/omnigate/omnigate/internal/smstext"
)

// Inject queues an inbound message from a handset (from) to a number (to)
// for the ESMEs bound with systemID ("" for the configured one), split into
// concatenated parts when it is long.
func (s *Server) Inject(systemID, from, to, text string) error {
	if from == "" || to == "" || text == "" {
		return errors.New("smsc: inject needs from, to and text")
	}
	if systemID == "" {
		systemID = s.cfg.SystemID
	}
	if systemID == "" {
		return errors.New("smsc: inject needs a system_id (none is configured)")
	}
	info := smstext.Analyze(text, smstext.ModeAuto)
	segs := smstext.Segments(text, info.Coding, smstext.UDH8)
	ref := uint16(s.injectRef.Add(1) & 0xFF)
	now := time.Now()
	for i, seg := range segs {
		d := &codec.DeliverSM{
			SourceTON: codec.TONInternational, SourceNPI: codec.NPIISDN, SourceAddr: from,
			DestTON: codec.TONInternational, DestNPI: codec.NPIISDN, DestAddr: to,
		}
		var body []byte
		if info.Coding == smstext.UCS2 {
			d.DataCoding, body = codec.DataCodingUCS2, smstext.EncodeUCS2(seg)
		} else {
			body = smstext.EncodeGSM7(seg)
		}
		if len(segs) > 1 {
			udh, err := codec.AppendConcatUDH(nil, codec.Concat{Ref: ref, Total: uint8(len(segs)), Seq: uint8(i + 1)})
			if err != nil {
				return err
			}
			d.ESMClass |= codec.ESMClassUDHI
			body = append(udh, body...)
		}
		d.ShortMessage = body
		s.queue.add(&queued{due: now, systemID: systemID, pdu: d})
	}
	s.stats.Injected.Add(1)
	return nil
}

// ControlHandler is a small HTTP API for tests and demos, meant for
// loopback only: POST /inject {"system_id","from","to","text"} queues an
// inbound message; GET /stats reports counters.
func (s *Server) ControlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /inject", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			SystemID string `json:"system_id"`
			From     string `json:"from"`
			To       string `json:"to"`
			Text     string `json:"text"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			http.Error(w, fmt.Sprintf("bad request: %v", err), http.StatusBadRequest)
			return
		}
		if err := s.Inject(req.SystemID, req.From, req.To, req.Text); err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		st := s.Stats()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]int64{
			"binds": st.Binds.Load(), "submits": st.Submits.Load(), "throttled": st.Throttled.Load(),
			"receipts": st.Receipts.Load(), "injected": st.Injected.Load(), "drops": st.Drops.Load(),
			"queued": int64(s.queue.len()), "bound": int64(s.Bound()), "refused": st.Refused.Load(),
		})
	})
	return mux
}
