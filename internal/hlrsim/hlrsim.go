// Package hlrsim is the HLR simulator: an hlr.Provider that answers from
// rules on the number instead of asking a network, after a delay like a
// real HLR's, so that Lookup, HLR and the check before sending work in the
// demo and in tests without a vendor.
//
// The last digit of the MSISDN decides the answer:
//
//	0     absent   the subscriber is known but not reachable (handset off)
//	1     unknown  the network does not know the number
//	2     active   reachable, ported to another network of its country
//	3     active   reachable, roaming abroad
//	4     failed   the HLR answered with a system failure (the query is refunded)
//	5–9   active   reachable, on its home network
//
// The network is a real MCC+MNC of the number's country for the countries
// in the table below (the first operator listed is the home network, the
// second the one ported numbers move to), 0 for others.
package hlrsim

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/omnigate/omnigate/internal/hlr"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/store"
)

// DefaultDelay is the simulator's mean answer time: real HLR queries take
// a few hundred milliseconds to a few seconds.
const DefaultDelay = 500 * time.Millisecond

// Config tunes the simulator.
type Config struct {
	// Delay is the mean time to answer; each answer takes between half and
	// one and a half times it. Default DefaultDelay; negative: at once.
	Delay time.Duration
}

// Simulator answers HLR queries by the rules in the package comment.
type Simulator struct {
	delay time.Duration
}

var _ hlr.Provider = (*Simulator)(nil)

// New makes a simulator.
func New(cfg Config) *Simulator {
	switch {
	case cfg.Delay == 0:
		cfg.Delay = DefaultDelay
	case cfg.Delay < 0:
		cfg.Delay = 0
	}
	return &Simulator{delay: cfg.Delay}
}

// Name implements hlr.Provider.
func (s *Simulator) Name() string { return "simulator" }

// networks are mobile networks (MCC+MNC) per country: home, then ported-to.
var networks = map[string][2]int{
	"NL": {20408, 20416}, "GB": {23415, 23430}, "DE": {26201, 26202}, "FR": {20801, 20810},
	"BE": {20601, 20610}, "ES": {21401, 21403}, "IT": {22201, 22210}, "US": {310260, 310410},
}

// Query implements hlr.Provider.
func (s *Simulator) Query(ctx context.Context, q hlr.Query) (hlr.Result, error) {
	if s.delay > 0 {
		d := s.delay/2 + rand.N(s.delay+1)
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return hlr.Result{}, ctx.Err()
		case <-t.C:
		}
	}
	if q.MSISDN == "" {
		return hlr.Result{}, fmt.Errorf("hlrsim: no number")
	}
	country := q.Country
	if country == "" {
		if n, err := phone.Parse(q.MSISDN); err == nil {
			country = n.Country
		}
	}
	nets, known := networks[country]
	d := hlr.Details{CountryISO: country, CountryName: phone.CountryName(country)}
	res := hlr.Result{Network: nets[0]}
	switch q.MSISDN[len(q.MSISDN)-1] {
	case '0':
		res.Status, d.StatusDesc = store.HLRAbsent, "absent subscriber"
		d.IMSI = imsi(nets[0], q.MSISDN)
	case '1':
		res.Status, res.Network, d.StatusDesc = store.HLRUnknown, 0, "unknown subscriber"
	case '4':
		res.Status, res.Network, d.StatusDesc = store.HLRFailed, 0, "system failure"
	default:
		res.Status, d.StatusDesc = store.HLRActive, "subscriber is reachable"
		d.LocationISO = country
		switch q.MSISDN[len(q.MSISDN)-1] {
		case '2':
			d.Ported, res.Network = 1, nets[1]
		case '3':
			d.Roaming, d.LocationISO = 1, "DE"
			if country == "DE" {
				d.LocationISO = "NL"
			}
		}
		d.IMSI = imsi(res.Network, q.MSISDN)
		d.LocationMSC = msc(d.LocationISO, q.MSISDN)
	}
	if !known {
		res.Network = 0
	}
	res.Details = d
	return res, nil
}

// imsi makes a stable, plausible IMSI for a number on a network: the MCC
// and MNC, then digits from the number's hash (15 digits in all).
func imsi(network int, msisdn string) string {
	if network == 0 {
		return ""
	}
	prefix := fmt.Sprint(network)
	return prefix + fmt.Sprintf("%015d", hash(msisdn))[:15-len(prefix)]
}

// msc makes a stable MSC address in the location's country.
func msc(iso, msisdn string) string {
	cc := map[string]string{"NL": "31", "GB": "44", "DE": "49", "FR": "33", "BE": "32", "ES": "34", "IT": "39", "US": "1"}[iso]
	if cc == "" {
		return ""
	}
	return cc + fmt.Sprintf("%09d", hash(msisdn)%1_000_000_000)
}

func hash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64() % 1_000_000_000_000_000
}
