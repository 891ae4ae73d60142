//go:build unix

package connlimit

import "syscall"

// RaiseFileLimit raises the soft limit of open file descriptors to the
// hard limit and reports both. (Go's runtime already does this when a
// program starts, on most Unix systems; doing it here too makes the
// figure known, and logged, whatever started the process.)
func RaiseFileLimit() (FileLimit, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return FileLimit{}, err
	}
	out := FileLimit{Before: l.Cur, Soft: l.Cur, Hard: l.Max, Known: true}
	if l.Cur < l.Max {
		want := l
		want.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			return out, err
		}
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil {
			out.Soft = l.Cur
		}
	}
	return out, nil
}
