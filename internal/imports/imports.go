// Package imports runs bulk imports (do-not-disturb registries, prices,
// numbers, consents, suppressions) as jobs: each is a row of the imports
// table with its state and progress, readable through the APIs, and ends
// done (every row imported) or failed (nothing imported, every bad row
// reported by line).
//
// Every kind streams: the file is read row by row, its good rows staged
// in batches, and merged in one transaction at the end, so memory stays
// bounded whatever the size (a do-not-disturb registry holds hundreds of
// millions of numbers). A price list or an inventory may not list a key
// twice: such rows are found among the staged ones.
//
// An import does not survive a restart: a running import not heard of for
// StaleAfter is failed (nothing imported, its staged rows dropped) and is
// started again by posting the file again.
package imports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/billing"
	"github.com/omnigate/omnigate/internal/compliance"
	"github.com/omnigate/omnigate/internal/csvrows"
	"github.com/omnigate/omnigate/internal/ids"
	"github.com/omnigate/omnigate/internal/numbers"
	"github.com/omnigate/omnigate/internal/store"
)

// StaleAfter is how long a running import may go without a heartbeat
// before it counts as stopped. A running import writes one every
// heartbeat; its final merge holds the row it would fail, so a long merge
// is never failed under it.
const StaleAfter = time.Minute

const heartbeat = 2 * time.Second

// stageBatch is how many rows one staging transaction writes.
const stageBatch = 5000

// Runner runs imports against a store.
type Runner struct {
	Store store.Store
	Now   func() time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New makes a runner; Close waits for the imports it runs in the
// background.
func New(st store.Store) *Runner {
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{Store: st, Now: func() time.Time { return time.Now().UTC() }, ctx: ctx, cancel: cancel}
}

// Close stops the background imports (they fail: nothing imported) and
// waits for them.
func (rn *Runner) Close() {
	rn.cancel()
	rn.wg.Wait()
}

// Sweep fails the imports that stopped without ending (a restart).
func (rn *Runner) Sweep(ctx context.Context) (int, error) {
	now := rn.Now()
	return rn.Store.FailStaleImports(ctx, now.Add(-StaleAfter), now)
}

// Job makes a new running import of kind with its options (params, kept
// as JSON), size the file's bytes if known, and stores it.
func (rn *Runner) Job(ctx context.Context, kind, accountID string, test bool, params any, origin string, size int64) (*store.Import, error) {
	p, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	now := rn.Now()
	im := &store.Import{ID: ids.New(), AccountID: accountID, Test: test, Kind: kind, Params: string(p), Origin: origin,
		State: store.ImportRunning, Size: size, CreatedAt: now, UpdatedAt: now}
	if err := rn.Store.CreateImport(ctx, im); err != nil {
		return nil, err
	}
	return im, nil
}

// Status is how far an import got, for a terminal's progress line.
type Status struct {
	Rows, Bytes, Size int64
	Elapsed           time.Duration
	Merging           bool // every row read; merging them in
}

// RunDNDParams are a registry import's options.
type DNDParams struct {
	Registry string `json:"registry"`
	Scope    string `json:"scope"`
	Replace  bool   `json:"replace"`
}

// meter counts what is read and reports it.
type meter struct {
	rn       *Runner
	ctx      context.Context
	im       *store.Import
	r        io.Reader
	bytes    int64
	rows     int64
	start    time.Time
	lastBeat time.Time
	progress func(Status)
	beatErr  error
	readErr  error // reading the file failed (not its end)
}

func (m *meter) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.bytes += int64(n)
	if err != nil && err != io.EOF && m.readErr == nil {
		m.readErr = err
	}
	return n, err
}

// tick records a row read; every heartbeat it reports progress and writes
// it to the import's row.
func (m *meter) tick(force bool) {
	now := time.Now()
	if !force && now.Sub(m.lastBeat) < heartbeat/4 {
		return
	}
	if m.progress != nil {
		m.progress(Status{Rows: m.rows, Bytes: m.bytes, Size: m.im.Size, Elapsed: now.Sub(m.start)})
	}
	if force || now.Sub(m.lastBeat) >= heartbeat {
		m.im.BytesRead, m.im.RowsRead = m.bytes, m.rows
		if err := m.rn.Store.ImportProgress(m.ctx, m.im.ID, m.bytes, m.rows, m.rn.Now()); err != nil && m.beatErr == nil {
			m.beatErr = err
		}
		m.lastBeat = now
	}
}

// badRows keeps the first store.MaxImportErrors bad rows and counts all.
type badRows struct {
	list  []string
	count int64
}

func (b *badRows) add(s string) {
	b.count++
	if len(b.list) < store.MaxImportErrors {
		b.list = append(b.list, s)
	}
}

// RunDND reads a registry file from r, row by row, stages its entries and
// merges them into the registry in one transaction: the import ends done,
// or failed with nothing imported. progress, if not nil, is told how far
// it got a few times a second.
func (rn *Runner) RunDND(ctx context.Context, im *store.Import, r io.Reader, p DNDParams, progress func(Status)) error {
	now := rn.Now()
	return runStaged(rn, ctx, im, r, progress, staging[store.DNDEntry]{
		scan: func(r io.Reader, row func(), add func(store.DNDEntry), bad func(string)) error {
			csvrows.Stream(r, func(line int, rec []string) error {
				row()
				e, ok, err := compliance.DNDRow(line, rec, p.Registry, now)
				if ok {
					add(e)
				}
				return err
			}, bad)
			return nil
		},
		stage: func(ctx context.Context, _ int64, batch []store.DNDEntry) error {
			return rn.Store.StageDND(ctx, im.ID, batch)
		},
		merge: func(ctx context.Context) error {
			_, err := rn.Store.MergeDND(ctx, im, store.DNDImport{Registry: p.Registry, Scope: p.Scope, Replace: p.Replace})
			return err
		},
		empty: "the file has no numbers",
	})
}

// RunSuppressions reads an account's suppression file (see
// compliance.ParseSuppressionsCSV) from r, row by row, stages its rows and
// adds them to the account's list in one transaction, as RunDND does a
// registry; actor is who added them. added is how many were not listed
// yet. A test key's import (im.Test) checks the file and stores nothing.
func (rn *Runner) RunSuppressions(ctx context.Context, im *store.Import, r io.Reader, actor string, progress func(Status)) (added int64, err error) {
	now := rn.Now()
	err = runStaged(rn, ctx, im, r, progress, staging[store.Suppression]{
		scan: headed(compliance.SuppressionColumns, compliance.SuppressionRequired, func(_ int, get func(string) string) (store.Suppression, error) {
			return compliance.SuppressionRow(get, actor, now)
		}),
		stage: func(ctx context.Context, _ int64, batch []store.Suppression) error {
			return rn.Store.StageSuppressions(ctx, im.ID, batch)
		},
		merge: func(ctx context.Context) (err error) {
			added, err = rn.Store.MergeSuppressions(ctx, im)
			return err
		},
		empty: compliance.NoSuppressions,
	})
	return added, err
}

// RunConsents reads an account's consent file (see
// compliance.ParseConsentsCSV) from r, row by row, stages its entries and
// appends them to the account's consent ledger in one transaction, with
// the suppressions they add and lift; actor is who imported them. A test
// key's import (im.Test) checks the file and stores nothing.
func (rn *Runner) RunConsents(ctx context.Context, im *store.Import, r io.Reader, actor string, progress func(Status)) error {
	now := rn.Now()
	return runStaged(rn, ctx, im, r, progress, staging[*store.Consent]{
		scan: headed(compliance.ConsentColumns, compliance.ConsentRequired, func(_ int, get func(string) string) (*store.Consent, error) {
			return compliance.ConsentRow(get, im.AccountID, actor, now)
		}),
		stage: func(ctx context.Context, seq int64, batch []*store.Consent) error {
			return rn.Store.StageConsents(ctx, im.ID, seq, batch)
		},
		merge: func(ctx context.Context) error {
			_, err := rn.Store.MergeConsents(ctx, im)
			return err
		},
		empty: compliance.NoConsents,
	})
}

// RunPrices reads a price file (see billing.ParsePricesCSV) from r, row by
// row, stages its rows and stores them in one transaction, as RunDND does
// a registry: the prices of accountID ("" for the default list), on
// channels. A destination priced twice in the file fails the import, each
// of its later rows named with the first's line.
func (rn *Runner) RunPrices(ctx context.Context, im *store.Import, r io.Reader, accountID string, channels []string, progress func(Status)) error {
	now := rn.Now()
	return runStaged(rn, ctx, im, r, progress, staging[store.Lined[store.Price]]{
		scan: headed(billing.PriceColumns, billing.PriceRequired, func(line int, get func(string) string) (store.Lined[store.Price], error) {
			p, err := billing.PriceRow(get, accountID, now, channels)
			return store.Lined[store.Price]{Line: line, Row: p}, err
		}),
		stage: func(ctx context.Context, _ int64, batch []store.Lined[store.Price]) error {
			return rn.Store.StagePrices(ctx, im.ID, batch)
		},
		merge: func(ctx context.Context) error {
			_, err := rn.Store.MergePrices(ctx, im)
			return err
		},
		empty:     billing.NoPrices,
		duplicate: func(d store.Duplicate) error { return billing.SameDestination(d.First) },
	})
}

// RunNumbers reads an inventory file (see numbers.ParseCSV) from r, row by
// row, stages its rows and adds them to the inventory in one transaction
// (numbers there already are updated); added is how many were new. A
// number listed twice fails the import, each of its later rows named with
// the first's line.
func (rn *Runner) RunNumbers(ctx context.Context, im *store.Import, r io.Reader, progress func(Status)) (added int64, err error) {
	now := rn.Now()
	err = runStaged(rn, ctx, im, r, progress, staging[store.Lined[store.StockNumber]]{
		scan: headed(numbers.CSVColumns, numbers.CSVRequired, func(line int, get func(string) string) (store.Lined[store.StockNumber], error) {
			n, err := numbers.Row(get, now)
			return store.Lined[store.StockNumber]{Line: line, Row: n}, err
		}),
		stage: func(ctx context.Context, _ int64, batch []store.Lined[store.StockNumber]) error {
			return rn.Store.StageStock(ctx, im.ID, batch)
		},
		merge: func(ctx context.Context) (err error) {
			added, err = rn.Store.MergeStock(ctx, im)
			return err
		},
		empty:     numbers.NoRows,
		duplicate: func(d store.Duplicate) error { return numbers.ListedTwice(d.Number, d.First) },
	})
	return added, err
}

// RunAccount runs an account's import of its own kind (consents or
// suppressions) on r; actor is who imports.
func (rn *Runner) RunAccount(ctx context.Context, im *store.Import, r io.Reader, actor string, progress func(Status)) error {
	switch im.Kind {
	case store.ImportConsents:
		return rn.RunConsents(ctx, im, r, actor, progress)
	case store.ImportSuppressions:
		_, err := rn.RunSuppressions(ctx, im, r, actor, progress)
		return err
	}
	return rn.fail(im, &meter{im: im}, nil, fmt.Errorf("an import of %s is not an account's", im.Kind))
}

// staging is how a streamed import reads, stages and merges its rows.
type staging[T any] struct {
	// scan reads the file: row for each row read, add for each good one,
	// bad for each bad one ("line N: why"); an error is a file it cannot
	// read at all (no usable header row).
	scan func(r io.Reader, row func(), add func(T), bad func(string)) error
	// stage stages a batch of good rows, seq the ordinal of its first
	// (from 1) in the file.
	stage func(ctx context.Context, seq int64, batch []T) error
	// merge merges the staged rows in and ends the import (done) in one
	// transaction.
	merge func(ctx context.Context) error
	// empty is why a file without a good row is refused.
	empty string
	// duplicate, for a kind whose file may not list a key twice, is why
	// a staged row (with the key's first line) is refused; rows are then
	// staged past a bad row, so that every such row is found.
	duplicate func(d store.Duplicate) error
}

// headed is the scan of a file with a header row naming its columns
// (columns the ones it may have, for messages; required the ones it must),
// parse reading each row.
func headed[T any](columns string, required []string, parse func(line int, get func(string) string) (T, error)) func(io.Reader, func(), func(T), func(string)) error {
	return func(r io.Reader, row func(), add func(T), bad func(string)) error {
		return csvrows.StreamHeaded(r, columns, required, func(line int, get func(string) string) error {
			row()
			v, err := parse(line, get)
			if err == nil {
				add(v)
			}
			return err
		}, bad)
	}
}

// runStaged streams an import: rows are staged stageBatch at a time, and
// merged in at the end if every row was good; the import ends done, or
// failed with nothing imported. A test key's import stages nothing and
// ends done with nothing imported.
func runStaged[T any](rn *Runner, ctx context.Context, im *store.Import, r io.Reader, progress func(Status), k staging[T]) error {
	m := &meter{rn: rn, ctx: ctx, im: im, r: r, start: time.Now(), progress: progress}
	var bad badRows
	batch := make([]T, 0, stageBatch)
	var stageErr error
	var good, staged int64
	stage := func() {
		if len(batch) == 0 || stageErr != nil {
			return
		}
		if !im.Test {
			stageErr = k.stage(ctx, staged+1, batch)
		}
		staged += int64(len(batch))
		batch = batch[:0]
	}
	row := func() {
		if m.rows++; m.rows%1024 == 0 {
			m.tick(false)
		}
	}
	add := func(v T) {
		if bad.count > 0 && k.duplicate == nil { // after a bad row, only check the rest
			return
		}
		good++
		batch = append(batch, v)
		if len(batch) == stageBatch {
			stage()
		}
	}
	scanErr := k.scan(m, row, add, bad.add)
	switch {
	case ctx.Err() != nil:
		return rn.fail(im, m, nil, ctx.Err())
	case m.readErr != nil:
		return rn.fail(im, m, nil, m.readErr)
	case scanErr != nil:
		return rn.fail(im, m, nil, scanErr)
	}
	if bad.count == 0 || k.duplicate != nil {
		stage()
	}
	if stageErr != nil {
		return rn.fail(im, m, nil, stageErr)
	}
	if k.duplicate != nil && good > 0 && !im.Test {
		dups, n, err := rn.Store.StagedDuplicates(ctx, im, store.MaxImportErrors)
		if err != nil {
			return rn.fail(im, m, nil, err)
		}
		for _, d := range dups {
			bad.add(fmt.Sprintf("line %d: %v", d.Line, k.duplicate(d)))
		}
		bad.count += n - int64(len(dups))
	}
	switch {
	case bad.count > 0:
		return rn.fail(im, m, &bad, nil)
	case good == 0:
		return rn.fail(im, m, nil, errors.New(k.empty))
	}
	if m.beatErr != nil {
		return rn.fail(im, m, nil, m.beatErr)
	}
	m.tick(true)
	if progress != nil {
		progress(Status{Rows: m.rows, Bytes: m.bytes, Size: im.Size, Elapsed: time.Since(m.start), Merging: true})
	}
	im.State, im.FinishedAt, im.UpdatedAt = store.ImportDone, rn.Now(), rn.Now()
	im.BytesRead, im.RowsRead = m.bytes, m.rows
	var err error
	if im.Test {
		im.Imported = 0
		err = rn.Store.FinishImport(context.WithoutCancel(ctx), im)
	} else {
		err = k.merge(ctx)
	}
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return err // failed meanwhile (stale); nothing merged
		}
		return rn.fail(im, m, nil, err)
	}
	return nil
}

// ImportError is a failed import's outcome: its bad rows (the first
// store.MaxImportErrors) and how many there were, or why it failed.
type ImportError struct {
	Rows  []string
	Count int64
}

func (e *ImportError) Error() string {
	s := fmt.Sprintf("the file has %d bad rows, nothing imported", e.Count)
	if e.Count == 1 {
		s = "the file has a bad row, nothing imported"
	}
	for _, r := range e.Rows {
		s += "\n" + r
	}
	if int64(len(e.Rows)) < e.Count {
		s += fmt.Sprintf("\n… and %d more", e.Count-int64(len(e.Rows)))
	}
	return s
}

// fail ends im failed, with its bad rows or why, and returns the error to
// report (an *ImportError for bad rows).
func (rn *Runner) fail(im *store.Import, m *meter, bad *badRows, why error) error {
	now := rn.Now()
	im.State, im.FinishedAt, im.UpdatedAt, im.Imported = store.ImportFailed, now, now, 0
	im.BytesRead, im.RowsRead = m.bytes, m.rows
	var out error
	if bad != nil {
		im.Errors, im.ErrorCount = bad.list, bad.count
		out = &ImportError{Rows: bad.list, Count: bad.count}
	} else {
		im.Errors, im.ErrorCount = []string{why.Error()}, 0
		out = why
	}
	// The import's context may be what ended it: record the end anyway.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rn.Store.FinishImport(ctx, im); err != nil {
		return errors.Join(out, err)
	}
	return out
}

// Spool copies an upload (at most limit bytes) to a temporary file, for an
// import that runs after the request is answered. The caller removes it
// (Go does).
func Spool(r io.Reader, limit int64) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "omnigate-import-*.csv")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = fmt.Errorf("the file is larger than %d bytes", limit)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
}

// Go runs run on a spooled file in the background and removes the file
// when it ends. Close stops it.
func (rn *Runner) Go(f *os.File, run func(ctx context.Context, r io.Reader) error) {
	rn.wg.Add(1)
	go func() {
		defer rn.wg.Done()
		defer os.Remove(f.Name())
		defer f.Close()
		_ = run(rn.ctx, f) // the outcome is on the import's row
	}()
}
