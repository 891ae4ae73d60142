package store

import (
	"errors"
	"fmt"
	"net"
	"testing"
)

type sqlStateError string

func (e sqlStateError) Error() string    { return "server error (SQLSTATE " + string(e) + ")" }
func (e sqlStateError) SQLState() string { return string(e) }

func TestUnavailable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("no such column"), false},
		{ErrNotFound, false},
		{fmt.Errorf("reading: %w", sqlStateError("57P01")), true},    // terminating connection due to administrator command
		{fmt.Errorf("connecting: %w", sqlStateError("57P03")), true}, // the database system is shutting down
		{sqlStateError("08006"), true},                               // connection failure
		{sqlStateError("53300"), true},                               // too many connections
		{sqlStateError("23505"), false},                              // unique violation
		{sqlStateError("40001"), false},                              // serialization failure: the caller's to retry
		{fmt.Errorf("dial: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), true},
	} {
		if got := Unavailable(c.err); got != c.want {
			t.Errorf("Unavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
