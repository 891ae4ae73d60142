package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/omnigate/omnigate/internal/store"
)

// webhookAttemptBehaviours cover the log of webhook calls.
var webhookAttemptBehaviours = []behaviour{
	{"WebhookAttemptsWithFinish", testWebhookAttemptsWithFinish},
	{"WebhookAttemptsFilter", testWebhookAttemptsFilter},
}

// A report job's attempt is logged in the transaction that finishes or
// reschedules the job.
func testWebhookAttemptsWithFinish(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	m := newMessage(a, 1)
	accept(t, st, m)
	if err := st.EnqueueJob(ctx, &store.Job{Kind: store.JobReport, AccountID: a.ID, MessageID: m.ID, Payload: []byte(`{"seq":0,"status":"delivered"}`)}); err != nil {
		t.Fatal(err)
	}
	jobs, err := st.LeaseJobs(ctx, store.Lease{Kind: store.JobReport, N: 10, For: time.Minute, Owner: "node-a"})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("leased %d report jobs: %v", len(jobs), err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	long := strings.Repeat("é", 800) // 1600 bytes: kept clipped, still UTF-8
	att := &store.WebhookAttempt{AccountID: a.ID, Kind: store.AttemptReport, MessageID: m.ID, Event: "delivered", Payload: `{"seq":0}`,
		URL: "https://hooks.example/r", Code: 500, Outcome: store.AttemptRetry, Error: long, Attempt: 1, Duration: 42 * time.Millisecond, At: now}
	if err := st.Finish(ctx, []*store.Outcome{{JobID: jobs[0].ID, RetryAt: now.Add(time.Hour), LastError: "500", Attempt: att}}); err != nil {
		t.Fatal(err)
	}
	list, err := st.WebhookAttempts(ctx, a.ID, store.WebhookAttemptFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("attempts: %d %v", len(list), err)
	}
	got := list[0]
	if got.ID == 0 || got.Code != 500 || got.Outcome != store.AttemptRetry || got.MessageID != m.ID || got.Payload != `{"seq":0}` ||
		got.Duration != 42*time.Millisecond || !got.At.Equal(now) || got.Attempt != 1 || got.URL != "https://hooks.example/r" {
		t.Fatalf("attempt: %+v", got)
	}
	if len(got.Error) > 1000 || !strings.HasPrefix(long, got.Error) || len(got.Error) < 900 {
		t.Fatalf("error kept: %d bytes", len(got.Error))
	}
	one, err := st.GetWebhookAttempt(ctx, a.ID, got.ID)
	if err != nil || one.ID != got.ID {
		t.Fatalf("get: %v", err)
	}
	other := newAccount(t, st)
	if _, err := st.GetWebhookAttempt(ctx, other.ID, got.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account's attempt: %v", err)
	}
	if list, _ := st.WebhookAttempts(ctx, other.ID, store.WebhookAttemptFilter{}); len(list) != 0 {
		t.Fatalf("another account sees %d attempts", len(list))
	}
	// Retention drops old attempts.
	n, err := st.PurgeRetention(ctx, store.RetainWebhooks, now.Add(time.Second), 100)
	if err != nil || n < 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if list, _ := st.WebhookAttempts(ctx, a.ID, store.WebhookAttemptFilter{}); len(list) != 0 {
		t.Fatalf("%d attempts left after the purge", len(list))
	}
}

func testWebhookAttemptsFilter(t *testing.T, st store.Store) {
	a := newAccount(t, st)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var as []*store.WebhookAttempt
	for i, o := range []string{store.AttemptOK, store.AttemptRetry, store.AttemptDropped, store.AttemptOK} {
		kind := store.AttemptReport
		if i == 3 {
			kind = store.AttemptConversation
		}
		as = append(as, &store.WebhookAttempt{AccountID: a.ID, Kind: kind, MessageID: []string{"m1", "m1", "m2", "m3"}[i], Outcome: o,
			At: base.Add(time.Duration(i) * 24 * time.Hour), Attempt: 1})
	}
	if err := st.RecordWebhookAttempts(ctx, as); err != nil {
		t.Fatal(err)
	}
	count := func(f store.WebhookAttemptFilter) []string {
		list, err := st.WebhookAttempts(ctx, a.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range list {
			out = append(out, x.MessageID+":"+x.Outcome)
		}
		return out
	}
	for _, c := range []struct {
		f    store.WebhookAttemptFilter
		want string
	}{
		{store.WebhookAttemptFilter{}, "m3:ok m2:dropped m1:retry m1:ok"},
		{store.WebhookAttemptFilter{Kind: store.AttemptReport}, "m2:dropped m1:retry m1:ok"},
		{store.WebhookAttemptFilter{MessageID: "m1"}, "m1:retry m1:ok"},
		{store.WebhookAttemptFilter{Outcome: store.AttemptOK}, "m3:ok m1:ok"},
		{store.WebhookAttemptFilter{Failed: true}, "m2:dropped m1:retry"},
		{store.WebhookAttemptFilter{From: base.Add(24 * time.Hour), Until: base.Add(3 * 24 * time.Hour)}, "m2:dropped m1:retry"},
		{store.WebhookAttemptFilter{Limit: 1}, "m3:ok"},
	} {
		if got := strings.Join(count(c.f), " "); got != c.want {
			t.Errorf("%+v: %q, want %q", c.f, got, c.want)
		}
	}
}
