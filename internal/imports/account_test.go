package imports_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/imports"
	"github.com/omnigate/omnigate/internal/store"
	"github.com/omnigate/omnigate/internal/store/sqlstore"
)

// stagedRows counts what every staging table holds.
func stagedRows(t *testing.T, st *sqlstore.Store) int {
	t.Helper()
	n := staged(t, st)
	for _, table := range []string{"suppression_staging", "consent_staging", "price_staging", "stock_staging"} {
		var m int
		if err := st.Writer().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&m); err != nil {
			t.Fatal(err)
		}
		n += m
	}
	return n
}

// suppressionFile is a suppression file of n numbers (SMS, from
// 31600000000 on), then the extra rows.
func suppressionFile(n int, extra ...string) string {
	var b strings.Builder
	b.WriteString("channel,recipient,reason\n")
	for i := range n {
		fmt.Fprintf(&b, "sms,+316%08d,unsubscribe\n", i)
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	return b.String()
}

func suppressed(t *testing.T, st *sqlstore.Store, account, channel, address string) string {
	t.Helper()
	why, err := st.Suppressed(ctx, account, channel, []string{address})
	if err != nil {
		t.Fatal(err)
	}
	return why[address]
}

// An account's suppression file streams in batches (three stagings here)
// and is added in one transaction: the first row of an address listed
// twice wins, and an address listed already keeps its row.
func TestSuppressionImport(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		rn := imports.New(st)
		defer rn.Close()
		if err := st.AddSuppression(ctx, "acc1", store.Suppression{Channel: "sms", Recipient: "31600000007", Reason: store.SuppressBounce,
			Actor: "earlier", CreatedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		file := suppressionFile(12000, "sms,31600000001,manual", "email,Ann@Example.com,bounce", "push,device-1,")
		im, _ := rn.Job(ctx, store.ImportSuppressions, "acc1", false, struct{}{}, "test", int64(len(file)))
		added, err := rn.RunSuppressions(ctx, im, strings.NewReader(file), "import by test", nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := st.GetImport(ctx, "acc1", false, im.ID)
		if got.State != store.ImportDone || got.Imported != 12002 || got.RowsRead != 12003 || added != 12001 {
			t.Fatalf("import %+v, added %d", got, added)
		}
		for _, c := range []struct{ channel, address, want string }{
			{"sms", "31600000001", store.SuppressUnsubscribe}, // the first row
			{"sms", "31600000007", store.SuppressBounce},      // listed before
			{"sms", "31600011999", store.SuppressUnsubscribe},
			{"email", "ann@example.com", store.SuppressBounce},
			{"push", "device-1", store.SuppressManual},
		} {
			if why := suppressed(t, st, "acc1", c.channel, c.address); why != c.want {
				t.Errorf("%s %s: %q, want %q", c.channel, c.address, why, c.want)
			}
		}
		if why := suppressed(t, st, "acc2", "sms", "31600000001"); why != "" {
			t.Fatalf("another account's list: %q", why)
		}
		if n := stagedRows(t, st); n != 0 {
			t.Fatalf("%d staged rows left", n)
		}
		list, _ := st.Suppressions(ctx, "acc1", store.SuppressionFilter{Prefix: "31600000001", Limit: 10})
		if len(list) != 1 || list[0].Actor != "import by test" {
			t.Fatalf("rows: %+v", list)
		}
	})
}

// A bad row anywhere (here after two batches were staged) fails the import
// with nothing added; so does a file without its header row. A test key's
// import checks the file and stores nothing.
func TestSuppressionImportFails(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		rn := imports.New(st)
		defer rn.Close()
		im, _ := rn.Job(ctx, store.ImportSuppressions, "acc1", false, struct{}{}, "test", 0)
		_, err := rn.RunSuppressions(ctx, im, strings.NewReader(suppressionFile(11000, "sms,not a number,manual", "fax,123,manual", "sms,31612345678,opt_out")), "test", nil)
		var bad *imports.ImportError
		if !errors.As(err, &bad) || bad.Count != 3 || !strings.HasPrefix(bad.Rows[0], "line 11002: ") {
			t.Fatalf("bad rows: %v", err)
		}
		if why := suppressed(t, st, "acc1", "sms", "31600000001"); why != "" {
			t.Fatalf("a failed import added %q", why)
		}
		if got, _ := st.GetImport(ctx, "acc1", false, im.ID); got.State != store.ImportFailed || got.ErrorCount != 3 || got.Imported != 0 {
			t.Fatalf("import %+v", got)
		}
		if n := stagedRows(t, st); n != 0 {
			t.Fatalf("%d staged rows left", n)
		}

		im, _ = rn.Job(ctx, store.ImportSuppressions, "acc1", false, struct{}{}, "test", 0)
		if _, err := rn.RunSuppressions(ctx, im, strings.NewReader("number\n31600000001\n"), "test", nil); err == nil || !strings.Contains(err.Error(), `no "channel" column`) {
			t.Fatalf("no header: %v", err)
		}
		im, _ = rn.Job(ctx, store.ImportSuppressions, "acc1", false, struct{}{}, "test", 0)
		if _, err := rn.RunSuppressions(ctx, im, strings.NewReader("channel,recipient\n"), "test", nil); err == nil || err.Error() != compliance.NoSuppressions {
			t.Fatalf("no rows: %v", err)
		}

		im, _ = rn.Job(ctx, store.ImportSuppressions, "acc1", true, struct{}{}, "test", 0)
		if _, err := rn.RunSuppressions(ctx, im, strings.NewReader(suppressionFile(10)), "test", nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.GetImport(ctx, "acc1", true, im.ID); got.State != store.ImportDone || got.Imported != 0 || got.RowsRead != 10 {
			t.Fatalf("test key's import %+v", got)
		}
		if why := suppressed(t, st, "acc1", "sms", "31600000001"); why != "" {
			t.Fatalf("a test key's import added %q", why)
		}
	})
}

// A consent file merged in at once leaves the ledger and the suppression
// list as adding its entries one by one does: each opt-in lifts the
// address's opt-out, each opt-out suppresses it unless listed. Random
// files over a few addresses (phone numbers and email addresses, some
// opted out or bounced before) are imported into one account and added
// one by one to another, from the same start.
func TestConsentImportMatchesOneByOne(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		rn := imports.New(st)
		defer rn.Close()
		rnd := rand.New(rand.NewPCG(1, 2))
		addresses := []string{"31611111111", "31622222222", "31633333333", "447700900123", "ann@example.com", "bob@example.org"}
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for round := range 3 {
			imported, oneByOne := fmt.Sprintf("imp%d", round), fmt.Sprintf("one%d", round)
			// The same start in both: an opt-out on record, a bounce.
			for _, account := range []string{imported, oneByOne} {
				if err := st.AddConsents(ctx, []*store.Consent{{AccountID: account, Recipient: addresses[0], Purpose: "marketing", Action: store.OptOut,
					Source: store.SourceAPI, CreatedAt: start}}); err != nil {
					t.Fatal(err)
				}
				if err := st.AddSuppression(ctx, account, store.Suppression{Channel: "email", Recipient: "bob@example.org", Reason: store.SuppressBounce,
					Actor: "earlier", CreatedAt: start}); err != nil {
					t.Fatal(err)
				}
			}
			var b strings.Builder
			b.WriteString("recipient,purpose,action,date,evidence\n")
			rows := 40
			if round == 0 {
				rows = 6000 // two batches staged
			}
			for i := range rows {
				action := store.OptIn
				if rnd.IntN(2) == 0 {
					action = store.OptOut
				}
				fmt.Fprintf(&b, "%s,marketing,%s,%s,form %d\n", addresses[rnd.IntN(len(addresses))], action,
					start.Add(time.Duration(i+1)*time.Minute).Format(time.RFC3339), i)
			}
			file := b.String()
			im, _ := rn.Job(ctx, store.ImportConsents, imported, false, struct{}{}, "test", 0)
			if err := rn.RunConsents(ctx, im, strings.NewReader(file), "import by test", nil); err != nil {
				t.Fatal(err)
			}
			if got, _ := st.GetImport(ctx, imported, false, im.ID); got.State != store.ImportDone || got.Imported != int64(rows) {
				t.Fatalf("import %+v", got)
			}
			cs, err := compliance.ParseConsentsCSV(strings.NewReader(file), oneByOne, "import by test", time.Now().UTC())
			if err != nil {
				t.Fatal(err)
			}
			if err := st.AddConsents(ctx, cs); err != nil {
				t.Fatal(err)
			}

			listed := func(account string) []store.Suppression {
				list, err := st.Suppressions(ctx, account, store.SuppressionFilter{})
				if err != nil {
					t.Fatal(err)
				}
				return list
			}
			if a, b := listed(imported), listed(oneByOne); !reflect.DeepEqual(a, b) {
				t.Fatalf("round %d: suppressions after the import\n%+v\none by one\n%+v", round, a, b)
			}
			for _, addr := range addresses {
				a, _ := st.Consents(ctx, imported, addr)
				b, _ := st.Consents(ctx, oneByOne, addr)
				if len(a) != len(b) {
					t.Fatalf("round %d, %s: %d entries against %d", round, addr, len(a), len(b))
				}
				for i := range a {
					a[i].ID, a[i].AccountID, b[i].ID, b[i].AccountID = 0, "", 0, ""
					if !reflect.DeepEqual(a[i], b[i]) {
						t.Fatalf("round %d, %s, entry %d: %+v against %+v", round, addr, i, a[i], b[i])
					}
				}
			}
		}
		if n := stagedRows(t, st); n != 0 {
			t.Fatalf("%d staged rows left", n)
		}
	})
}

// A price list streams and is stored in one transaction; a destination it
// prices twice fails it, each later row named with the first's line, also
// when they are batches apart and after another bad row.
func TestPriceImport(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		rn := imports.New(st)
		defer rn.Close()
		channels := []string{"sms", "email"}
		var b strings.Builder
		b.WriteString("channel,country,prefix,currency,price\n")
		for i := range 6000 {
			fmt.Fprintf(&b, "sms,NL,316%05d,EUR,0.07\n", i)
		}
		b.WriteString("sms,NL,,EUR,0.09\nemail,,example.com,EUR,0.001\n")
		im, _ := rn.Job(ctx, store.ImportPrices, "", false, map[string]string{"account": "acc1"}, "test", 0)
		if err := rn.RunPrices(ctx, im, strings.NewReader(b.String()), "acc1", channels, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.GetImport(ctx, "", false, im.ID); got.State != store.ImportDone || got.Imported != 6002 {
			t.Fatalf("import %+v", got)
		}
		prices := func() map[string]int64 {
			ps, err := st.Prices(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]int64{}
			for _, p := range ps {
				out[p.AccountID+"/"+p.Channel+"/"+p.Country+"/"+p.Prefix] = p.Price
			}
			return out
		}
		if got := prices(); len(got) != 6002 || got["acc1/sms/NL/31600042"] != 70000 || got["acc1/email//example.com"] != 1000 {
			t.Fatalf("%d prices, e.g. %d", len(got), got["acc1/sms/NL/31600042"])
		}
		// Again, a new price for one destination; and a file that prices
		// one twice (lines 2 and 6,003) and has a bad row.
		im, _ = rn.Job(ctx, store.ImportPrices, "", false, struct{}{}, "test", 0)
		if err := rn.RunPrices(ctx, im, strings.NewReader("channel,country,prefix,currency,price\nsms,NL,31600042,EUR,0.05\n"), "acc1", channels, nil); err != nil {
			t.Fatal(err)
		}
		im, _ = rn.Job(ctx, store.ImportPrices, "", false, struct{}{}, "test", 0)
		file := strings.Replace(b.String(), "sms,NL,,EUR,0.09\n", "sms,NL,31600000,EUR,0.08\nfax,NL,31,EUR,1\n", 1)
		err := rn.RunPrices(ctx, im, strings.NewReader(file), "acc1", channels, nil)
		var bad *imports.ImportError
		if !errors.As(err, &bad) || bad.Count != 2 || !strings.HasPrefix(bad.Rows[0], "line 6003: channel \"fax\"") ||
			bad.Rows[1] != "line 6002: the same destination as line 2" {
			t.Fatalf("bad rows: %v", err)
		}
		if got := prices(); len(got) != 6002 || got["acc1/sms/NL/31600042"] != 50000 || got["acc1/sms/NL/31600000"] != 70000 {
			t.Fatalf("after a failed import: %d prices, %d, %d", len(got), got["acc1/sms/NL/31600042"], got["acc1/sms/NL/31600000"])
		}
		if n := stagedRows(t, st); n != 0 {
			t.Fatalf("%d staged rows left", n)
		}
	})
}

// The inventory streams: new numbers are added, those in it updated
// (keeping when they were added); a number listed twice fails the file.
func TestNumbersImport(t *testing.T) {
	engines(t, func(t *testing.T, st *sqlstore.Store) {
		rn := imports.New(st)
		defer rn.Close()
		file := func(n int, extra ...string) string {
			var b strings.Builder
			b.WriteString("number,country,type,features,monthly_price\n")
			for i := range n {
				fmt.Fprintf(&b, "316%08d,NL,mobile,sms,1.50\n", 20000000+i)
			}
			for _, e := range extra {
				b.WriteString(e + "\n")
			}
			return b.String()
		}
		im, _ := rn.Job(ctx, store.ImportNumbers, "", false, struct{}{}, "test", 0)
		added, err := rn.RunNumbers(ctx, im, strings.NewReader(file(5500)), nil)
		if err != nil || added != 5500 {
			t.Fatalf("added %d: %v", added, err)
		}
		before, err := st.SearchStock(ctx, store.StockFilter{Country: "NL", Limit: 1})
		if err != nil || len(before) != 1 {
			t.Fatalf("stock: %v %v", before, err)
		}
		im, _ = rn.Job(ctx, store.ImportNumbers, "", false, struct{}{}, "test", 0)
		added, err = rn.RunNumbers(ctx, im, strings.NewReader(file(5501)), nil)
		if err != nil || added != 1 || im.Imported != 5501 {
			t.Fatalf("again: added %d of %d: %v", added, im.Imported, err)
		}
		after, _ := st.SearchStock(ctx, store.StockFilter{Country: "NL", Limit: 1})
		if !after[0].CreatedAt.Equal(before[0].CreatedAt) {
			t.Fatalf("updating a number changed when it was added: %v, was %v", after[0].CreatedAt, before[0].CreatedAt)
		}
		im, _ = rn.Job(ctx, store.ImportNumbers, "", false, struct{}{}, "test", 0)
		_, err = rn.RunNumbers(ctx, im, strings.NewReader(file(10, "31612345678,GB,mobile,sms,1", "31620000003,NL,mobile,sms,2", "31699999999,NL,mobile,sms,2")), nil)
		var bad *imports.ImportError
		if !errors.As(err, &bad) || bad.Count != 2 || !strings.HasPrefix(bad.Rows[0], "line 12: ") ||
			bad.Rows[1] != "line 13: number 31620000003 is on line 5 already" {
			t.Fatalf("bad rows: %v", err)
		}
		if got, err := st.SearchStock(ctx, store.StockFilter{Pattern: "31699999999", Match: "start"}); err != nil || len(got) != 0 {
			t.Fatalf("a failed import added %v (%v)", got, err)
		}
		if n := stagedRows(t, st); n != 0 {
			t.Fatalf("%d staged rows left", n)
		}
	})
}
