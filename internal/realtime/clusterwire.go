package realtime

import "encoding/json"

// Kinds of state messages between nodes (stateMsg.T).
const (
	msgDelta     = "d" // changes of the sender's subscriptions and members, numbered by Q
	msgSnapshot  = "s" // the sender's whole state as of Q
	msgHeartbeat = "h" // alive; last delta Q; connections per app
	msgSync      = "y" // asks node To ("*": everyone) for a snapshot
	msgBye       = "b" // the sender is stopping: forget its state now
	msgTerminate = "x" // close user U's connections of app A everywhere
	msgCache     = "k" // frame F (tags Tg) is the last event of cache channel Ch of app A, published at At
)

// stateMsg is a message on the cluster's state subject. Field names are
// short: heartbeats and deltas are frequent.
type stateMsg struct {
	T  string            `json:"t"`
	N  string            `json:"n"`
	Q  uint64            `json:"q,omitempty"`
	To string            `json:"to,omitempty"`
	C  map[string]int    `json:"c,omitempty"`
	O  []stateOp         `json:"o,omitempty"`
	A  string            `json:"a,omitempty"`
	U  string            `json:"u,omitempty"`
	Ch string            `json:"ch,omitempty"`
	F  json.RawMessage   `json:"f,omitempty"`
	At int64             `json:"at,omitempty"` // Unix nanoseconds
	Tg map[string]string `json:"tg,omitempty"` // msgCache: the event's tags
}

// Kinds of state operations (stateOp.T). Operations carry absolute values,
// so applying one twice changes nothing.
const (
	opSubs   = "s" // the sender has N subscriptions to channel C of app A
	opMember = "m" // the sender has (P) or no longer has user U in presence channel C
)

type stateOp struct {
	T string          `json:"t"`
	A string          `json:"a"`
	C string          `json:"c"`
	N int             `json:"n,omitempty"`
	U string          `json:"u,omitempty"`
	I json.RawMessage `json:"i,omitempty"`
	P bool            `json:"p,omitempty"`
}
