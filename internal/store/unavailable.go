package store

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
)

// Unavailable reports whether err means that the database could not be
// reached or is going away (it is restarting, failing over, refusing
// connections), rather than that the request was wrong: the caller answers
// "try again later" (HTTP 503), not an internal error. It reads driver
// errors by their SQLSTATE (classes 08 connection exception, 53
// insufficient resources, 57P operator intervention) and network errors,
// so that it knows no driver.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		s := state.SQLState()
		return strings.HasPrefix(s, "08") || strings.HasPrefix(s, "53") || strings.HasPrefix(s, "57P")
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed)
}
