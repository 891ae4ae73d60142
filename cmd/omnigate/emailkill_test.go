package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// An accepted email survives kill -9 like an SMS: `serve --demo` takes
// emails through POST /v1/send under load, is killed, and after a restart
// on the same data every accepted email reaches delivered and is in the
// demo mail server's maildir (at least once: a send the kill cut between
// the 250 and its commit goes again).
func TestKillDuringEmailLoad(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		addr := freePort(t)
		args := []string{"--demo", "--email-settle", "500ms"}
		p := e.serve(addr, args...)
		var demo struct {
			Key string `json:"key"`
		}
		b, err := os.ReadFile(filepath.Join(e.data, "demo-account.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &demo); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		accepted := map[string]string{} // id → recipient
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					to := fmt.Sprintf("w%d-%d@inbox.test", w, i)
					body := `{"type":"email","content":{"email":{"from":{"email":"news@demo.omnigate.test"},"to":[{"email":"` + to +
						`"}],"subject":"durable?","content":{"text":"kill -9"}}}}`
					req, _ := http.NewRequest("POST", p.url+"/v1/send", strings.NewReader(body))
					req.Header.Set("Authorization", "AccessKey "+demo.Key)
					req.Header.Set("Content-Type", "application/json")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						continue
					}
					var out map[string]any
					json.NewDecoder(resp.Body).Decode(&out)
					resp.Body.Close()
					if resp.StatusCode == 202 {
						mu.Lock()
						accepted[out["id"].(string)] = to
						mu.Unlock()
					}
				}
			}()
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			n := len(accepted)
			mu.Unlock()
			if n >= 150 || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.cmd.Wait()
		stop()
		wg.Wait()
		if len(accepted) < 50 {
			t.Fatalf("only %d accepted before the kill; the test needs a real load", len(accepted))
		}
		p = e.serve(addr, args...)
		pending := map[string]string{}
		for id, to := range accepted {
			pending[id] = to
		}
		deadline = time.Now().Add(90 * time.Second)
		for len(pending) > 0 {
			for id := range pending {
				req, _ := http.NewRequest("GET", p.url+"/v1/messages/"+id, nil)
				req.Header.Set("Authorization", "AccessKey "+demo.Key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var m map[string]any
				json.NewDecoder(resp.Body).Decode(&m)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("accepted email %s lost: %d", id, resp.StatusCode)
				}
				if m["status"] == "delivered" {
					delete(pending, id)
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d accepted emails never delivered", len(pending))
			}
			time.Sleep(100 * time.Millisecond)
		}
		for id, to := range accepted {
			files, _ := filepath.Glob(filepath.Join(e.data, "demo-mail", to, "new", "*"))
			if len(files) == 0 {
				t.Fatalf("email %s to %s delivered but not in the maildir", id, to)
			}
		}
		t.Logf("%d emails accepted before SIGKILL, all delivered after the restart", len(accepted))
	})
}
