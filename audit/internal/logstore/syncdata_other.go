//go:build !linux

package logstore

import "os"

// syncData makes the file's data durable; without fdatasync it is a full
// fsync.
func syncData(f *os.File) error { return f.Sync() }
