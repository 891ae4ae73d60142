package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/app"
	smppconn "github.com/omnigate/omnigate/internal/channel/smpp"
	"github.com/omnigate/omnigate/internal/phone"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// connectorCmd manages carrier connectors: add (or replace), list, remove.
func connectorCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("connector: say add, list, remove or activate")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("connector "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	switch args[0] {
	case "add":
		name := fs.String("name", "", "connector name (required)")
		reg := app.Channels()
		kind := fs.String("kind", smppconn.KindName, "connector kind: "+strings.Join(reg.Kinds(), ", "))
		var s smppconn.Settings
		fs.StringVar(&s.Host, "host", "", "SMSC host (required)")
		fs.IntVar(&s.Port, "port", 2775, "SMSC port")
		fs.StringVar(&s.SystemID, "system-id", "", "system_id (required)")
		fs.StringVar(&s.Password, "password", "", "password")
		fs.StringVar(&s.SystemType, "system-type", "", "system_type")
		fs.StringVar(&s.BindMode, "bind-mode", smppconn.BindTransceiver, "transceiver, tx+rx or transmitter")
		fs.IntVar(&s.Binds, "binds", 1, "number of binds")
		fs.IntVar(&s.Window, "window", 10, "submits awaiting a response, per bind")
		fs.Float64Var(&s.Throughput, "throughput", 0, "submits per second per bind (0: no cap)")
		fs.StringVar(&s.LongMessages, "long-messages", smppconn.LongUDH8, "udh8, udh16, sar or payload")
		fs.BoolVar(&s.GSMPacked, "gsm-packed", false, "pack GSM 7-bit text (8 characters in 7 octets)")
		settings := fs.String("settings", "", "all settings as JSON in the kind's shape, instead of the SMPP flags above (see docs/smpp.md)")
		disabled := fs.Bool("disabled", false, "store it without running it")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *name == "" {
			return usagef("connector add: --name is required")
		}
		k, ok := reg.Kind(*kind)
		if !ok {
			return usagef("connector add: unknown --kind %q; known kinds: %s", *kind, strings.Join(reg.Kinds(), ", "))
		}
		var raw []byte
		switch {
		case *settings != "":
			if err := k.Check([]byte(*settings)); err != nil {
				return usagef("connector add: --settings: %v", err)
			}
			raw = []byte(*settings)
		case k.Name != smppconn.KindName:
			return usagef("connector add: a %s connector takes its settings as JSON in --settings", k.Name)
		default:
			if err := s.Validate(); err != nil {
				return usagef("connector add: %v", err)
			}
			raw, _ = json.Marshal(s)
		}
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		c := store.ConnectorConfig{Name: *name, Kind: k.Name, Settings: raw, Enabled: !*disabled, UpdatedAt: time.Now().UTC()}
		if err := st.SaveConnector(ctx, c); err != nil {
			return err
		}
		return printJSON(stdout, showConnector(c))
	case "list":
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return printList(ctx, cfg, stdout, func(st *sqlstore.Store) ([]store.ConnectorConfig, error) { return st.ListConnectors(ctx) }, showConnector)
	case "remove":
		name := fs.String("name", "", "connector name (required)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.DeleteConnector(ctx, *name); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("connector remove: no connector %q", *name)
		} else if err != nil {
			return err
		}
		return printJSON(stdout, map[string]string{"removed": *name})
	case "activate":
		// A connector suspended because its provider account was gone
		// (docs/whatsapp.md) goes back into use on every node within the
		// reload interval.
		name := fs.String("name", "", "connector name (required)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if *name == "" {
			return usagef("connector activate: --name is required")
		}
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		changed, err := st.SuspendConnector(ctx, *name, "", 0, time.Now().UTC(), nil)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("connector activate: no connector %q", *name)
		} else if err != nil {
			return err
		}
		return printJSON(stdout, map[string]any{"activated": *name, "wasSuspended": changed})
	}
	return usagef("connector: unknown subcommand %q (add, list, remove, activate)", args[0])
}

type connectorJSON struct {
	Name     string          `json:"name"`
	Kind     string          `json:"kind"`
	Enabled  bool            `json:"enabled"`
	Settings json.RawMessage `json:"settings"`
	Updated  string          `json:"updated"`
	// Suspended is why the connector is suspended (its provider account
	// is gone), with the provider's code; absent when active.
	Suspended     string `json:"suspended,omitempty"`
	SuspendedCode int    `json:"suspendedCode,omitempty"`
	SuspendedAt   string `json:"suspendedAt,omitempty"`
}

// showConnector shows a connector with its password (and other secrets)
// hidden.
func showConnector(c store.ConnectorConfig) connectorJSON {
	var m map[string]any
	if json.Unmarshal(c.Settings, &m) == nil {
		// SMPP's password; a WhatsApp connector's token and secrets.
		for _, secret := range []string{"password", "accessToken", "appSecret", "verifyToken"} {
			if _, ok := m[secret]; ok {
				m[secret] = "********"
			}
		}
	}
	raw, _ := json.Marshal(m)
	out := connectorJSON{Name: c.Name, Kind: c.Kind, Enabled: c.Enabled, Settings: raw, Updated: c.UpdatedAt.Format(time.RFC3339),
		Suspended: c.Suspended, SuspendedCode: c.SuspendedCode}
	if c.Suspended != "" {
		out.SuspendedAt = c.SuspendedAt.Format(time.RFC3339)
	}
	return out
}

// routeCmd manages the route table: add, list, remove.
func routeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("route: say add, list or remove")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("route "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	switch args[0] {
	case "add":
		r := store.Route{CreatedAt: time.Now().UTC()}
		fs.StringVar(&r.AccountID, "account", "", "make it an override for this account (default: the default table)")
		reg := app.Channels()
		fs.StringVar(&r.Channel, "channel", "sms", "the channel it routes: "+strings.Join(reg.Channels(), ", "))
		fs.StringVar(&r.Sender, "sender", "", "only messages from this originator (an SMS sender, a chat app's channel id; default: any)")
		fs.StringVar(&r.Prefix, "prefix", "", "number prefix, digits, e.g. 316 (default: any)")
		fs.StringVar(&r.Country, "country", "", "ISO 3166 country code, e.g. NL (default: any)")
		fs.StringVar(&r.Domain, "domain", "", "email domain, e.g. example.com; matches its subdomains too (default: any)")
		conns := fs.String("connectors", "", "connector names in order of preference, comma separated (required)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		if _, ok := reg.Channel(r.Channel); !ok {
			return usagef("route add: unknown --channel %q; known channels: %s", r.Channel, strings.Join(reg.Channels(), ", "))
		}
		r.Domain = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(r.Domain), "@"))
		if r.Domain != "" && (strings.ContainsAny(r.Domain, " @/") || !strings.Contains(r.Domain, ".")) {
			return usagef("route add: --domain %q is not a domain such as example.com", r.Domain)
		}
		r.Prefix = strings.TrimPrefix(r.Prefix, "+")
		if strings.Trim(r.Prefix, "0123456789") != "" || len(r.Prefix) > 15 {
			return usagef("route add: --prefix must be digits")
		}
		r.Country = strings.ToUpper(r.Country)
		if r.Country != "" && !phone.KnownCountry(r.Country) {
			return usagef("route add: --country %q is not a country code such as NL", r.Country)
		}
		for _, c := range strings.Split(*conns, ",") {
			if c = strings.TrimSpace(c); c != "" {
				r.Connectors = append(r.Connectors, c)
			}
		}
		if len(r.Connectors) == 0 {
			return usagef("route add: --connectors is required")
		}
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.AddRoute(ctx, &r); errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("route add: a route for this account, channel, sender and destination exists; remove it first")
		} else if err != nil {
			return err
		}
		return printJSON(stdout, showRoute(r))
	case "list":
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		return printList(ctx, cfg, stdout, func(st *sqlstore.Store) ([]store.Route, error) { return st.ListRoutes(ctx) }, showRoute)
	case "remove":
		id := fs.String("id", "", "route id (required)")
		if err := parse(fs, args[1:], stderr); err != nil {
			return err
		}
		n, err := strconv.ParseInt(*id, 10, 64)
		if err != nil {
			return usagef("route remove: --id must be a route id from route list")
		}
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.DeleteRoute(ctx, n); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("route remove: no route %d", n)
		} else if err != nil {
			return err
		}
		return printJSON(stdout, map[string]int64{"removed": n})
	}
	return usagef("route: unknown subcommand %q (add, list, remove)", args[0])
}

type routeJSON struct {
	ID         int64    `json:"id"`
	Account    string   `json:"account,omitempty"`
	Channel    string   `json:"channel"`
	Sender     string   `json:"sender,omitempty"`
	Prefix     string   `json:"prefix,omitempty"`
	Country    string   `json:"country,omitempty"`
	Domain     string   `json:"domain,omitempty"`
	Connectors []string `json:"connectors"`
}

func showRoute(r store.Route) routeJSON {
	return routeJSON{ID: r.ID, Account: r.AccountID, Channel: r.Channel, Sender: r.Sender, Prefix: r.Prefix, Country: r.Country,
		Domain: r.Domain, Connectors: r.Connectors}
}

// numberCmd manages inbound numbers: add, list, remove.
func numberCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("number: say add, list or remove")
	}
	var cfg app.Config
	fs := flag.NewFlagSet("number "+args[0], flag.ContinueOnError)
	storeFlags(fs, &cfg)
	account := fs.String("account", "", "account id")
	number := fs.String("number", "", "the number (international digits, or a short code)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	num := strings.TrimPrefix(strings.TrimSpace(*number), "+")
	if args[0] != "list" && (num == "" || strings.Trim(num, "0123456789") != "" || len(num) > 15) {
		return usagef("number %s: --number must be digits", args[0])
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "add":
		if *account == "" {
			return usagef("number add: --account is required")
		}
		err := st.AddNumber(ctx, store.Number{Number: num, AccountID: *account, CreatedAt: time.Now().UTC()})
		switch {
		case errors.Is(err, store.ErrConflict):
			return fmt.Errorf("number add: %s belongs to another account", num)
		case errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("number add: no account %q", *account)
		case err != nil:
			return err
		}
		return printJSON(stdout, map[string]string{"number": num, "account": *account})
	case "list":
		list, err := st.ListNumbers(ctx, *account)
		if err != nil {
			return err
		}
		out := make([]map[string]string, len(list))
		for i, n := range list {
			out[i] = map[string]string{"number": n.Number, "account": n.AccountID}
		}
		return printJSON(stdout, out)
	case "remove":
		if err := st.RemoveNumber(ctx, num); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("number remove: %s is not assigned", num)
		} else if err != nil {
			return err
		}
		return printJSON(stdout, map[string]string{"removed": num})
	}
	return usagef("number: unknown subcommand %q (add, list, remove)", args[0])
}
