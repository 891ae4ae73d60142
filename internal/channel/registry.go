package channel

import (
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/omnigate/omnigate/internal/message"
)

// AddressKind is the kind of address a channel's senders and recipients
// have.
type AddressKind string

// Address kinds.
const (
	Phone  AddressKind = "phone"  // international digits (MSISDN), or an alphanumeric sender
	Email  AddressKind = "email"  // an email address
	ChatID AddressKind = "chatid" // a chat app's user, page or channel id
)

// Spec describes a channel.
type Spec struct {
	// Name is the channel's name in messages, routes, prices and limits.
	Name string
	// Address is the kind of address its recipients have.
	Address AddressKind
	// Unit is what one price of the channel is for ("segment" for SMS,
	// "email", "message", "conversation"): Prepare sets each recipient's
	// PartCount to the units it is charged.
	Unit string
	// Prepare checks that a message of the channel can be sent as it is and
	// fills in what follows from its content: its encoding and, for each
	// recipient, PartCount and Length. It returns a *message.Invalid for
	// content the channel cannot carry. It runs again when compliance
	// changes the text (an appended opt-out instruction), and on inbound
	// messages (direction mo), where it must not refuse what a provider
	// already delivered.
	Prepare func(m *message.Message) error
	// Silence is what a recipient the provider took becomes when nothing
	// more is heard of it. nil is the receipt channels' rule (SMS): it
	// expires, "DLR not received", once its deadline and the receipt grace
	// have passed. Email says delivered once no bounce came for a while.
	Silence *Silence
}

// Silence turns a sent recipient that heard nothing for After (counted
// from its sent time) into Status with Reason.
type Silence struct {
	After  time.Duration
	Status message.Status
	Reason string
}

// Kind is a kind of connector: the protocol of a provider, carrying one
// channel.
type Kind struct {
	// Name is the kind's name in `omnigate connector add --kind`.
	Name string
	// Channel is the channel its connectors carry.
	Channel string
	// Check validates settings (the kind's JSON) without connecting.
	Check func(settings []byte) error
	// New builds a connector from its stored settings; rx takes what the
	// provider sends on its own (receipts, inbound messages). Start
	// connects it.
	New func(name string, settings []byte, rx Receiver, log *slog.Logger) (Connector, error)
}

// Registry holds the channels and connector kinds a node runs. The app
// fills it at start, before anything reads it.
type Registry struct {
	mu       sync.RWMutex
	channels map[string]Spec
	kinds    map[string]Kind
}

// NewRegistry makes an empty registry.
func NewRegistry() *Registry {
	return &Registry{channels: map[string]Spec{}, kinds: map[string]Kind{}}
}

// AddChannel registers a channel; registering a name twice is a
// programming error.
func (r *Registry) AddChannel(s Spec) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s.Name == "" || s.Prepare == nil {
		panic("channel: a channel needs a name and a Prepare")
	}
	if _, dup := r.channels[s.Name]; dup {
		panic("channel: channel " + s.Name + " registered twice")
	}
	r.channels[s.Name] = s
}

// AddKind registers a connector kind of a registered channel.
func (r *Registry) AddKind(k Kind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.channels[k.Channel]; !ok {
		panic(fmt.Sprintf("channel: kind %s carries channel %q, which is not registered", k.Name, k.Channel))
	}
	if k.Name == "" || k.New == nil || k.Check == nil {
		panic("channel: a connector kind needs a name, Check and New")
	}
	if _, dup := r.kinds[k.Name]; dup {
		panic("channel: connector kind " + k.Name + " registered twice")
	}
	r.kinds[k.Name] = k
}

// Channel returns a registered channel.
func (r *Registry) Channel(name string) (Spec, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.channels[name]
	return s, ok
}

// Kind returns a registered connector kind.
func (r *Registry) Kind(name string) (Kind, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.kinds[name]
	return k, ok
}

// Channels lists the registered channels' names, sorted.
func (r *Registry) Channels() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return sortedKeys(r.channels)
}

// Kinds lists the registered connector kinds' names, sorted.
func (r *Registry) Kinds() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return sortedKeys(r.kinds)
}

// Units maps each channel to the unit it is priced in.
func (r *Registry) Units() map[string]string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]string, len(r.channels))
	for name, s := range r.channels {
		out[name] = s.Unit
	}
	return out
}

// Prepare prepares a message by its channel's Spec (see Spec.Prepare). A
// message of a channel this node does not run is refused, naming the
// channel.
func (r *Registry) Prepare(m *message.Message) error {
	s, ok := r.Channel(m.Channel)
	if !ok {
		return &message.Invalid{Field: "channel", Reason: fmt.Sprintf("channel %q is not available; this node runs %v", m.Channel, r.Channels())}
	}
	return s.Prepare(m)
}

// Build makes a connector of a registered kind from its stored settings.
func (r *Registry) Build(name, kind string, settings []byte, rx Receiver, log *slog.Logger) (Connector, error) {
	k, ok := r.Kind(kind)
	if !ok {
		return nil, fmt.Errorf("unknown connector kind %q; known kinds: %v", kind, r.Kinds())
	}
	return k.New(name, settings, rx, log)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return slices.Clip(out)
}
