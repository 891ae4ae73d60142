// Package smpp is omnigate's carrier connector over SMPP 3.4: it binds to an
// SMSC (one or more binds, transceiver or transmitter + receiver), submits
// every part of every SMS in the encoding the SMSC wants, records the
// SMSC's id for each part, and turns the SMSC's deliver_sm into delivery
// receipts and inbound messages for the platform.
//
// A connector is configured by its Settings (JSON, stored with the
// connector) and reconnects with backoff when a bind drops.
package smpp

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Bind modes.
const (
	BindTransceiver = "transceiver" // one bind both sends and receives
	BindTxRx        = "tx+rx"       // a transmitter and a receiver bind per bind slot
	BindTransmitter = "transmitter" // send only (no receipts, no inbound)
)

// How messages longer than one SMS are sent.
const (
	LongUDH8    = "udh8"    // concatenation UDH with an 8-bit reference (most common)
	LongUDH16   = "udh16"   // concatenation UDH with a 16-bit reference
	LongSAR     = "sar"     // sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs
	LongPayload = "payload" // the whole message in one message_payload TLV
)

// Duration is a time.Duration written as "30s" in JSON.
type Duration time.Duration

// MarshalJSON writes the duration as text.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "30s" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration must be text like \"30s\"")
	}
	*d = Duration(n)
	return nil
}

// Settings configure one SMPP connector. Zero values mean the defaults
// given in each field's comment.
type Settings struct {
	Host       string `json:"host"`                  // required
	Port       int    `json:"port,omitempty"`        // default 2775
	SystemID   string `json:"system_id"`             // required, at most 15 characters
	Password   string `json:"password,omitempty"`    // at most 8 characters
	SystemType string `json:"system_type,omitempty"` // at most 12 characters
	// BindMode is transceiver (default), tx+rx or transmitter.
	BindMode string `json:"bind_mode,omitempty"`
	// Binds is how many binds (each of BindMode) to keep; default 1.
	Binds int `json:"binds,omitempty"`
	// Window bounds submits awaiting a response per bind; default 10.
	Window int `json:"window,omitempty"`
	// Throughput caps submits per second per bind; 0 means no cap.
	Throughput float64 `json:"throughput,omitempty"`
	// RespTimeout bounds the wait for a response; default 10s.
	RespTimeout Duration `json:"resp_timeout,omitempty"`
	// EnquireInterval is the keep-alive period; default 30s.
	EnquireInterval Duration `json:"enquire_interval,omitempty"`
	// ReconnectMin and ReconnectMax bound the backoff between connection
	// attempts; defaults 1s and 1m.
	ReconnectMin Duration `json:"reconnect_min,omitempty"`
	ReconnectMax Duration `json:"reconnect_max,omitempty"`

	// SourceTON/SourceNPI override the sender's TON/NPI; by default they
	// follow the sender: alphanumeric 5/0, short code (up to 8 digits) 3/0,
	// international number 1/1.
	SourceTON *byte `json:"source_ton,omitempty"`
	SourceNPI *byte `json:"source_npi,omitempty"`
	// DestTON/DestNPI for recipients; default 1/1 (international, E.164).
	DestTON *byte `json:"dest_ton,omitempty"`
	DestNPI *byte `json:"dest_npi,omitempty"`

	// GSMDataCoding is the data_coding for GSM 03.38 text: 0 (SMSC default
	// alphabet, the default) or 1 (IA5) as the SMSC wants. UCS-2 text is
	// always 8.
	GSMDataCoding byte `json:"gsm_data_coding,omitempty"`
	// GSMPacked sends GSM text packed 8 septets in 7 octets; by default
	// one septet per octet, which most SMSCs expect over SMPP.
	GSMPacked bool `json:"gsm_packed,omitempty"`
	// LongMessages is udh8 (default), udh16, sar or payload.
	LongMessages string `json:"long_messages,omitempty"`
	// InboundDefaultCoding says how to read inbound data_coding 0:
	// gsm (default), latin1 or ascii.
	InboundDefaultCoding string `json:"inbound_default_coding,omitempty"`
	// RouteErrors are command_status values (decimal) that mean "this SMSC
	// cannot route the destination": the next connector on the route is
	// tried. Default: ESME_RINVDSTADR (11).
	RouteErrors []uint32 `json:"route_errors,omitempty"`
}

// ParseSettings reads and validates JSON settings, filling defaults.
func ParseSettings(b []byte) (Settings, error) {
	var s Settings
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("smpp settings: %w", err)
	}
	return s, s.Validate()
}

// WithDefaults fills unset fields.
func (s Settings) WithDefaults() Settings {
	if s.Port == 0 {
		s.Port = 2775
	}
	if s.BindMode == "" {
		s.BindMode = BindTransceiver
	}
	if s.Binds <= 0 {
		s.Binds = 1
	}
	if s.Window <= 0 {
		s.Window = 10
	}
	if s.RespTimeout <= 0 {
		s.RespTimeout = Duration(10 * time.Second)
	}
	if s.EnquireInterval <= 0 {
		s.EnquireInterval = Duration(30 * time.Second)
	}
	if s.ReconnectMin <= 0 {
		s.ReconnectMin = Duration(time.Second)
	}
	if s.ReconnectMax <= 0 {
		s.ReconnectMax = Duration(time.Minute)
	}
	if s.LongMessages == "" {
		s.LongMessages = LongUDH8
	}
	if s.InboundDefaultCoding == "" {
		s.InboundDefaultCoding = "gsm"
	}
	if s.RouteErrors == nil {
		s.RouteErrors = []uint32{0x0B}
	}
	return s
}

// Validate names the first setting that cannot work.
func (s Settings) Validate() error {
	switch {
	case s.Host == "":
		return fmt.Errorf("smpp settings: host is required")
	case s.Port < 0 || s.Port > 65535:
		return fmt.Errorf("smpp settings: port %d is out of range", s.Port)
	case s.SystemID == "" || len(s.SystemID) > 15:
		return fmt.Errorf("smpp settings: system_id must be 1 to 15 characters")
	case len(s.Password) > 8:
		return fmt.Errorf("smpp settings: password has at most 8 characters")
	case len(s.SystemType) > 12:
		return fmt.Errorf("smpp settings: system_type has at most 12 characters")
	case s.Binds < 0 || s.Binds > 64:
		return fmt.Errorf("smpp settings: binds must be 1 to 64")
	case s.Window < 0 || s.Window > 1000:
		return fmt.Errorf("smpp settings: window must be 1 to 1000")
	case s.Throughput < 0:
		return fmt.Errorf("smpp settings: throughput cannot be negative")
	case s.GSMDataCoding > 1:
		return fmt.Errorf("smpp settings: gsm_data_coding must be 0 or 1")
	}
	switch s.BindMode {
	case "", BindTransceiver, BindTxRx, BindTransmitter:
	default:
		return fmt.Errorf("smpp settings: bind_mode %q: use transceiver, tx+rx or transmitter", s.BindMode)
	}
	switch s.LongMessages {
	case "", LongUDH8, LongUDH16, LongSAR, LongPayload:
	default:
		return fmt.Errorf("smpp settings: long_messages %q: use udh8, udh16, sar or payload", s.LongMessages)
	}
	switch s.InboundDefaultCoding {
	case "", "gsm", "latin1", "ascii":
	default:
		return fmt.Errorf("smpp settings: inbound_default_coding %q: use gsm, latin1 or ascii", s.InboundDefaultCoding)
	}
	return s.validateBounds()
}

// Bounds of the numeric settings (0 is each one's default).
const (
	maxThroughput      = 100_000
	maxRespTimeout     = 10 * time.Minute
	maxEnquireInterval = time.Hour
	maxReconnect       = time.Hour
)

// validateBounds names the first number or duration out of its bounds.
func (s Settings) validateBounds() error {
	for _, d := range []struct {
		name    string
		v       Duration
		maximum time.Duration
	}{
		{"resp_timeout", s.RespTimeout, maxRespTimeout},
		{"enquire_interval", s.EnquireInterval, maxEnquireInterval},
		{"reconnect_min", s.ReconnectMin, maxReconnect},
		{"reconnect_max", s.ReconnectMax, maxReconnect},
	} {
		if d.v < 0 || time.Duration(d.v) > d.maximum {
			return fmt.Errorf("smpp settings: %s must be from 0 (the default) to %v", d.name, d.maximum)
		}
	}
	if s.ReconnectMin > 0 && s.ReconnectMax > 0 && s.ReconnectMin > s.ReconnectMax {
		return fmt.Errorf("smpp settings: reconnect_min is more than reconnect_max")
	}
	if math.IsNaN(s.Throughput) || s.Throughput > maxThroughput {
		return fmt.Errorf("smpp settings: throughput must be from 0 (no cap) to %d submits per second", maxThroughput)
	}
	return nil
}
