package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "Usage: load"},
		{[]string{"--target", "smpp", "--key", "k"}, 2, `--target "smpp"`},
		{[]string{}, 2, "--key (or OMNIGATE_KEY) is required"},
		{[]string{"--target", "kannel"}, 2, "--user and --password are required"},
		{[]string{"--key", "k", "--mix", "gsm=0"}, 2, "--mix"},
		{[]string{"--key", "k", "--url", "http://192.0.2.1:8080"}, 2, "not on a loopback address"},
		{[]string{"--key", "k", "extra"}, 2, `unexpected argument "extra"`},
	} {
		t.Setenv("OMNIGATE_KEY", "")
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}

func TestRunWritesResultsAndStrictFails(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%5 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"errors":[{"code":99,"description":"shutting down","parameter":null}]}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":"m%d"}`, n.Load())
	}))
	defer srv.Close()
	dir := t.TempDir()
	jsonPath, svgPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.svg")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--url", srv.URL, "--key", "k", "--requests", "20", "--duration", "0", "--track=false",
		"--quiet", "--strict", "--json", jsonPath, "--svg", svgPath}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "4 requests failed") {
		t.Errorf("exit %d, stderr %q: --strict must fail on 4 failed requests", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "HTTP 503 code 99") {
		t.Errorf("the table does not name the error:\n%s", stdout.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Requests struct{ Sent, Accepted, Errors int }
	}
	if err := json.Unmarshal(b, &res); err != nil || res.Requests.Sent != 20 || res.Requests.Accepted != 16 {
		t.Errorf("JSON result %+v (%v)", res, err)
	}
	if svg, err := os.ReadFile(svgPath); err != nil || !bytes.Contains(svg, []byte("<svg")) {
		t.Errorf("no chart: %v", err)
	}
}
