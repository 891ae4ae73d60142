//go:build !unix

package connlimit

// RaiseFileLimit reports no limit where the platform has none to raise.
func RaiseFileLimit() (FileLimit, error) { return FileLimit{}, nil }
