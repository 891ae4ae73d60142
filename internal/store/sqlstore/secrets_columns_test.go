package sqlstore

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// Every column whose name says it holds a credential is either a secret
// column (sealed with the keyring) or stored as a hash, or is named here
// with why it is neither: a new credential column cannot be added in clear
// without this test saying so.
func TestCredentialColumnsAreSecret(t *testing.T) {
	credential := regexp.MustCompile(`(?i)(password|passwd|secret|token|private_key|signing_key|api_key|auth|credential|settings)`)
	notSecret := map[string]string{
		"smpp_credentials.password_hash": "a hash, compared, never read back",
		"users.password_hash":            "a hash, compared, never read back",
		"twilio_api_keys.secret_hash":    "a hash of the API key's secret",
		"user_sessions.token_hash":       "a hash of the session token",
		"user_invitations.token_hash":    "a hash of the invitation token",
		"push_devices.token":             "a device's push address (APNs/FCM/Web Push), not a credential of ours; erased with the Beams user",
		"verify_settings.settings":       "fraud limits and countries (store.VerifySettings): no credential",
	}
	secret := map[string]bool{}
	for _, c := range secretColumns {
		secret[c.table+"."+c.column] = true
	}
	create := regexp.MustCompile(`(?is)CREATE TABLE\s+(\w+)\s*\((.*?)\n\);`)
	alter := regexp.MustCompile(`(?i)ALTER TABLE\s+(\w+)\s+ADD COLUMN\s+(\w+)`)
	files, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v", err)
	}
	seen := 0
	found := map[string]bool{}
	check := func(table, col string) {
		if !credential.MatchString(col) {
			return
		}
		seen++
		name := table + "." + col
		found[name] = true
		if secret[name] {
			return
		}
		if _, ok := notSecret[name]; ok {
			return
		}
		t.Errorf("column %s looks like a credential and is not a secret column (secretColumns, secrets.go): seal it, or say here why not", name)
	}
	for _, f := range files {
		b, err := fs.ReadFile(migrationFiles, f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, m := range create.FindAllStringSubmatch(text, -1) {
			table := strings.TrimSuffix(m[1], "_v10")
			for _, line := range strings.Split(m[2], "\n") {
				fields := strings.Fields(strings.TrimSpace(line))
				if len(fields) < 2 || strings.HasPrefix(fields[0], "--") || strings.EqualFold(fields[0], "PRIMARY") || strings.EqualFold(fields[0], "UNIQUE") {
					continue
				}
				check(table, fields[0])
			}
		}
		for _, m := range alter.FindAllStringSubmatch(text, -1) {
			check(m[1], m[2])
		}
	}
	for name := range notSecret {
		if !found[name] {
			t.Errorf("%s is listed as not secret but no migration makes it: drop it from the list", name)
		}
	}
	for _, c := range secretColumns {
		if !credential.MatchString(c.column) {
			seen++ // a secret column the name pattern does not catch is fine
		}
	}
	if seen < len(secretColumns) {
		t.Fatalf("found %d credential-like columns, fewer than the %d secret columns: the migration parser misses some", seen, len(secretColumns))
	}
}
