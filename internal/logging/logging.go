// Package logging builds the process's *slog.Logger. Attributes whose names
// say they carry secrets or personal data (keys, tokens, phone numbers,
// message bodies) are redacted before they are written, wherever they come
// from, so that a careless log line cannot leak them.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Config chooses the format and level.
type Config struct {
	Format string // "text" (default) or "json"
	Level  string // "debug", "info" (default), "warn", "error"
}

// redacted are attribute names (lower case) whose values are never logged.
var redacted = map[string]bool{
	"key": true, "access_key": true, "accesskey": true, "authorization": true, "secret": true, "password": true,
	"token": true, "signing_key": true, "body": true, "recipient": true, "recipients": true, "msisdn": true,
	"phone": true, "address": true, "originator": true, "email": true,
}

// Redact replaces the value of a sensitive attribute.
func Redact(_ []string, a slog.Attr) slog.Attr {
	if redacted[strings.ToLower(a.Key)] {
		return slog.String(a.Key, "[redacted]")
	}
	return a
}

// New makes a logger writing to w.
func New(w io.Writer, cfg Config) (*slog.Logger, error) {
	var level slog.Level
	switch strings.ToLower(cfg.Level) {
	case "", "info":
		level = slog.LevelInfo
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("log level %q: use debug, info, warn or error", cfg.Level)
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: Redact}
	switch strings.ToLower(cfg.Format) {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: use text or json", cfg.Format)
}
