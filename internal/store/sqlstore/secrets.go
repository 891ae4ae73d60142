package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/omnigate/omnigate/internal/keyring"
)

// Secrets at rest. The columns below hold secrets the platform must read
// back in clear (a signing key signs status reports, a realtime secret
// verifies signatures, a connector's settings carry its carrier password),
// so they are encrypted rather than hashed: the store seals them with the
// keyring as it writes them and opens them as it reads them. Everything
// above the store sees clear values.

// secretColumn is a column holding a secret, and the associated data its
// values are sealed with: the column's name and the row's key, so that a
// value copied to another row or column does not open.
type secretColumn struct {
	table, key, column string
	// aad starts the associated data; realtime apps' secret and
	// previous_secret share theirs because rotating moves one to the other.
	aad string
}

var (
	signingKeyColumn     = secretColumn{"accounts", "id", "signing_key", "accounts.signing_key"}
	realtimeSecretColumn = secretColumn{"realtime_apps", "id", "secret", "realtime_apps.secret"}
	realtimePrevColumn   = secretColumn{"realtime_apps", "id", "previous_secret", "realtime_apps.secret"}
	connectorColumn      = secretColumn{"connectors", "name", "settings", "connectors.settings"}
	emailDomainKeyColumn = secretColumn{"email_domains", "id", "private_key", "email_domains.private_key"}
	twilioTokenColumn    = secretColumn{"twilio_accounts", "account_id", "auth_token", "twilio_accounts.auth_token"}
	// A Conversations webhook's settings may hold a basic auth password.
	convWebhookColumn = secretColumn{"conversation_webhooks", "id", "settings", "conversation_webhooks.settings"}
	// A Beams instance's own APNs token key and FCM service account key.
	pushAPNsKeyColumn = secretColumn{"push_apns_credentials", "instance_id", "private_key", "push_apns_credentials.private_key"}
	pushFCMKeyColumn  = secretColumn{"push_fcm_credentials", "instance_id", "private_key", "push_fcm_credentials.private_key"}
)

// secretColumns are every column holding a secret.
var secretColumns = []secretColumn{signingKeyColumn, realtimeSecretColumn, realtimePrevColumn, connectorColumn, emailDomainKeyColumn, twilioTokenColumn, convWebhookColumn,
	pushAPNsKeyColumn, pushFCMKeyColumn}

func (c secretColumn) String() string { return c.table + "." + c.column }

// UseKeyring makes the store seal secrets with k as it writes them and open
// them as it reads them. The app always gives one (app.OpenStore); a store
// without one, as some packages' tests open, stores new secrets as given.
func (s *Store) UseKeyring(k *keyring.Keyring) { s.keys = k }

// Keyring is the keyring the store seals secrets with; nil if none.
func (s *Store) Keyring() *keyring.Keyring { return s.keys }

// seal encrypts a secret of column c in the row with key rowKey; an empty
// value (no secret) stays empty.
func (s *Store) seal(ctx context.Context, c secretColumn, rowKey, v string) (string, error) {
	if v == "" || s.keys == nil {
		return v, nil
	}
	sealed, err := s.keys.Seal(ctx, c.aad+"/"+rowKey, []byte(v))
	if err != nil {
		return "", fmt.Errorf("encrypting %s: %w", c, err)
	}
	return sealed, nil
}

// open decrypts what seal stored. A value in clear, written by a release
// before encryption at rest (and encrypted at the next start), is returned
// as it is.
func (s *Store) open(ctx context.Context, c secretColumn, rowKey string, v *string) error {
	if !keyring.Sealed(*v) {
		return nil
	}
	if s.keys == nil {
		return fmt.Errorf("reading %s: it is encrypted and the store was opened without the master key", c)
	}
	plain, err := s.keys.Open(ctx, c.aad+"/"+rowKey, *v)
	if err != nil {
		return fmt.Errorf("reading %s of %q: %w", c, rowKey, err)
	}
	*v = string(plain)
	return nil
}

// resealBatch is how many rows one transaction of Reseal re-encrypts.
const resealBatch = 500

// Reseal encrypts with the keyring's current data key every secret stored
// in clear and, when all is set, every secret sealed by an older data key
// too (after a rotation). It returns how many values it rewrote per column
// ("table.column"). A value changed meanwhile by someone else is left to
// them: each row is rewritten only if it still holds what was read.
func (s *Store) Reseal(ctx context.Context, all bool) (map[string]int, error) {
	if s.keys == nil {
		return nil, errors.New("resealing secrets: the store has no keyring")
	}
	skip := keyring.Prefix + "%" // sealed: only values in clear need work
	if all {
		skip = keyring.Prefix + s.keys.CurrentKeyID() + ":%"
	}
	done := map[string]int{}
	for _, c := range secretColumns {
		after := ""
		for {
			type row struct{ key, value string }
			var batch []row
			rows, err := s.r.QueryContext(ctx, s.d.rebind(`SELECT `+c.key+`, `+c.column+` FROM `+c.table+`
				WHERE `+c.key+` > ? AND `+c.column+` <> '' AND `+c.column+` NOT LIKE ? ORDER BY `+c.key+` LIMIT ?`), after, skip, resealBatch)
			if err != nil {
				return done, fmt.Errorf("resealing %s: %w", c, err)
			}
			for rows.Next() {
				var r row
				if err := rows.Scan(&r.key, &r.value); err != nil {
					rows.Close()
					return done, fmt.Errorf("resealing %s: %w", c, err)
				}
				batch = append(batch, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return done, fmt.Errorf("resealing %s: %w", c, err)
			}
			if len(batch) == 0 {
				break
			}
			after = batch[len(batch)-1].key
			sealed := make([]string, len(batch))
			for i, r := range batch {
				plain := r.value
				if err := s.open(ctx, c, r.key, &plain); err != nil {
					return done, err
				}
				if sealed[i], err = s.seal(ctx, c, r.key, plain); err != nil {
					return done, err
				}
			}
			err = s.inTx(ctx, "resealing "+c.String(), func(tx *sql.Tx) error {
				for i, r := range batch {
					res, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE `+c.table+` SET `+c.column+` = ? WHERE `+c.key+` = ? AND `+c.column+` = ?`),
						sealed[i], r.key, r.value)
					if err != nil {
						return fmt.Errorf("resealing %s: %w", c, err)
					}
					n, err := res.RowsAffected()
					if err != nil {
						return fmt.Errorf("resealing %s: %w", c, err)
					}
					done[c.String()] += int(n)
				}
				return nil
			})
			if err != nil {
				return done, err
			}
		}
	}
	return done, nil
}

// SecretCount is how a column's secrets are stored.
type SecretCount struct {
	Column string         `json:"column"`
	Clear  int            `json:"clear"`       // stored in clear (before the first start of this release)
	ByKey  map[string]int `json:"by_data_key"` // sealed, per data key id
}

// SecretCounts says, per secret column, how many values are in clear and
// how many each data key sealed, for `omnigate secrets status`.
func (s *Store) SecretCounts(ctx context.Context) ([]SecretCount, error) {
	var out []SecretCount
	for _, c := range secretColumns {
		sc := SecretCount{Column: c.String(), ByKey: map[string]int{}}
		rows, err := s.r.QueryContext(ctx, `SELECT `+c.column+` FROM `+c.table+` WHERE `+c.column+` <> ''`)
		if err != nil {
			return nil, fmt.Errorf("counting %s: %w", c, err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("counting %s: %w", c, err)
			}
			if id := keyring.KeyID(v); id != "" {
				sc.ByKey[id]++
			} else {
				sc.Clear++
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("counting %s: %w", c, err)
		}
		out = append(out, sc)
	}
	return out, nil
}
