package logstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// stateFile records what no other file can vouch for once the file that
// shows it is gone: the size of the latest checkpoint stored in the
// checkpoint file, and the last event the index runs cover. OpenLog
// refuses a log whose checkpoint is missing or older, or whose runs reach
// less far, than the state says. It is replaced atomically after the
// checkpoint or run it describes is durable, so it never claims more than
// exists.
//
// It is written when the log is created, before any event, and signed
// with the log's key, as a checkpoint is: a log that holds events but no
// state file, or one not signed by its key, has been tampered with. So
// deleting the checkpoint and the state, or writing a state of no
// checkpoint, cannot pass a log that was cut short off as one that
// crashed before its first checkpoint (only a copy of an older state, or
// of the whole directory, can roll a log back, which a checkpoint held
// elsewhere reveals). Its text, the body of a signed note:
//
//	shcrkit-audit-state 2
//	checkpoint <size>
//	indexed <seq>
const stateFile = "state"

const stateHeader = "shcrkit-audit-state 2"

type logState struct {
	checkpoint uint64
	indexed    uint64
}

func (s logState) text() string {
	return fmt.Sprintf("%s\ncheckpoint %d\nindexed %d\n", stateHeader, s.checkpoint, s.indexed)
}

// encode signs s with the log's key.
func (s logState) encode(signer note.Signer) ([]byte, error) {
	return note.Sign(&note.Note{Text: s.text()}, signer)
}

// parseState checks the state's signature with the log's key and reads
// it; only the exact form encode writes is accepted.
func parseState(v note.Verifier, data []byte) (logState, bool) {
	n, err := openCanonical(v, data, stateFile)
	if err != nil {
		return logState{}, false
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[0] != stateHeader || lines[3] != "" {
		return logState{}, false
	}
	var s logState
	for i, p := range []*uint64{&s.checkpoint, &s.indexed} {
		name, v, ok := strings.Cut(lines[i+1], " ")
		n, err := strconv.ParseUint(v, 10, 64)
		if !ok || err != nil || name != [...]string{"checkpoint", "indexed"}[i] || strconv.FormatUint(n, 10) != v {
			return logState{}, false
		}
		*p = n
	}
	return s, true
}

// readState reads the state file; present is false when there is none,
// which only a log that holds no event yet may lack.
func (l *Store) readState() (s logState, present bool, err error) {
	data, err := os.ReadFile(filepath.Join(l.dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return logState{}, false, nil
	}
	if err != nil {
		return logState{}, false, fmt.Errorf("audit: reading state: %w", err)
	}
	s, ok := parseState(l.verifier, data)
	if !ok {
		return logState{}, true, tampered(stateFile + ": malformed, or not signed by the log's key")
	}
	return s, true, nil
}

// saveState writes the state file if what it records has changed, or if
// there is none yet (a new log).
func (l *Store) saveState() error {
	s := logState{indexed: l.idx.indexed()}
	if c, ok := l.Checkpoint(); ok {
		s.checkpoint = c.Size
	}
	if s == l.saved && l.statePresent {
		return nil
	}
	data, err := s.encode(l.signer)
	if err != nil {
		return fmt.Errorf("audit: signing state: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(l.dir, stateFile), data, 0o644); err != nil {
		return fmt.Errorf("audit: writing state: %w", err)
	}
	l.saved, l.statePresent = s, true
	return nil
}
