package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/omnigate/omnigate/internal/ids"
)

const nodeIDFile = "node-id"

// nodeID is this node's identity in job leases, kept in the data directory
// so that it survives restarts: a restarted node releases the jobs it held
// when it died instead of waiting for their leases to expire. Nodes sharing
// one PostgreSQL database must each have their own data directory.
func nodeID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, nodeIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("creating data directory: %w", err)
	}
	id := ids.New()
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return id, nil
}

// checkDataDir refuses a data directory that every local user may write
// to: any of them could replace the database, the node id or the demo
// keys, or plant a link where omnigate will write. omnigate creates the
// directory owner-only (0700) itself; one that exists already with the
// others' write bit (0777, or 1777 like /tmp) is refused, not tightened,
// since it may be shared with other programs.
func checkDataDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("data directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data directory %s is not a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm&0o002 != 0 {
		if fi.Mode()&fs.ModeSticky != 0 {
			perm |= 0o1000
		}
		return fmt.Errorf("data directory %s is writable by every user (mode %04o): another user could replace the database or the keys in it; "+
			"make it yours alone (chmod 700 %s) or choose another --data", dir, uint32(perm), dir)
	}
	return nil
}
