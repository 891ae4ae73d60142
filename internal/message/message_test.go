package message

import "testing"

func TestMicros(t *testing.T) {
	for _, tc := range []struct {
		in   string
		v    int64
		text string
	}{
		{"12", 12_000_000, "12"},
		{"0.075", 75_000, "0.075"},
		{"-1.5", -1_500_000, "-1.5"},
		{".5", 500_000, "0.5"},
		{"100.000001", 100_000_001, "100.000001"},
		{"0", 0, "0"},
		{"999999999.999999", 999_999_999_999_999, "999999999.999999"},
		{"-999999999.999999", -999_999_999_999_999, "-999999999.999999"},
		{"000000000012", 12_000_000, "12"},
	} {
		v, err := ParseMicros(tc.in)
		if err != nil || v != tc.v {
			t.Errorf("ParseMicros(%q) = %d, %v; want %d", tc.in, v, err, tc.v)
		}
		if got := FormatMicros(tc.v); got != tc.text {
			t.Errorf("FormatMicros(%d) = %q, want %q", tc.v, got, tc.text)
		}
	}
	for _, bad := range []string{"", "-", "1.2345678", "1e3", "abc", "1,5", "1.2.3", "9999999999999", "1000000000", "-1000000000", "999999999999.999999"} {
		if v, err := ParseMicros(bad); err == nil {
			t.Errorf("ParseMicros(%q) = %d, want an error", bad, v)
		}
	}
}

func TestTransitions(t *testing.T) {
	for _, tc := range []struct {
		from, to Status
		ok       bool
	}{
		{Scheduled, Sent, true},
		{Sent, Sent, true},
		{Sent, Buffered, true},
		{Buffered, Delivered, true},
		{Sent, DeliveryFailed, true},
		{Buffered, Sent, false},
		{Delivered, DeliveryFailed, false},
		{Expired, Delivered, false},
		{Sent, Scheduled, false},
		{"bogus", Sent, false},
	} {
		if got := CanTransition(tc.from, tc.to); got != tc.ok {
			t.Errorf("CanTransition(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.ok)
		}
	}
	for _, to := range []Status{Sent, Buffered, Delivered, Expired, DeliveryFailed} {
		for _, from := range Predecessors(to) {
			if !CanTransition(from, to) || from == to {
				t.Errorf("Predecessors(%s) holds %s, which cannot move to it", to, from)
			}
		}
	}
}

func TestCountRecipients(t *testing.T) {
	m := &Message{Recipients: []Recipient{{Status: Sent}, {Status: Delivered}, {Status: DeliveryFailed}, {Status: Scheduled}, {Status: Buffered}}}
	c := m.CountRecipients()
	if c != (Counts{Total: 5, Sent: 4, Delivered: 1, DeliveryFailed: 1}) {
		t.Fatalf("counts %+v", c)
	}
}

func TestRollUp(t *testing.T) {
	for _, tc := range []struct {
		parts []Status
		want  Status
	}{
		{nil, Sent},
		{[]Status{Sent, Sent}, Sent},
		{[]Status{Delivered, Sent}, Buffered},
		{[]Status{Delivered, Buffered}, Buffered},
		{[]Status{Delivered, Delivered}, Delivered},
		{[]Status{Delivered, DeliveryFailed}, DeliveryFailed},
		{[]Status{Expired, Delivered}, Expired},
		{[]Status{Expired, DeliveryFailed}, DeliveryFailed},
	} {
		if got := RollUp(tc.parts); got != tc.want {
			t.Errorf("RollUp(%v) = %s, want %s", tc.parts, got, tc.want)
		}
	}
}

func TestRecipientBySeq(t *testing.T) {
	whole := &Message{Recipients: []Recipient{{Seq: 0, Address: "a"}, {Seq: 1, Address: "b"}, {Seq: 2, Address: "c"}}}
	some := &Message{Recipients: []Recipient{{Seq: 1, Address: "b"}, {Seq: 4, Address: "e"}, {Seq: 9, Address: "j"}}}
	for _, c := range []struct {
		m    *Message
		seq  int
		want string // "" for none
	}{
		{whole, 0, "a"}, {whole, 2, "c"}, {whole, 3, ""}, {whole, -1, ""},
		{some, 1, "b"}, {some, 4, "e"}, {some, 9, "j"}, {some, 0, ""}, {some, 2, ""}, {some, 5, ""}, {some, 10, ""},
		{&Message{}, 0, ""},
	} {
		got := ""
		if r := c.m.Recipient(c.seq); r != nil {
			if r.Seq != c.seq {
				t.Fatalf("Recipient(%d) has seq %d", c.seq, r.Seq)
			}
			got = r.Address
		}
		if got != c.want {
			t.Fatalf("Recipient(%d) = %q, want %q", c.seq, got, c.want)
		}
	}
	// It points into the message: a change through it is the message's.
	some.Recipient(4).Status = Delivered
	if some.Recipients[1].Status != Delivered {
		t.Fatal("Recipient returned a copy")
	}
}
