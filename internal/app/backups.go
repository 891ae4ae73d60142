package app

import (
	"context"
	"strings"
	"time"

	"github.com/omnigate/omnigate/internal/audit"
	"github.com/omnigate/omnigate/internal/backup"
)

// BackupConfig is serve's backup schedule (docs/operations.md#backups).
type BackupConfig struct {
	// Dir is where scheduled backups go; "" (the default) schedules none.
	// With several nodes on one PostgreSQL database, one node makes each
	// day's backup (the one that claims the day's backup_runs row): give
	// every node the same Dir on shared storage, or accept that the
	// backups are spread over the nodes' disks.
	Dir string
	// Every is how often the schedule looks whether the day's backup is
	// made; default 1 hour.
	Every time.Duration
	// Kept is how many to keep: the newest of each of the last Daily days
	// and of each of the last Weekly ISO weeks; default 7 and 4 (ACCT-5).
	Kept backup.Kept
}

const defaultBackupEvery = time.Hour

// startBackups runs the backup schedule when a directory is configured.
func (a *App) startBackups() chan struct{} {
	stop := make(chan struct{})
	if a.cfg.Backup.Dir == "" {
		return stop
	}
	period := a.cfg.Backup.Every
	if period <= 0 {
		period = defaultBackupEvery
	}
	a.background(func() {
		a.scheduledBackup(time.Now()) // at start, then every period
		every(period, stop, func() { a.scheduledBackup(time.Now()) })
	})
	return stop
}

// scheduledBackup makes the day's backup unless a node made it already,
// then prunes what the schedule does not keep.
func (a *App) scheduledBackup(now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Hour)
	defer cancel()
	period := "daily " + now.UTC().Format("2006-01-02")
	mine, err := a.store.ClaimBackup(ctx, period, a.ready.node, now)
	if err != nil {
		a.log.Warn("backup: claiming the day's backup", "err", err)
		return
	}
	if !mine {
		return
	}
	src := backup.Source{SQLitePath: a.cfg.SQLitePath()}
	if a.cfg.IsPostgres() {
		src = backup.Source{DatabaseURL: a.cfg.DatabaseURL}
	}
	res, err := backup.Make(ctx, src, a.cfg.Backup.Dir, now)
	errText := ""
	if err != nil {
		errText = err.Error()
		a.log.Error("backup: the scheduled backup failed", "period", period, "err", err)
	} else {
		a.log.Info("backup: made", "file", res.File, "bytes", res.Bytes, "took", res.Took.Round(time.Millisecond))
	}
	a.changes.Record(ctx, audit.Change{Actor: audit.Actor{Kind: audit.KindSystem, ID: a.ready.node}, Action: "backup.scheduled",
		Object: res.File, After: map[string]any{"period": period, "bytes": res.Bytes, "error": errText}})
	if err := a.store.FinishBackup(ctx, period, res.File, errText, time.Now()); err != nil {
		a.log.Warn("backup: recording", "err", err)
	}
	if err != nil {
		return
	}
	kept := a.cfg.Backup.Kept
	if kept.Daily <= 0 && kept.Weekly <= 0 {
		kept = backup.Kept{Daily: 7, Weekly: 4}
	}
	removed, err := backup.Prune(a.cfg.Backup.Dir, kept)
	if err != nil {
		a.log.Warn("backup: pruning", "err", err)
	} else if len(removed) > 0 {
		a.log.Info("backup: pruned old backups", "files", strings.Join(removed, ", "))
	}
}
