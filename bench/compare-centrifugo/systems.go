package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/omnigate/omnigate/internal/realtime"
)

// system is one server under test, with its own protocol and HTTP API.
type system interface {
	name() string
	start(ctx context.Context, dir string) error
	stop()
	pid() int
	// dial opens a connection and waits for the server's handshake.
	dial(ctx context.Context) (*client, error)
	// subscribe asks for a subscription; the read loop signals c.acks
	// when it is confirmed. user, when set, makes it a presence member.
	subscribe(ctx context.Context, c *client, channel, user string) error
	unsubscribe(ctx context.Context, c *client, channel string) error
	// presenceChannel names presence channel i.
	presenceChannel(i int) string
	// publish publishes each event (channel, data) through the HTTP API,
	// in one request.
	publish(ctx context.Context, hc *http.Client, events []event) error
	// control acts on a frame beyond counting it: pings, confirmations.
	control(ctx context.Context, c *client, b []byte, rec *recorder)
}

type event struct{ channel, data string }

// proc is a server process this program started.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startProc(dir, name string, argv ...string) (*proc, error) {
	f, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OMNIGATE_") && !strings.HasPrefix(kv, "CENTRIFUGO_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

func (p *proc) stop() {
	if p == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP waits until url answers 200 or p ends.
func waitHTTP(ctx context.Context, url string, p *proc) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return errors.New("the server exited while starting (see its log)")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
	}
	return fmt.Errorf("%s did not answer 200 within a minute", url)
}

// ---- omnigate: `omnigate serve`, the Pusher protocol and HTTP API ----

type omnigate struct {
	bin                string
	debugAddr          string // --debug-addr of serve; empty: none
	port               int
	appID, key, secret string
	serve              *proc
	cmds               []string
}

func (o *omnigate) name() string { return "omnigate" }
func (o *omnigate) pid() int     { return o.serve.cmd.Process.Pid }
func (o *omnigate) stop()        { o.serve.stop() }

func (o *omnigate) start(ctx context.Context, dir string) error {
	data := filepath.Join(dir, "data")
	admin := func(args ...string) ([]byte, error) {
		args = append(args, "--data", data)
		o.cmds = append(o.cmds, "omnigate "+strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, o.bin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("omnigate %s: %w: %s", strings.Join(args[:2], " "), err, strings.TrimSpace(stderr.String()))
		}
		return out, nil
	}
	out, err := admin("account", "create", "--name", "bench")
	if err != nil {
		return err
	}
	var acct struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &acct); err != nil || acct.ID == "" {
		return fmt.Errorf("omnigate account create: no id in %q", out)
	}
	if out, err = admin("app", "create", "--account", acct.ID, "--name", "bench"); err != nil {
		return err
	}
	var app struct {
		ID     string `json:"app_id"`
		Key    string `json:"key"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(out, &app); err != nil || app.ID == "" || app.Key == "" || app.Secret == "" {
		return fmt.Errorf("omnigate app create: no app_id, key and secret in %q", out)
	}
	o.appID, o.key, o.secret = app.ID, app.Key, app.Secret
	if o.port, err = freePort(); err != nil {
		return err
	}
	args := []string{"serve", "--http", "127.0.0.1:" + strconv.Itoa(o.port), "--log-level", "warn",
		"--ws-conns-per-ip", "0", "--http-conns-per-ip", "0", "--app-max-connections", "0", "--data", data}
	if o.debugAddr != "" {
		args = append(args, "--debug-addr", o.debugAddr)
	}
	o.cmds = append(o.cmds, "omnigate "+strings.Join(args, " "))
	if o.serve, err = startProc(dir, "omnigate", append([]string{o.bin}, args...)...); err != nil {
		return err
	}
	return waitHTTP(ctx, "http://127.0.0.1:"+strconv.Itoa(o.port)+"/readyz", o.serve)
}

func (o *omnigate) dial(ctx context.Context) (*client, error) {
	ws, _, err := websocket.Dial(ctx, "ws://127.0.0.1:"+strconv.Itoa(o.port)+"/app/"+o.key+"?protocol=7&client=bench&version=1", nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	_, b, err := ws.Read(ctx)
	if err != nil {
		ws.CloseNow()
		return nil, err
	}
	var f struct {
		Event string `json:"event"`
		Data  string `json:"data"`
	}
	var est struct {
		SocketID string `json:"socket_id"`
	}
	if json.Unmarshal(b, &f) != nil || f.Event != "pusher:connection_established" || json.Unmarshal([]byte(f.Data), &est) != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("omnigate: unexpected first frame %q", b)
	}
	return &client{ws: ws, sys: o, socketID: est.SocketID, acks: make(chan struct{}, 16)}, nil
}

func (o *omnigate) presenceChannel(i int) string { return "presence-churn-" + strconv.Itoa(i) }

// subscribe and unsubscribe build their frames by hand, as Centrifugo's
// commands are built, so that neither client pays for encoding/json's
// reflection on every command of the churn.
func (o *omnigate) subscribe(ctx context.Context, c *client, channel, user string) error {
	b := make([]byte, 0, 256)
	b = append(b, `{"event":"pusher:subscribe","data":{"channel":`...)
	b = strconv.AppendQuote(b, channel) // channel names and user ids here are plain ASCII: Go's quoting is JSON's
	if user != "" {
		cd := `{"user_id":` + strconv.Quote(user) + `}`
		b = append(b, `,"channel_data":`...)
		b = strconv.AppendQuote(b, cd)
		b = append(b, `,"auth":`...)
		b = strconv.AppendQuote(b, realtime.ChannelAuth(o.key, o.secret, c.socketID, channel, cd))
	}
	b = append(b, "}}"...)
	return c.write(ctx, b)
}

func (o *omnigate) unsubscribe(ctx context.Context, c *client, channel string) error {
	b := make([]byte, 0, 96)
	b = append(b, `{"event":"pusher:unsubscribe","data":{"channel":`...)
	b = strconv.AppendQuote(b, channel)
	b = append(b, "}}"...)
	return c.write(ctx, b)
}

var (
	pusherPing      = []byte(`"pusher:ping"`)
	pusherSucceeded = []byte(`"pusher_internal:subscription_succeeded"`)
	pusherMember    = []byte(`"pusher_internal:member_`)
	pusherPong      = []byte(`{"event":"pusher:pong","data":{}}`)
)

func (o *omnigate) control(ctx context.Context, c *client, b []byte, rec *recorder) {
	switch {
	case bytes.Contains(b, pusherSucceeded):
		select {
		case c.acks <- struct{}{}:
		default:
		}
	case bytes.Contains(b, pusherMember):
		rec.joins.Add(1)
	case bytes.Contains(b, pusherPing):
		c.write(ctx, pusherPong)
	}
}

func (o *omnigate) publish(ctx context.Context, hc *http.Client, events []event) error {
	path := "/apps/" + o.appID + "/events"
	var body []byte
	if len(events) == 1 {
		body, _ = json.Marshal(map[string]any{"name": "e", "channels": []string{events[0].channel}, "data": events[0].data})
	} else {
		path = "/apps/" + o.appID + "/batch_events"
		batch := make([]map[string]string, len(events))
		for i, e := range events {
			batch[i] = map[string]string{"name": "e", "channel": e.channel, "data": e.data}
		}
		body, _ = json.Marshal(map[string]any{"batch": batch})
	}
	q := realtime.SignRequest(o.key, o.secret, "POST", path, nil, body, time.Now())
	return post(ctx, hc, "http://127.0.0.1:"+strconv.Itoa(o.port)+path+"?"+q.Encode(), body, nil)
}

func post(ctx context.Context, hc *http.Client, url string, body []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(b))
	}
	// Centrifugo answers 200 with an error in the body.
	if bytes.HasPrefix(b, []byte(`{"error"`)) {
		return fmt.Errorf("%s", bytes.TrimSpace(b))
	}
	return nil
}

// ---- Centrifugo: its JSON protocol over WebSocket and its HTTP API ----

type centrifugo struct {
	bin    string
	port   int
	apiKey string
	p      *proc
	cmds   []string
}

func (c *centrifugo) name() string { return "Centrifugo" }
func (c *centrifugo) pid() int     { return c.p.cmd.Process.Pid }
func (c *centrifugo) stop()        { c.p.stop() }

// config: anonymous clients may connect and subscribe to any channel
// (client.insecure is not used: it also lets clients publish); the
// "presence" namespace keeps presence and sends joins and leaves. The
// rest is Centrifugo's defaults (a client's queue: 1 MiB, as omnigate's).
func (c *centrifugo) config() map[string]any {
	return map[string]any{
		"log":         map[string]any{"level": "warn"},
		"http_server": map[string]any{"address": "127.0.0.1", "port": c.port},
		"http_api":    map[string]any{"key": c.apiKey},
		"health":      map[string]any{"enabled": true},
		"client": map[string]any{
			"allowed_origins":                       []string{"*"},
			"allow_anonymous_connect_without_token": true,
			"connection_limit":                      0,
		},
		"channel": map[string]any{
			"without_namespace": map[string]any{"allow_subscribe_for_anonymous": true, "allow_subscribe_for_client": true},
			"namespaces": []map[string]any{{
				"name": "presence", "presence": true, "join_leave": true, "force_push_join_leave": true,
				"allow_subscribe_for_anonymous": true, "allow_subscribe_for_client": true,
			}},
		},
	}
}

func (c *centrifugo) start(ctx context.Context, dir string) error {
	var err error
	if c.port, err = freePort(); err != nil {
		return err
	}
	c.apiKey = "bench-api-key"
	b, _ := json.MarshalIndent(c.config(), "", "  ")
	cfg := filepath.Join(dir, "centrifugo.json")
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		return err
	}
	c.cmds = append(c.cmds, "centrifugo --config "+cfg, string(b))
	if c.p, err = startProc(dir, "centrifugo", c.bin, "--config", cfg); err != nil {
		return err
	}
	return waitHTTP(ctx, "http://127.0.0.1:"+strconv.Itoa(c.port)+"/health", c.p)
}

func (c *centrifugo) dial(ctx context.Context) (*client, error) {
	ws, _, err := websocket.Dial(ctx, "ws://127.0.0.1:"+strconv.Itoa(c.port)+"/connection/websocket", nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	cl := &client{ws: ws, sys: c, acks: make(chan struct{}, 16)}
	if err := cl.command(ctx, `"connect":{"name":"bench"}`); err != nil {
		ws.CloseNow()
		return nil, err
	}
	_, b, err := ws.Read(ctx)
	if err != nil {
		ws.CloseNow()
		return nil, err
	}
	if !bytes.Contains(b, []byte(`"connect":`)) {
		ws.CloseNow()
		return nil, fmt.Errorf("centrifugo: unexpected connect reply %q", b)
	}
	return cl, nil
}

func (c *centrifugo) presenceChannel(i int) string { return "presence:churn-" + strconv.Itoa(i) }

func (c *centrifugo) subscribe(ctx context.Context, cl *client, channel, user string) error {
	return cl.command(ctx, `"subscribe":{"channel":"`+channel+`"}`)
}

func (c *centrifugo) unsubscribe(ctx context.Context, cl *client, channel string) error {
	return cl.command(ctx, `"unsubscribe":{"channel":"`+channel+`"}`)
}

var (
	cfSubscribed = []byte(`"subscribe":{`)
	cfJoin       = []byte(`"join":{`)
	cfLeave      = []byte(`"leave":{`)
	cfPong       = []byte(`{}`)
)

func (c *centrifugo) control(ctx context.Context, cl *client, b []byte, rec *recorder) {
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		switch {
		case len(bytes.TrimSpace(line)) == 2 && bytes.Equal(bytes.TrimSpace(line), cfPong):
			cl.write(ctx, cfPong) // a ping: answer it
		case bytes.Contains(line, cfSubscribed) && bytes.HasPrefix(line, []byte(`{"id":`)):
			select {
			case cl.acks <- struct{}{}:
			default:
			}
		case bytes.Contains(line, cfJoin) || bytes.Contains(line, cfLeave):
			rec.joins.Add(1)
		}
	}
}

func (c *centrifugo) publish(ctx context.Context, hc *http.Client, events []event) error {
	h := http.Header{"X-Api-Key": {c.apiKey}}
	base := "http://127.0.0.1:" + strconv.Itoa(c.port) + "/api/"
	if len(events) == 1 {
		body, _ := json.Marshal(map[string]any{"channel": events[0].channel, "data": json.RawMessage(events[0].data)})
		return post(ctx, hc, base+"publish", body, h)
	}
	cmds := make([]map[string]any, len(events))
	for i, e := range events {
		cmds[i] = map[string]any{"publish": map[string]any{"channel": e.channel, "data": json.RawMessage(e.data)}}
	}
	body, _ := json.Marshal(map[string]any{"commands": cmds})
	return post(ctx, hc, base+"batch", body, h)
}
