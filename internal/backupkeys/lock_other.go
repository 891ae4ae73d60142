//go:build !unix

package backupkeys

// lockDir is the in-process lock alone where there is no flock: run one
// omnigate process per backup directory there.
func lockDir(dir string) (func(), error) { return func() {}, nil }
