package logstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// stateFile records what no other file can vouch for once the file that
// shows it is gone: the size of the latest checkpoint stored in the
// checkpoint file, and the last event the index runs cover. OpenLog
// refuses a log whose checkpoint is missing or older, or whose runs reach
// less far, than the state says. It is replaced atomically after the
// checkpoint or run it describes is durable, so it never claims more than
// exists. Its text:
//
//	shcrkit-audit-state 1
//	checkpoint <size>
//	indexed <seq>
//	crc32c <CRC-32C of the lines above, 8 hex digits>
const stateFile = "state"

const stateHeader = "shcrkit-audit-state 1"

type logState struct {
	checkpoint uint64
	indexed    uint64
}

func (s logState) encode() []byte {
	b := fmt.Appendf(nil, "%s\ncheckpoint %d\nindexed %d\n", stateHeader, s.checkpoint, s.indexed)
	return fmt.Appendf(b, "crc32c %08x\n", crc(b))
}

func parseState(data []byte) (logState, bool) {
	lines := strings.Split(string(data), "\n")
	if len(lines) != 5 || lines[0] != stateHeader || lines[4] != "" {
		return logState{}, false
	}
	body := len(data) - len(lines[3]) - 1
	if lines[3] != fmt.Sprintf("crc32c %08x", crc(data[:body])) {
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

// readState reads the state file; a log written before it existed has
// none, which reads as the zero state.
func readState(dir string) (logState, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return logState{}, nil
	}
	if err != nil {
		return logState{}, fmt.Errorf("audit: reading state: %w", err)
	}
	s, ok := parseState(data)
	if !ok {
		return logState{}, tampered(stateFile + ": malformed")
	}
	return s, nil
}

// saveState writes the state file if what it records has changed.
func (l *Store) saveState() error {
	s := logState{indexed: l.idx.indexed()}
	if c, ok := l.Checkpoint(); ok {
		s.checkpoint = c.Size
	}
	if s == l.saved {
		return nil
	}
	if err := writeFileAtomic(filepath.Join(l.dir, stateFile), s.encode(), 0o644); err != nil {
		return fmt.Errorf("audit: writing state: %w", err)
	}
	l.saved = s
	return nil
}
