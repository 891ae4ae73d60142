package pfinstance

import (
	"net"
	"syscall"
	"time"
)

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
