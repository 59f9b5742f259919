//go:build !unix

package logstore

import (
	"errors"
	"os"
)

// lockDir creates dir/LOCK exclusively where advisory locks are not
// available; a crash leaves it behind, and it must then be removed by
// hand.
func lockDir(path string) (unlock func() error, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, err
	}
	return func() error {
		f.Close()
		return os.Remove(path)
	}, nil
}
