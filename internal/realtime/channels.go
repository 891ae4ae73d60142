package realtime

import "strings"

// channelKind is what a channel's name makes it.
type channelKind int

const (
	publicChannel    channelKind = iota
	privateChannel               // private-: signed subscription
	presenceChannel              // presence-: signed, with members
	encryptedChannel             // private-encrypted-: signed, data opaque, no client events
	userChannel                  // #server-to-user-<id>: the signed-in user's own
)

// Channel name prefixes.
const (
	prefixPrivate   = "private-"
	prefixEncrypted = "private-encrypted-"
	prefixPresence  = "presence-"
	prefixUser      = "#server-to-user-"
)

// maxChannelName is the longest channel name accepted (the server SDKs
// check 200).
const maxChannelName = 200

func kindOf(name string) channelKind {
	switch {
	case strings.HasPrefix(name, prefixEncrypted):
		return encryptedChannel
	case strings.HasPrefix(name, prefixPrivate):
		return privateChannel
	case strings.HasPrefix(name, prefixPresence):
		return presenceChannel
	case strings.HasPrefix(name, prefixUser):
		return userChannel
	}
	return publicChannel
}

// signed reports whether subscribing needs an auth signature.
func (k channelKind) signed() bool {
	return k == privateChannel || k == presenceChannel || k == encryptedChannel
}

// validChannel checks a channel name: 1–200 characters of
// [A-Za-z0-9_\-=@,.;], or #server-to-user- followed by such characters.
func validChannel(name string) bool {
	if len(name) == 0 || len(name) > maxChannelName {
		return false
	}
	rest := name
	if strings.HasPrefix(name, prefixUser) {
		rest = name[len(prefixUser):]
		if rest == "" {
			return false
		}
	}
	for i := 0; i < len(rest); i++ {
		if !nameChar(rest[i]) {
			return false
		}
	}
	return true
}

func nameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_-=@,.;", c) >= 0
}

// validEventName checks an event name: 1–200 bytes.
func validEventName(name string) bool { return len(name) > 0 && len(name) <= 200 }
