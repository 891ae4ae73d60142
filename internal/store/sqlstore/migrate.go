package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the shared migrations and writes them in the
// dialect's types.
func loadMigrations(d *Dialect) ([]migration, error) {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	pairs := make([]string, 0, 2*len(d.Types))
	for token, sqlType := range d.Types {
		pairs = append(pairs, token, sqlType)
	}
	types := strings.NewReplacer(pairs...)
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	var ms []migration
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %q: name must start with a number and '_'", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("reading migration %q: %w", name, err)
		}
		text := types.Replace(string(body))
		if i := strings.Index(text, "{{"); i >= 0 {
			return nil, fmt.Errorf("migration %q: no %s type for token %.20q", name, d.Name, text[i:])
		}
		ms = append(ms, migration{version: v, name: name, sql: text})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %q and %q share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

// migrate applies every migration not applied yet, each in its own
// transaction together with its bookkeeping row.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(&s.d)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := s.applyMigration(ctx, m); err != nil {
			return err
		}
	}
	s.latest = ms[len(ms)-1].version
	return nil
}

func (s *Store) applyMigration(ctx context.Context, m migration) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", m.name, err)
	}
	defer tx.Rollback()
	if s.d.LockMigrations != nil {
		if err := s.d.LockMigrations(ctx, tx); err != nil {
			return fmt.Errorf("migration %s: lock: %w", m.name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
		return fmt.Errorf("migration %s: checking: %w", m.name, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		m.version, m.name, time.Now().UTC().UnixMicro()); err != nil {
		return fmt.Errorf("migration %s: recording: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.name, err)
	}
	return nil
}

// Heartbeat writes node's row of node_heartbeats: one committed write.
func (s *Store) Heartbeat(ctx context.Context, node string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.d.rebind(`INSERT INTO node_heartbeats (node, written_at) VALUES (?, ?)
		ON CONFLICT (node) DO UPDATE SET written_at = excluded.written_at`), node, micros(at)); err != nil {
		return fmt.Errorf("writing heartbeat: %w", err)
	}
	return nil
}

// Ping checks that the database answers and that every migration is applied.
func (s *Store) Ping(ctx context.Context) error {
	var v sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if int(v.Int64) < s.latest {
		return fmt.Errorf("schema at version %d, want %d", v.Int64, s.latest)
	}
	return nil
}

// LatestSchema is the newest schema version this binary knows: the
// number of its last migration. A backup of a newer schema cannot be
// restored by it.
func LatestSchema() int {
	names, _ := fs.Glob(migrationFiles, "migrations/*.sql")
	latest := 0
	for _, n := range names {
		num, _, _ := strings.Cut(strings.TrimPrefix(n, "migrations/"), "_")
		if v, err := strconv.Atoi(num); err == nil && v > latest {
			latest = v
		}
	}
	return latest
}

// SchemaFingerprint names the schema the migrations build: a hash of
// their names and texts, which changes with any migration added or edited.
// Tools that keep a migrated database to copy from (the tests' templates)
// key it by this.
func SchemaFingerprint() string {
	names, _ := fs.Glob(migrationFiles, "migrations/*.sql")
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		body, _ := migrationFiles.ReadFile(n)
		fmt.Fprintf(h, "%s %d\n", n, len(body))
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
