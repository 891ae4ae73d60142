package pfinstance

import (
	"context"
	"net"
	"net/smtp"
	"os"
	"strings"
	"testing"
	"time"
)

func TestTreeCPUCountsThisProcess(t *testing.T) {
	// Burn some CPU so that the reading is not zero.
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	d, err := TreeCPU(os.Getpid())
	if err != nil || d <= 0 {
		t.Fatalf("TreeCPU(self) = %v, %v", d, err)
	}
	if _, err := TreeCPU(-1); err == nil {
		t.Fatal("TreeCPU of no process gave no error")
	}
}

// TestInstanceRelays runs a real private instance (Debian's postfix, as
// root) that relays a message to a loopback listener; skipped where
// Postfix is not installed or the test is not root.
func TestInstanceRelays(t *testing.T) {
	if !Installed() || os.Geteuid() != 0 {
		t.Skip("needs Debian's postfix and root (interop/postfix/run.sh installs it)")
	}
	sink, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	got := make(chan string, 1)
	go func() {
		c, err := sink.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// A minimal SMTP server: enough for Postfix's smtp client.
		c.SetDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, 65536)
		var all strings.Builder
		reply := func(s string) { c.Write([]byte(s + "\r\n")) }
		reply("220 sink")
		inData := false
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			all.Write(buf[:n])
			text := string(buf[:n])
			switch {
			case inData && strings.Contains(all.String(), "\r\n.\r\n"):
				inData = false
				reply("250 ok")
				got <- all.String()
			case strings.HasPrefix(text, "EHLO"):
				reply("250 sink")
			case strings.HasPrefix(text, "DATA"):
				inData = true
				all.Reset()
				reply("354 go")
			case strings.HasPrefix(text, "QUIT"):
				reply("221 bye")
				return
			case !inData:
				reply("250 ok")
			}
		}
	}()
	addr := func() string { l, _ := net.Listen("tcp", "127.0.0.1:0"); defer l.Close(); return l.Addr().String() }()
	dir := t.TempDir()
	if _, err := Start(context.Background(), Config{Dir: dir + "/x", Listen: addr}); err == nil || !strings.Contains(err.Error(), "chmod o+x") {
		t.Fatalf("Start under a private directory: %v", err)
	}
	os.Chmod(dir, 0o755)
	os.Chmod(dir+"/..", 0o755) // the test's own temporary directory
	in, err := Start(context.Background(), Config{Dir: dir, Listen: addr,
		Main: map[string]string{"relayhost": "[127.0.0.1]:" + sink.Addr().(*net.TCPAddr).AddrPort().String()[len("127.0.0.1:"):], "default_transport": "smtp"}})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Stop()
	if err := smtp.SendMail(addr, nil, "a@sender.test", []string{"b@sink.test"}, []byte("Subject: hi\r\n\r\nhello\r\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if !strings.Contains(m, "hello") {
			t.Fatalf("relayed message: %q", m)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("nothing relayed; log:\n%s", in.LogTail(20))
	}
	// Postfix logs the delivery once the sink's 250 is in.
	for i := 0; i < 100 && in.CountLog("status=sent") == 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if n := in.CountLog("status=sent"); n != 1 {
		t.Errorf("%d status=sent lines in the log:\n%s", n, in.LogTail(10))
	}
	if cpu, err := in.CPU(); err != nil || cpu < 0 { // one message may take less than a tick
		t.Errorf("CPU = %v, %v", cpu, err)
	}
}
