package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/hlr"
	"github.com/omnigate/omnigate/internal/hlrsim"
	"github.com/omnigate/omnigate/internal/message"
	"github.com/omnigate/omnigate/internal/pipeline"
	"github.com/omnigate/omnigate/internal/store"
)

// HLRChannel is the price lists' channel of HLR queries: one price per
// query ("query"), by country and number prefix like SMS prices.
const HLRChannel = "hlr"

// withHLRUnit adds HLR queries to the channels billing prices.
func withHLRUnit(units map[string]string) map[string]string {
	units[HLRChannel] = "query"
	return units
}

// newHLR builds the HLR service: Config.HLR's provider, or the simulator
// with HLRSimulator or Demo; priced from the price lists' "hlr" channel
// unless billing is off.
func (a *App) newHLR(node string, accounts *store.AccountCache) *hlr.Service {
	cfg := a.cfg.HLR
	cfg.Pool.Owner = node
	if cfg.Provider == nil && (a.cfg.HLRSimulator || a.cfg.Demo) {
		cfg.Provider = hlrsim.New(hlrsim.Config{Delay: a.cfg.HLRSimDelay})
	}
	if cfg.Price == nil && !a.cfg.Billing.Disabled {
		pricer := a.billing.Pricer()
		cfg.Price = func(ctx context.Context, accountID, country, msisdn string) (int64, error) {
			acct, err := accounts.Get(ctx, accountID)
			if err != nil {
				return 0, fmt.Errorf("pricing an HLR query: %w", err)
			}
			q, err := pricer.Lookup(ctx, accountID, HLRChannel, acct.Currency, country, msisdn)
			if errors.Is(err, billing.ErrNoPrice) {
				return 0, &billing.NoPriceError{Recipient: msisdn, Country: country}
			}
			if err != nil {
				return 0, fmt.Errorf("pricing an HLR query: %w", err)
			}
			return q.Price, nil
		}
	}
	answers := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "omnigate_hlr_queries_total", Help: "HLR queries answered, by origin (api, presend) and status (active, absent, unknown, failed).",
	}, []string{"origin", "status"})
	a.metrics.Registry.MustRegister(answers)
	onAnswer := cfg.OnAnswer
	cfg.OnAnswer = func(q *store.HLRQuery) {
		answers.WithLabelValues(q.Origin, q.Status).Inc()
		if onAnswer != nil {
			onAnswer(q)
		}
	}
	return hlr.New(cfg, a.store, a.log)
}

// reachOf is the pipeline's check before sending, by s.
func reachOf(s *hlr.Service) pipeline.Reach {
	return func(ctx context.Context, m *message.Message) (map[int]pipeline.Unreachable, error) {
		refused, err := s.Unreachable(ctx, m)
		if err != nil || len(refused) == 0 {
			return nil, err
		}
		out := make(map[int]pipeline.Unreachable, len(refused))
		for i, r := range refused {
			out[i] = pipeline.Unreachable{Rule: "hlr." + r.Status, Code: r.Code, Reason: r.Reason}
		}
		return out, nil
	}
}

// demoHLRPrice is what a demo HLR query costs when no price list exists
// yet: 0.01 EUR.
const demoHLRPrice = 10_000

// printDemoHLR adds Lookup and HLR to the demo banner.
func (a *App) printDemoHLR(w io.Writer) {
	fmt.Fprintf(w, `Look a number up, and ask the HLR simulator about it (the last digit decides:
0 absent, 1 unknown, 2 ported, 3 roaming, 4 failed, others active; docs/lookup.md):

  curl -H "Authorization: AccessKey %[2]s" %[1]s/lookup/31612345678
  curl -X POST -H "Authorization: AccessKey %[2]s" %[1]s/hlr -d msisdn=31612345672
  curl -H "Authorization: AccessKey %[2]s" %[1]s/hlr/ID

Send a one-time code (docs/verify.md), read it in the code's message
(messages.href of the answer), then check it:

  curl -X POST -H "Authorization: AccessKey %[2]s" %[1]s/verify -d recipient=31612345678
  curl -H "Authorization: AccessKey %[2]s" "%[1]s/verify/ID?token=CODE"

`, a.URL(), a.Demo.Key)
}

// PricedChannels are the channels price lists may name: the channel
// registry's, and HLR queries.
func PricedChannels() []string { return append(Channels().Channels(), HLRChannel) }
