package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/email/dkim"
	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/pgtest"
)

// rawColumn reads one value of a column as the database holds it,
// bypassing the store; q uses "?" placeholders.
func rawColumn(t *testing.T, db *sql.DB, engine, q string, args ...any) string {
	t.Helper()
	if engine == "postgres" {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	var v string
	if err := db.QueryRow(q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// Secrets the platform must read back in clear — an account's signing
// key, a realtime app's secrets, a connector's settings with the carrier's
// password — are encrypted in the database; the API, the realtime server,
// status reports and connectors see them in clear.
func TestSecretsAtRest(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		var signingKey string
		sink := newReportSink(t, &signingKey, 0)
		s := start(t, engine, func(c *Config) { c.Realtime.AppCacheTTL = 50 * time.Millisecond })
		signingKey = s.signingKey
		ctx := context.Background()

		r := s.do("POST", "/realtime/apps", s.key, "application/json", []byte(`{"name":"chat"}`))
		if r.status != 201 {
			t.Fatalf("creating an app: %d %s", r.status, r.raw)
		}
		appID, appKey, oldSecret := r.json["app_id"].(string), r.json["key"].(string), r.json["secret"].(string)
		r = s.do("POST", "/realtime/apps/"+appID+"/rotate", s.key, "application/json", []byte(`{}`))
		if r.status != 200 {
			t.Fatalf("rotating: %d %s", r.status, r.raw)
		}
		secret := r.json["secret"].(string)
		const password = "carrier-pa55word"
		settings := fmt.Sprintf(`{"host":"127.0.0.1","port":2775,"system_id":"omni","password":%q}`, password)
		if err := s.app.store.SaveConnector(ctx, store.ConnectorConfig{Name: "carrier", Kind: "smpp", Settings: []byte(settings),
			UpdatedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		dkimKey, err := dkim.GenerateKey(dkim.Ed25519)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.app.store.AddEmailDomain(ctx, &store.EmailDomain{AccountID: s.accountID, Domain: "example.com", Selector: "og1",
			Algorithm: dkim.Ed25519, Key: dkimKey, CreatedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		if d, err := s.app.store.EmailDomain(ctx, s.accountID, "example.com"); err != nil || dkim.DNSRecord(d.Key) != dkim.DNSRecord(dkimKey) {
			t.Fatalf("the DKIM key reads back wrong: %v", err)
		}

		// The database holds none of them in clear.
		db := s.app.store.Writer()
		for what, leak := range map[string][2]string{
			"signing key":           {rawColumn(t, db, engine, `SELECT signing_key FROM accounts WHERE id = ?`, s.accountID), signingKey},
			"realtime secret":       {rawColumn(t, db, engine, `SELECT secret FROM realtime_apps WHERE id = ?`, appID), secret},
			"previous secret":       {rawColumn(t, db, engine, `SELECT previous_secret FROM realtime_apps WHERE id = ?`, appID), oldSecret},
			"connector's settings":  {rawColumn(t, db, engine, `SELECT settings FROM connectors WHERE name = ?`, "carrier"), password},
			"connector's system_id": {rawColumn(t, db, engine, `SELECT settings FROM connectors WHERE name = ?`, "carrier"), `"omni"`},
			"DKIM key":              {rawColumn(t, db, engine, `SELECT private_key FROM email_domains WHERE account_id = ?`, s.accountID), "PRIVATE KEY"},
		} {
			if stored, clear := leak[0], leak[1]; strings.Contains(stored, clear) || !strings.HasPrefix(stored, "enc:v1:") {
				t.Errorf("%s stored as %q: not encrypted", what, stored)
			}
		}

		// Everything reads back in clear: the API shows the app's secret,
		// both secrets sign Pusher API requests, status reports verify with
		// the signing key, the connector's settings carry the password.
		if r := s.get("/realtime/apps/" + appID); r.status != 200 || r.json["secret"] != secret {
			t.Errorf("GET the app: %d %s", r.status, r.raw)
		}
		for _, sec := range []string{secret, oldSecret} {
			if r := pusherAPI(t, s, appID, appKey, sec, "GET", "/channels", nil); r.status != 200 {
				t.Errorf("a request signed with a valid secret: %d %s", r.status, r.raw)
			}
		}
		if r := pusherAPI(t, s, appID, appKey, "not-"+secret, "GET", "/channels", nil); r.status != 401 {
			t.Errorf("a request signed with another secret: %d %s", r.status, r.raw)
		}
		s.send(map[string]any{"originator": "Shop", "recipients": "31612345678", "body": "x", "reportUrl": sink.srv.URL + "/dlr"})
		waitFor(t, "a status report signed with the signing key", 10*time.Second, func() bool { return len(sink.reports()) == 1 })
		conns, err := s.app.store.ListConnectors(ctx)
		if err != nil || len(conns) != 1 || string(conns[0].Settings) != settings {
			t.Errorf("connectors read back as %+v (%v), want the settings as saved", conns, err)
		}
	})
}

// runApp starts a server on cfg, waits until it is ready, and returns it
// with a function that stops it, for tests that restart.
func runApp(t *testing.T, cfg Config) (*server, func()) {
	t.Helper()
	s, stop := serveUntil(t, cfg, nil)
	waitFor(t, "the server to be ready", 10*time.Second, func() bool { return s.do("GET", "/readyz", "", "", nil).status == 200 })
	return s, stop
}

// secretsConfig is a server's config on a fresh database.
func secretsConfig(t *testing.T, engine string) Config {
	cfg := Config{HTTPAddr: "127.0.0.1:0", DataDir: t.TempDir(), SQLiteSync: "NORMAL", ShutdownTimeout: 10 * time.Second}
	cfg.Realtime.AppCacheTTL = 50 * time.Millisecond
	if engine == "postgres" {
		cfg.DatabaseURL = pgtest.URL(t)
	}
	return cfg
}

// rawSecrets reads every secret column as stored, by "table.column/row".
func rawSecrets(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range []string{`SELECT 'accounts.signing_key/' || id, signing_key FROM accounts`,
		`SELECT 'realtime_apps.secret/' || id, secret FROM realtime_apps`,
		`SELECT 'realtime_apps.previous_secret/' || id, previous_secret FROM realtime_apps WHERE previous_secret <> ''`,
		`SELECT 'connectors.settings/' || name, settings FROM connectors`} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			out[k] = v
		}
		rows.Close()
	}
	return out
}

// A database is only ever opened with the master key its secrets are
// encrypted under: a wrong, missing or malformed key stops the start with
// a clear error, and changes nothing (no key made, nothing written).
func TestMasterKeyRefused(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		cfg := secretsConfig(t, engine)
		s, stop := runApp(t, cfg)
		_, _, _, signingKey := s.newAccount("acme")
		before := rawSecrets(t, s.app.store.Writer())
		stop()

		keyFile := filepath.Join(cfg.DataDir, MasterKeyFileName)
		right := string(readFile(t, keyFile))
		other := filepath.Join(t.TempDir(), "other.key")
		if _, err := keyring.GenerateMasterFile(other); err != nil {
			t.Fatal(err)
		}
		open := func(tune func(c *Config)) error {
			c := cfg
			tune(&c)
			a, err := New(context.Background(), c, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
			if err == nil {
				a.stop(context.Background())
			}
			return err
		}
		for _, tc := range []struct {
			name, want string
			setup      func(c *Config)
		}{
			{"another key's file", "not under the master key given", func(c *Config) { c.MasterKeyFile = other }},
			{"another key in the environment", "not under the master key given", func(c *Config) { c.MasterKey = string(readFile(t, other)) }},
			{"a file that is not there", "no such file", func(c *Config) { c.MasterKeyFile = other + ".missing" }},
			{"a malformed key", "a master key is 32 bytes in base64", func(c *Config) { c.MasterKey = "c2hvcnQ=" }},
			{"two keys", "give one master key, not both", func(c *Config) { c.MasterKey, c.MasterKeyFile = right, keyFile }},
			{"the data directory's key gone", "there is no master key at " + keyFile, func(c *Config) {
				if err := os.Rename(keyFile, keyFile+".away"); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			err := open(tc.setup)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: start answered %v, want an error saying %q", tc.name, err, tc.want)
			}
		}
		if _, err := os.Stat(keyFile); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a start without the master key made a new one (%v)", err)
		}
		if err := os.Rename(keyFile+".away", keyFile); err != nil {
			t.Fatal(err)
		}

		// The right key, from the data directory's file or from the
		// environment, opens it all as it was.
		fromEnv := cfg
		fromEnv.MasterKey = right
		for _, c := range []Config{cfg, fromEnv} {
			s, stop := runApp(t, c)
			if got := rawSecrets(t, s.app.store.Writer()); !maps.Equal(got, before) {
				t.Errorf("the stored secrets changed:\n%v\nwere\n%v", got, before)
			}
			accts, err := s.app.store.ListAccounts(context.Background())
			if err != nil || len(accts) != 1 || accts[0].SigningKey != signingKey {
				t.Errorf("accounts read back as %+v (%v)", accts, err)
			}
			stop()
		}
	})
}

// Rotation, online: `omnigate secrets rotate` re-encrypts every secret under a
// new data key while a server runs, which goes on reading them; with a new
// master key the old one keeps working until it is retired, and then no
// longer opens the database.
func TestKeyRotation(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		cfg := secretsConfig(t, engine)
		s, stop := runApp(t, cfg)
		accountID, key, _, signingKey := s.newAccount("acme")
		r := s.do("POST", "/realtime/apps", key, "application/json", []byte(`{"name":"chat"}`))
		if r.status != 201 {
			t.Fatalf("creating an app: %d %s", r.status, r.raw)
		}
		appID, secret := r.json["app_id"].(string), r.json["secret"].(string)
		const settings = `{"host":"127.0.0.1","port":2775,"system_id":"omni","password":"pa55"}`
		if err := s.app.store.SaveConnector(ctx, store.ConnectorConfig{Name: "carrier", Kind: "smpp", Settings: []byte(settings), UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		before := rawSecrets(t, s.app.store.Writer())
		// reads checks that a running server reads every secret as it was
		// written.
		reads := func(s *server, when string) {
			t.Helper()
			if r := s.do("GET", "/realtime/apps/"+appID, key, "", nil); r.status != 200 || r.json["secret"] != secret {
				t.Errorf("%s: GET the app: %d %s", when, r.status, r.raw)
			}
			a, err := s.app.store.GetAccount(ctx, accountID)
			if err != nil || a.SigningKey != signingKey {
				t.Errorf("%s: the account reads back as %+v (%v)", when, a, err)
			}
			conns, err := s.app.store.ListConnectors(ctx)
			if err != nil || len(conns) != 1 || string(conns[0].Settings) != settings {
				t.Errorf("%s: connectors read back as %+v (%v)", when, conns, err)
			}
		}

		// A data key rotation by another process (the CLI's).
		cli, err := OpenStore(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		oldDataKey := cli.Keyring().CurrentKeyID()
		rot, err := RotateKeys(ctx, cli, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rot.DataKeyID == oldDataKey || rot.Resealed["accounts.signing_key"] != 1 || rot.Resealed["realtime_apps.secret"] != 1 ||
			rot.Resealed["connectors.settings"] != 1 {
			t.Errorf("rotation: %+v (the data key was %s)", rot, oldDataKey)
		}
		for k, v := range rawSecrets(t, s.app.store.Writer()) {
			if keyring.KeyID(v) != rot.DataKeyID || v == before[k] {
				t.Errorf("%s after the rotation: %q (was %q), want it sealed by %s", k, v, before[k], rot.DataKeyID)
			}
		}
		reads(s, "after a data key rotation")
		// The platform's data keys: the old one and the new current one.
		// Accounts' own keys (message bodies and addresses; the maintenance
		// pass that seals rows stored in clear makes them) are not rotated
		// here.
		status, err := Keys(ctx, cli)
		var platform []DataKeyStatus
		for _, k := range status.DataKeys {
			if k.Scope == "" {
				platform = append(platform, k)
			}
		}
		if err != nil || len(platform) != 2 || !platform[1].Current || platform[1].ID != rot.DataKeyID {
			t.Errorf("secrets status: %+v (%v)", status, err)
		}
		for _, c := range status.Secrets {
			if c.Clear != 0 || len(c.ByKey) > 1 || (len(c.ByKey) == 1 && c.ByKey[rot.DataKeyID] == 0) {
				t.Errorf("secrets status, %s: %+v", c.Column, c)
			}
		}

		// A master key rotation: the running server, on the old master
		// key, still reads everything.
		newFile := filepath.Join(t.TempDir(), "new.key")
		newMaster, err := keyring.GenerateMasterFile(newFile)
		if err != nil {
			t.Fatal(err)
		}
		oldMaster := cli.Keyring().MasterID()
		rot, err = RotateKeys(ctx, cli, newMaster)
		if err != nil || rot.MasterKeyID != newMaster.ID() || rot.OldMasterID != oldMaster {
			t.Fatalf("master key rotation: %+v, %v", rot, err)
		}
		cli.Close()
		reads(s, "after a master key rotation, on the old master key")
		stop()

		// Restarted with the new master key it reads everything; so does
		// the old one, until it is retired.
		withNew := cfg
		withNew.MasterKeyFile = newFile
		for _, c := range []Config{withNew, cfg} {
			s, stop := runApp(t, c)
			reads(s, "restarted with master key file "+c.masterKeyPath())
			stop()
		}
		cli, err = OpenStore(ctx, withNew)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := RetireMaster(ctx, cli, newMaster.ID()); err == nil {
			t.Error("retiring the master key in use was allowed")
		}
		// Every data key (the platform's two, and accounts' own) was wrapped
		// by the old master key too.
		atRetire, err := Keys(ctx, cli)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := RetireMaster(ctx, cli, oldMaster); err != nil || n != len(atRetire.DataKeys) {
			t.Errorf("retiring the old master key: %d, %v; want its %d wrappings gone", n, err, len(atRetire.DataKeys))
		}
		cli.Close()
		if _, err := OpenStore(ctx, cfg); err == nil || !strings.Contains(err.Error(), "not under the master key given") {
			t.Errorf("opening with the retired master key: %v", err)
		}
	})
}

// An upgrade encrypts the secrets an earlier release stored in clear, at
// the first start, and they read back as they were (TestUpgrade checks
// the API's answers byte for byte); later starts leave them be.
func TestUpgradeEncryptsSecrets(t *testing.T) {
	engines(t, func(t *testing.T, engine string) {
		cfg := secretsConfig(t, engine)
		var db *sql.DB
		var err error
		switch engine {
		case "sqlite":
			restoreSQLiteFixture(t, cfg.DataDir)
			db, err = sql.Open("sqlite", cfg.SQLitePath())
		case "postgres":
			loadPostgresFixture(t, cfg.DatabaseURL)
			db, err = sql.Open("pgx", cfg.DatabaseURL)
		}
		if err != nil {
			t.Fatal(err)
		}
		clear := rawSecrets(t, db)
		db.Close()
		if len(clear) != 6 { // 2 accounts, 1 realtime app, 3 connectors
			t.Fatalf("the fixture holds %d secrets, want 6: %v", len(clear), clear)
		}
		for k, v := range clear {
			if keyring.Sealed(v) {
				t.Fatalf("the fixture's %s is already sealed: %q", k, v)
			}
		}

		s, stop := runApp(t, cfg)
		sealed := rawSecrets(t, s.app.store.Writer())
		if len(sealed) != len(clear) {
			t.Errorf("after the upgrade %d secrets, want %d", len(sealed), len(clear))
		}
		for k, v := range sealed {
			if !keyring.Sealed(v) || strings.Contains(v, clear[k]) {
				t.Errorf("%s after the upgrade: %q, want it sealed", k, v)
			}
		}
		ctx := context.Background()
		accts, err := s.app.store.ListAccounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range accts {
			if a.SigningKey != clear["accounts.signing_key/"+a.ID] {
				t.Errorf("account %s's signing key reads back as %q, was %q", a.ID, a.SigningKey, clear["accounts.signing_key/"+a.ID])
			}
		}
		apps, err := s.app.store.ListRealtimeApps(ctx, "")
		if err != nil || len(apps) != 1 || apps[0].Secret != clear["realtime_apps.secret/"+apps[0].ID] {
			t.Errorf("realtime apps read back as %+v (%v)", apps, err)
		}
		conns, err := s.app.store.ListConnectors(ctx)
		if err != nil || len(conns) != 3 {
			t.Fatalf("connectors read back as %+v (%v)", conns, err)
		}
		for _, c := range conns {
			if string(c.Settings) != clear["connectors.settings/"+c.Name] {
				t.Errorf("connector %s reads back as %s, was %s", c.Name, c.Settings, clear["connectors.settings/"+c.Name])
			}
		}
		stop()

		s, _ = runApp(t, cfg)
		if again := rawSecrets(t, s.app.store.Writer()); !maps.Equal(again, sealed) {
			t.Errorf("a second start rewrote the secrets:\n%v\nwere\n%v", again, sealed)
		}
	})
}
