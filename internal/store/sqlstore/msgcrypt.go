package sqlstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/omnigate/omnigate/internal/keyring"
	"github.com/omnigate/omnigate/internal/store"
)

// Data at rest (docs/operations.md, "Data at rest"). Message bodies and
// contents (outbound and inbound) are sealed with their account's data key
// (keyring scope = the account's id), with the table, column and message id
// as associated data; the parts of a concatenated inbound message, whose
// account is not known until it is whole, with the platform's. Reads open
// them: everything above the store sees clear text. Rows written in clear
// by an earlier release stay readable as they are. Nothing filters or
// searches by body or content, so nothing else changes.
//
// Shredding an account's keys (ShredAccount) leaves its ciphertext stored
// and unreadable: bodies then read as store.Erased, contents as none.

// MessagesInClear turns off the encryption of message bodies written from
// now on (what was sealed still opens): benchmarks compare both.
func (s *Store) MessagesInClear(clear bool) { s.messagesInClear = clear }

// ensureScopes makes the data keys of accounts that have none yet, before
// a transaction that seals their messages (making a key writes to the
// database, which a transaction on SQLite's single writer would wait for).
func (s *Store) ensureScopes(ctx context.Context, accounts ...string) error {
	if s.keys == nil || s.messagesInClear {
		return nil
	}
	for _, a := range accounts {
		if err := s.keys.EnsureScope(ctx, a); err != nil {
			return fmt.Errorf("making the data key of account %s: %w", a, err)
		}
	}
	return nil
}

// sealText seals one value of a message column with its account's key; ""
// stays "".
func (s *Store) sealText(ctx context.Context, scope, aad, v string) (string, error) {
	if v == "" || s.keys == nil || s.messagesInClear {
		return v, nil
	}
	sealed, err := s.keys.SealExisting(ctx, scope, aad, []byte(v))
	if err != nil {
		return "", fmt.Errorf("encrypting %s: %w", aad, err)
	}
	return sealed, nil
}

// openText opens what sealText stored; a value in clear is returned as it
// is. erased is set when the value's data key was shredded.
func (s *Store) openText(ctx context.Context, aad string, v *string) (erased bool, err error) {
	if !keyring.Sealed(*v) {
		return false, nil
	}
	if s.keys == nil {
		return false, fmt.Errorf("reading %s: it is encrypted and the store was opened without the master key", aad)
	}
	plain, err := s.keys.Open(ctx, aad, *v)
	if errors.Is(err, keyring.ErrErased) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", aad, err)
	}
	*v = string(plain)
	return false, nil
}

// sealMessage seals a message's body and content (its JSON).
func (s *Store) sealMessage(ctx context.Context, accountID, id, body, content string) (string, string, error) {
	body, err := s.sealText(ctx, accountID, "messages.body/"+id, body)
	if err != nil {
		return "", "", err
	}
	content, err = s.sealText(ctx, accountID, "messages.content/"+id, content)
	return body, content, err
}

// openMessage opens what sealMessage stored; a shredded body reads as
// store.Erased, a shredded content as none.
func (s *Store) openMessage(ctx context.Context, id string, body, content *string) error {
	erased, err := s.openText(ctx, "messages.body/"+id, body)
	if err != nil {
		return err
	}
	if erased {
		*body = store.Erased
	}
	if erased, err = s.openText(ctx, "messages.content/"+id, content); err != nil {
		return err
	}
	if erased {
		*content = ""
	}
	return nil
}

// ShredAccount deletes the data keys of an account (crypto-shredding): its
// messages' bodies and contents stored until now, here and in every
// backup, can no longer be read. The keys go from the database and from
// the keys files of the backup directories (SetBackupDirs). Messages the
// account sends later get a new key.
func (s *Store) ShredAccount(ctx context.Context, accountID string) (Shredded, error) {
	if s.keys == nil {
		return Shredded{}, errors.New("shredding: the store has no keyring")
	}
	if accountID == "" {
		return Shredded{}, errors.New("shredding: no account given")
	}
	return s.shred(ctx, accountID)
}
