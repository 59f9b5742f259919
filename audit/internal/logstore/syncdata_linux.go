package logstore

import (
	"errors"
	"os"
	"syscall"
)

// syncData makes the file's data durable, and with it the metadata
// needed to read it back (the new size), but not the rest (timestamps):
// fdatasync, which spares a journal commit when only timestamps changed.
func syncData(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if !errors.Is(serr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	return serr
}
