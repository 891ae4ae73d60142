package connlimit

import "fmt"

// FileLimit describes the process's limit of open file descriptors
// (RLIMIT_NOFILE) as RaiseFileLimit found and left it.
type FileLimit struct {
	Before, Soft, Hard uint64 // soft limit found, soft limit now, hard limit
	Known              bool   // false where the platform has no such limit
}

// Raised says whether RaiseFileLimit raised the soft limit.
func (l FileLimit) Raised() bool { return l.Known && l.Soft > l.Before }

// MaxReserve and MinWebSockets bound DefaultReserve and Budget.
const (
	MaxReserve    = 1024
	MinWebSockets = 16
)

// DefaultReserve is the file descriptors kept from WebSockets when the
// operator sets no reserve: a quarter of the limit, at most MaxReserve.
// They are for everything else the process opens: API and admin
// connections, the database (PostgreSQL connections, SQLite's files),
// carriers (SMPP), webhooks and e-mail going out, NATS, logs.
func DefaultReserve(limit int) int { return min(limit/4, MaxReserve) }

// Budget is how many WebSocket sockets a process may hold with limit
// descriptors of which reserve are kept for the rest: limit − reserve. An
// error says the reserve leaves fewer than MinWebSockets.
func Budget(limit, reserve int) (int, error) {
	if reserve < 0 {
		return 0, fmt.Errorf("a reserve of %d file descriptors: want 0 or more", reserve)
	}
	if limit-reserve < MinWebSockets {
		return 0, fmt.Errorf("a reserve of %d file descriptors leaves %d of the limit of %d for WebSockets: want at least %d (raise the limit, ulimit -n, or lower the reserve)",
			reserve, limit-reserve, limit, MinWebSockets)
	}
	return limit - reserve, nil
}
