// Package tagfilter parses and evaluates the tag filters that realtime
// subscribers send with pusher:subscribe, so that the server delivers them
// only the events whose tags match. The grammar is Sockudo's JSON filter
// tree, so a client written for Sockudo sends the same filters here:
//
//	{"key":"symbol","cmp":"eq","val":"BTC"}
//	{"key":"symbol","cmp":"in","vals":["BTC","ETH"]}
//	{"op":"and","nodes":[{"key":"kind","cmp":"eq","val":"trade"},{"key":"price","cmp":"gte","val":"100"}]}
//	{"op":"not","nodes":[{"key":"kind","cmp":"eq","val":"heartbeat"}]}
//
// Tags are string keys with string values, set by the publisher. Parse
// checks a filter once, at subscription; Match then allocates nothing.
package tagfilter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits of a filter and of an event's tags.
const (
	MaxFilterBytes = 4096 // the filter's JSON
	MaxNodes       = 64   // nodes in the tree, leaves and branches
	MaxDepth       = 8    // nesting of and/or/not
	MaxVals        = 64   // values of one in/nin
	MaxKeyBytes    = 64   // a tag's key
	MaxValueBytes  = 256  // a tag's value, and a filter's value
	MaxTags        = 16   // tags on one event
)

// Filter is a parsed filter tree.
type Filter struct {
	root node
	key  string // canonical JSON: equal filters have equal keys
}

// Key is the filter's canonical text: two filters that match the same way
// by construction have the same Key.
func (f *Filter) Key() string { return f.key }

type node struct {
	op    byte // 0 (leaf), '&', '|', '!'
	cmp   cmpOp
	key   string
	val   string
	num   float64 // val as a number, for gt/gte/lt/lte
	vals  []string
	nodes []node
}

type cmpOp byte

const (
	cmpEq cmpOp = iota + 1
	cmpNeq
	cmpIn
	cmpNin
	cmpEx
	cmpNex
	cmpSw
	cmpEw
	cmpCt
	cmpGt
	cmpGte
	cmpLt
	cmpLte
)

var cmpNames = map[string]cmpOp{
	"eq": cmpEq, "neq": cmpNeq, "in": cmpIn, "nin": cmpNin, "ex": cmpEx, "nex": cmpNex,
	"sw": cmpSw, "ew": cmpEw, "ct": cmpCt, "gt": cmpGt, "gte": cmpGte, "lt": cmpLt, "lte": cmpLte,
}

// wireNode is a node as JSON has it.
type wireNode struct {
	Op    string      `json:"op,omitempty"`
	Key   string      `json:"key,omitempty"`
	Cmp   string      `json:"cmp,omitempty"`
	Val   *string     `json:"val,omitempty"`
	Vals  []string    `json:"vals,omitempty"`
	Nodes []*wireNode `json:"nodes,omitempty"`
}

// ErrTooLarge is returned for a filter over MaxFilterBytes.
var ErrTooLarge = fmt.Errorf("filter is over %d bytes", MaxFilterBytes)

// Parse checks a filter and returns it parsed. The error says what is
// wrong in words a client developer can act on.
func Parse(b []byte) (*Filter, error) {
	if len(b) > MaxFilterBytes {
		return nil, ErrTooLarge
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w wireNode
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("filter is not a JSON object of op/key/cmp/val/vals/nodes: %v", err)
	}
	if dec.More() {
		return nil, errors.New("filter has data after its object")
	}
	count := 0
	n, err := build(&w, 1, &count)
	if err != nil {
		return nil, err
	}
	canon, _ := json.Marshal(&w) // field order and spacing fixed
	return &Filter{root: n, key: string(canon)}, nil
}

func build(w *wireNode, depth int, count *int) (node, error) {
	if w == nil {
		return node{}, errors.New("filter node is null")
	}
	*count++
	if *count > MaxNodes {
		return node{}, fmt.Errorf("filter has more than %d nodes", MaxNodes)
	}
	if w.Op != "" {
		if w.Key != "" || w.Cmp != "" || w.Val != nil || w.Vals != nil {
			return node{}, fmt.Errorf("filter node with op %q must have only nodes", w.Op)
		}
		if depth > MaxDepth {
			return node{}, fmt.Errorf("filter is nested deeper than %d", MaxDepth)
		}
		var n node
		switch w.Op {
		case "and":
			n.op = '&'
		case "or":
			n.op = '|'
		case "not":
			n.op = '!'
			if len(w.Nodes) != 1 {
				return node{}, errors.New(`filter op "not" takes exactly one node`)
			}
		default:
			return node{}, fmt.Errorf("filter op %q is not and, or or not", w.Op)
		}
		if len(w.Nodes) == 0 {
			return node{}, fmt.Errorf("filter op %q needs nodes", w.Op)
		}
		for _, c := range w.Nodes {
			cn, err := build(c, depth+1, count)
			if err != nil {
				return node{}, err
			}
			n.nodes = append(n.nodes, cn)
		}
		return n, nil
	}
	if w.Nodes != nil {
		return node{}, errors.New("filter node with nodes needs an op")
	}
	if w.Key == "" || len(w.Key) > MaxKeyBytes {
		return node{}, fmt.Errorf("filter leaf needs a key of 1 to %d bytes", MaxKeyBytes)
	}
	op, ok := cmpNames[w.Cmp]
	if !ok {
		return node{}, fmt.Errorf("filter cmp %q is not one of eq, neq, in, nin, ex, nex, sw, ew, ct, gt, gte, lt, lte", w.Cmp)
	}
	n := node{cmp: op, key: w.Key}
	switch op {
	case cmpEx, cmpNex:
		if w.Val != nil || w.Vals != nil {
			return node{}, fmt.Errorf("filter cmp %q takes no val or vals", w.Cmp)
		}
	case cmpIn, cmpNin:
		if w.Val != nil || len(w.Vals) == 0 || len(w.Vals) > MaxVals {
			return node{}, fmt.Errorf("filter cmp %q needs vals (1 to %d values), not val", w.Cmp, MaxVals)
		}
		for _, v := range w.Vals {
			if len(v) > MaxValueBytes {
				return node{}, fmt.Errorf("filter value is over %d bytes", MaxValueBytes)
			}
		}
		n.vals = w.Vals
	default:
		if w.Val == nil || w.Vals != nil {
			return node{}, fmt.Errorf("filter cmp %q needs val, not vals", w.Cmp)
		}
		if len(*w.Val) > MaxValueBytes {
			return node{}, fmt.Errorf("filter value is over %d bytes", MaxValueBytes)
		}
		n.val = *w.Val
		if op >= cmpGt {
			f, err := strconv.ParseFloat(n.val, 64)
			if err != nil {
				return node{}, fmt.Errorf("filter cmp %q needs a numeric val, not %q", w.Cmp, n.val)
			}
			n.num = f
		}
	}
	return n, nil
}

// Match reports whether an event with these tags passes the filter. A
// missing tag fails every comparison except neq, nin and nex.
func (f *Filter) Match(tags map[string]string) bool { return f.root.match(tags) }

func (n *node) match(tags map[string]string) bool {
	switch n.op {
	case '&':
		for i := range n.nodes {
			if !n.nodes[i].match(tags) {
				return false
			}
		}
		return true
	case '|':
		for i := range n.nodes {
			if n.nodes[i].match(tags) {
				return true
			}
		}
		return false
	case '!':
		return !n.nodes[0].match(tags)
	}
	v, ok := tags[n.key]
	switch n.cmp {
	case cmpEx:
		return ok
	case cmpNex:
		return !ok
	case cmpNeq:
		return !ok || v != n.val
	case cmpNin:
		return !ok || !contains(n.vals, v)
	}
	if !ok {
		return false
	}
	switch n.cmp {
	case cmpEq:
		return v == n.val
	case cmpIn:
		return contains(n.vals, v)
	case cmpSw:
		return strings.HasPrefix(v, n.val)
	case cmpEw:
		return strings.HasSuffix(v, n.val)
	case cmpCt:
		return strings.Contains(v, n.val)
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return false
	}
	switch n.cmp {
	case cmpGt:
		return x > n.num
	case cmpGte:
		return x >= n.num
	case cmpLt:
		return x < n.num
	case cmpLte:
		return x <= n.num
	}
	return false
}

func contains(vals []string, v string) bool {
	for _, x := range vals {
		if x == v {
			return true
		}
	}
	return false
}

// ParseTags checks an event's tags (a JSON object of strings) against the
// limits; nil or "null" is no tags.
func ParseTags(b []byte) (map[string]string, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	var tags map[string]string
	if err := json.Unmarshal(b, &tags); err != nil {
		return nil, errors.New("tags must be a JSON object of string values")
	}
	if err := CheckTags(tags); err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, nil
	}
	return tags, nil
}

// CheckTags checks tags against the limits.
func CheckTags(tags map[string]string) error {
	if len(tags) > MaxTags {
		return fmt.Errorf("at most %d tags per event", MaxTags)
	}
	for k, v := range tags {
		if k == "" || len(k) > MaxKeyBytes {
			return fmt.Errorf("tag keys must be 1 to %d bytes", MaxKeyBytes)
		}
		if len(v) > MaxValueBytes {
			return fmt.Errorf("tag %q: values must be at most %d bytes", k, MaxValueBytes)
		}
	}
	return nil
}
