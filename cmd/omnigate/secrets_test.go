package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretsRun runs a command with extra environment variables; it returns its
// output decoded into v (when the command succeeds) and its stderr.
func (e *env) secretsRun(extraEnv []string, v any, args ...string) (stderr string, err error) {
	e.t.Helper()
	var errBuf bytes.Buffer
	with := *e
	with.extra = extraEnv
	c := with.cmd(args...)
	c.Stderr = &errBuf
	out, err := c.Output()
	if err == nil && v != nil {
		if jerr := json.Unmarshal(out, v); jerr != nil {
			e.t.Fatalf("omnigate %s printed %q: %v", strings.Join(args, " "), out, jerr)
		}
	}
	return errBuf.String(), err
}

// The keys commands: status, rotation to a new master key while the old
// one keeps working, retiring the old one, which then opens nothing; a
// carrier's password never shows in `connector list`.
func TestKeysCLI(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		var acct created
		e.run(&acct, "account", "create", "--name", "Acme")
		var conn map[string]any
		e.run(&conn, "connector", "add", "--name", "carrier", "--host", "127.0.0.1", "--system-id", "omni", "--password", "pa55w0rd", "--disabled")
		var conns []map[string]any
		e.run(&conns, "connector", "list")
		for _, printed := range []any{conn, conns} {
			b, _ := json.Marshal(printed)
			if strings.Contains(string(b), "pa55w0rd") || !strings.Contains(string(b), `"password":"********"`) || !strings.Contains(string(b), `"system_id":"omni"`) {
				t.Errorf("connector add/list printed %s, want the settings with the password masked", b)
			}
		}

		var status struct {
			MasterKeyID string `json:"master_key_id"`
			DataKeys    []struct {
				ID        string   `json:"id"`
				Current   bool     `json:"current"`
				WrappedBy []string `json:"wrapped_by"`
			} `json:"data_keys"`
			Secrets []struct {
				Column string         `json:"column"`
				Clear  int            `json:"clear"`
				ByKey  map[string]int `json:"by_data_key"`
			} `json:"secrets"`
		}
		e.run(&status, "secrets", "status")
		if len(status.MasterKeyID) != 16 || len(status.DataKeys) != 1 || !status.DataKeys[0].Current || status.DataKeys[0].WrappedBy[0] != status.MasterKeyID {
			t.Fatalf("secrets status printed %+v", status)
		}
		sealed := map[string]int{}
		for _, c := range status.Secrets {
			sealed[c.Column] = c.ByKey[status.DataKeys[0].ID]
			if c.Clear != 0 {
				t.Errorf("secrets status: %d values of %s in clear", c.Clear, c.Column)
			}
		}
		if sealed["accounts.signing_key"] != 1 || sealed["connectors.settings"] != 1 {
			t.Errorf("secrets status counts %v", sealed)
		}

		newFile := filepath.Join(t.TempDir(), "new.key")
		var gen struct {
			File        string `json:"file"`
			MasterKeyID string `json:"master_key_id"`
		}
		e.run(&gen, "secrets", "generate", "--out", newFile)
		if fi, err := os.Stat(newFile); err != nil || fi.Mode().Perm() != 0o600 || len(gen.MasterKeyID) != 16 {
			t.Fatalf("secrets generate printed %+v; file %v, %v", gen, fi, err)
		}
		before, _ := os.ReadFile(newFile)
		if _, err := e.secretsRun(nil, nil, "secrets", "generate", "--out", newFile); err == nil {
			t.Error("secrets generate replaced an existing file")
		}
		if after, _ := os.ReadFile(newFile); !bytes.Equal(before, after) {
			t.Error("secrets generate changed an existing file")
		}

		var rot struct {
			MasterKeyID string         `json:"master_key_id"`
			OldMasterID string         `json:"old_master_key_id"`
			DataKeyID   string         `json:"data_key_id"`
			Resealed    map[string]int `json:"resealed"`
		}
		stderr, err := e.secretsRun(nil, &rot, "secrets", "rotate", "--new-master-key-file", newFile)
		if err != nil || rot.MasterKeyID != gen.MasterKeyID || rot.OldMasterID != status.MasterKeyID ||
			rot.Resealed["accounts.signing_key"] != 1 || rot.Resealed["connectors.settings"] != 1 || !strings.Contains(stderr, "retire-master --id "+status.MasterKeyID) {
			t.Fatalf("secrets rotate: %+v, %v, %s", rot, err, stderr)
		}

		// The new key, from a file or the environment, opens everything;
		// so does the old one until it is retired.
		newEnv := []string{"OMNIGATE_MASTER_KEY_FILE=" + newFile}
		for _, env := range [][]string{newEnv, {"OMNIGATE_MASTER_KEY=" + strings.TrimSpace(string(before))}, nil} {
			conns = nil
			if stderr, err := e.secretsRun(env, &conns, "connector", "list"); err != nil || len(conns) != 1 {
				t.Errorf("connector list with %v: %v %s", env, err, stderr)
			}
		}
		var retired map[string]any
		if stderr, err := e.secretsRun(newEnv, &retired, "secrets", "retire-master", "--id", status.MasterKeyID); err != nil || retired["wrappings_deleted"] != 2.0 {
			t.Fatalf("secrets retire-master: %v, %v %s", retired, err, stderr)
		}
		if stderr, err := e.secretsRun(nil, nil, "account", "list"); err == nil || !strings.Contains(stderr, "not under the master key given") {
			t.Errorf("the retired master key (the data directory's): %v, %q", err, stderr)
		}
		if stderr, err := e.secretsRun(append(newEnv, "OMNIGATE_MASTER_KEY=x"), nil, "account", "list"); err == nil || !strings.Contains(stderr, "not both") {
			t.Errorf("two master keys: %v, %q", err, stderr)
		}
		withNew := *e
		withNew.extra = newEnv
		p := withNew.serve(freePort(t))
		if status, err := getStatus(p.url, acct.Key, "00000000000000000000000000000000"); err != nil || status != "http 404" {
			t.Errorf("serving with the new master key: GET an unknown message = %q, %v", status, err)
		}
	})
}
