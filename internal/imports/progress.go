package imports

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Line is a progress line: rows, rows/s, and how much of the file and the
// time left when its size is known.
func Line(s Status) string {
	secs := s.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(s.Rows) / secs
	}
	out := fmt.Sprintf("%s rows  %s rows/s", group(s.Rows), group(int64(rate)))
	if s.Size > 0 && s.Bytes > 0 {
		done := float64(s.Bytes) / float64(s.Size)
		out += fmt.Sprintf("  %3.0f%%", 100*min(done, 1))
		if done < 1 && secs >= 1 {
			left := time.Duration(secs * (1 - done) / done * float64(time.Second)).Round(time.Second)
			out += "  ETA " + left.String()
		}
	}
	out += "  " + s.Elapsed.Round(time.Second).String()
	if s.Merging {
		out += "  merging…"
	}
	return out
}

// group writes n with thousands separated by commas.
func group(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// Terminal draws the progress line on w (a terminal: the line is
// rewritten in place) at most a few times a second; Done ends it.
type Terminal struct {
	W    io.Writer
	mu   sync.Mutex
	last time.Time
	len  int
}

// Show is a progress callback for the Run methods.
func (t *Terminal) Show(s Status) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !s.Merging && time.Since(t.last) < 200*time.Millisecond {
		return
	}
	t.last = time.Now()
	l := Line(s)
	pad := max(t.len-len(l), 0)
	fmt.Fprintf(t.W, "\r%s%*s", l, pad, "")
	t.len = len(l)
}

// Done ends the progress line.
func (t *Terminal) Done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.len > 0 {
		fmt.Fprintln(t.W)
	}
}
