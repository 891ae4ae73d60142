package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Verifier is a Target that can read back through its own API what became
// of the messages it accepted, to tell a lost message from a lost report.
type Verifier interface {
	// Statuses is the status of each recipient of the message ref.
	Statuses(ctx context.Context, c *http.Client, ref string) (map[string]string, error)
	// DeliveredMessages counts the account's messages with a delivered
	// recipient (the whole account, not only this run's).
	DeliveredMessages(ctx context.Context, c *http.Client) (int, error)
}

var _ Verifier = (*Omnigate)(nil)

// Statuses implements Verifier with GET /messages/{id}.
func (o *Omnigate) Statuses(ctx context.Context, c *http.Client, ref string) (map[string]string, error) {
	var m struct {
		Recipients struct {
			Items []struct {
				Recipient json.Number `json:"recipient"`
				Status    string      `json:"status"`
			} `json:"items"`
		} `json:"recipients"`
	}
	if err := o.get(ctx, c, "/messages/"+url.PathEscape(ref), &m); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(m.Recipients.Items))
	for _, it := range m.Recipients.Items {
		out[it.Recipient.String()] = it.Status
	}
	return out, nil
}

// DeliveredMessages implements Verifier with GET /messages?status=delivered.
func (o *Omnigate) DeliveredMessages(ctx context.Context, c *http.Client) (int, error) {
	var list struct {
		TotalCount int `json:"totalCount"`
	}
	if err := o.get(ctx, c, "/messages?status=delivered&limit=1", &list); err != nil {
		return 0, err
	}
	return list.TotalCount, nil
}

func (o *Omnigate) get(ctx context.Context, c *http.Client, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(o.BaseURL, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "AccessKey "+o.Key)
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("GET %s: reading the answer: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %.200s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("GET %s: decoding the answer: %w", path, err)
	}
	return nil
}
