package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/omnigate/omnigate/internal/message"
)

// The roll-ups' changes for the messages and recipients writeMessages
// stores (migrations 056, 059 and 060). A trigger per inserted row cost
// SQLite about 15 % of the accept path: each recipient ran three INSERT …
// SELECT statements, one with an EXISTS lookup. writeMessages is the only
// code that inserts messages and recipients, so it sums a whole batch in
// Go and appends one change per key instead; the triggers still count
// every status or price change and every deletion.

const (
	messageCountDeltaCols   = `account_id, day, channel, status, n, charged`
	statementCountDeltaCols = `account_id, day, channel, country, currency, messages, recipients, parts, amount`
)

// The sums of one key of message_count_deltas (countKey) and of
// statement_count_deltas (statementKey).
type (
	overviewSums  struct{ n, charged int64 }
	statementSums struct{ messages, recipients, parts, amount int64 }
)

// countAccepted appends the roll-ups' changes for msgs, all new: every
// outgoing recipient counts once under its status and price in the
// Overview; in the statements, every outgoing message once under the
// country '*', every recipient with its parts and price under its country
// and currency, and every message once per country it is sent to (under
// the currency of its first recipient there, as the SQLite trigger did;
// a statement sums messages over currencies).
func (s *Store) countAccepted(ctx context.Context, tx *sql.Tx, msgs []*message.Message) error {
	var (
		overview    map[countKey]*overviewSums
		statements  map[statementKey]*statementSums
		countKeys   []countKey // in first-seen order, so that a batch writes its changes in a stable order
		statementKs []statementKey
		seen        map[string]bool // the countries of a message's recipients so far (messages to several)
	)
	addStatement := func(k statementKey, v statementSums) {
		sum := statements[k]
		if sum == nil {
			sum = &statementSums{}
			statements[k] = sum
			statementKs = append(statementKs, k)
		}
		sum.messages += v.messages
		sum.recipients += v.recipients
		sum.parts += v.parts
		sum.amount += v.amount
	}
	for _, m := range msgs {
		if m.Direction != message.MT {
			continue
		}
		if overview == nil {
			overview, statements = map[countKey]*overviewSums{}, map[statementKey]*statementSums{}
		}
		day := micros(m.CreatedAt) / microsPerDay
		addStatement(statementKey{account: m.AccountID, channel: m.Channel, country: totalsCountry, day: day}, statementSums{messages: 1})
		several := len(m.Recipients) > 1
		if several {
			if seen == nil {
				seen = map[string]bool{}
			}
			clear(seen)
		}
		for _, r := range m.Recipients {
			ok := countKey{account: m.AccountID, channel: m.Channel, status: string(r.Status), day: day}
			sum := overview[ok]
			if sum == nil {
				sum = &overviewSums{}
				overview[ok] = sum
				countKeys = append(countKeys, ok)
			}
			sum.n++
			sum.charged += r.Price
			first := int64(1)
			if several {
				if seen[r.Country] {
					first = 0
				}
				seen[r.Country] = true
			}
			addStatement(statementKey{account: m.AccountID, channel: m.Channel, country: r.Country, currency: r.PriceCurrency, day: day},
				statementSums{messages: first, recipients: 1, parts: int64(r.PartCount), amount: r.Price})
		}
	}
	if overview == nil {
		return nil
	}
	oargs := make([]any, 0, len(countKeys)*6)
	for _, k := range countKeys {
		v := overview[k]
		oargs = append(oargs, k.account, k.day, k.channel, k.status, v.n, v.charged)
	}
	if err := s.insertMessageCountDeltas.exec(ctx, tx, &s.d, oargs); err != nil {
		return fmt.Errorf("counting accepted messages: %w", err)
	}
	sargs := make([]any, 0, len(statementKs)*9)
	for _, k := range statementKs {
		v := statements[k]
		sargs = append(sargs, k.account, k.day, k.channel, k.country, k.currency, v.messages, v.recipients, v.parts, v.amount)
	}
	if err := s.insertStatementCountDeltas.exec(ctx, tx, &s.d, sargs); err != nil {
		return fmt.Errorf("counting accepted messages for statements: %w", err)
	}
	return nil
}

// The insert triggers migration 060 drops, per dialect. On PostgreSQL one
// trigger counted both inserts and deletions: it comes back for deletions
// alone.
const (
	sqliteDropInsertCountTriggers = `DROP TRIGGER message_counts_insert;
DROP TRIGGER statement_counts_insert;
DROP TRIGGER statement_counts_message_insert;`
	postgresDropInsertCountTriggers = `DROP TRIGGER message_counts_insert_delete ON recipients;
CREATE TRIGGER message_counts_delete AFTER DELETE ON recipients
	FOR EACH ROW EXECUTE FUNCTION message_counts_track();
DROP TRIGGER statement_counts_insert ON recipients;
DROP TRIGGER statement_counts_message_insert ON messages;`
)
