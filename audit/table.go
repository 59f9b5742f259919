package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// The table (index/table) has one fixed-size entry per event, entry i
// for seq i+1, so that an event can be found without scanning the log,
// and filters on time, action, service, outcome and purpose can be applied
// without decoding it:
//
//	segment first seq u64 | frame offset u32 | record length u32 |
//	event time unix ns i64 | action u8 | service u8 | outcome u8 | purpose u8 |
//	CRC-32C of the 28 bytes before, u32
const tableEntrySize = 32

type tableEntry struct {
	seg     uint64
	off     uint32
	n       uint32
	time    int64
	action  uint8
	service uint8
	outcome uint8
	purpose uint8
}

func (e tableEntry) append(dst []byte) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, e.seg)
	dst = binary.BigEndian.AppendUint32(dst, e.off)
	dst = binary.BigEndian.AppendUint32(dst, e.n)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.time))
	dst = append(dst, e.action, e.service, e.outcome, e.purpose)
	return binary.BigEndian.AppendUint32(dst, crc(dst[start:]))
}

func parseTableEntry(b []byte) (tableEntry, bool) {
	if len(b) < tableEntrySize || binary.BigEndian.Uint32(b[28:]) != crc(b[:28]) {
		return tableEntry{}, false
	}
	return tableEntry{
		seg:     binary.BigEndian.Uint64(b),
		off:     binary.BigEndian.Uint32(b[8:]),
		n:       binary.BigEndian.Uint32(b[12:]),
		time:    int64(binary.BigEndian.Uint64(b[16:])),
		action:  b[24],
		service: b[25],
		outcome: b[26],
		purpose: b[27],
	}, true
}

// entryFor fills the parts of an entry that come from the event.
func entryFor(e *Event) tableEntry {
	return tableEntry{
		time:    e.Time.UnixNano(),
		action:  e.Action.code(),
		service: e.Service.code(),
		outcome: e.Outcome.code(),
		purpose: uint8(e.Purpose),
	}
}

type table struct {
	f       *os.File
	count   atomic.Int64 // entries written to the file
	pending []byte
}

func (t *table) add(e tableEntry) { t.pending = e.append(t.pending) }

func (t *table) flush() error {
	if len(t.pending) == 0 {
		return nil
	}
	if _, err := t.f.WriteAt(t.pending, t.count.Load()*tableEntrySize); err != nil {
		return err
	}
	t.count.Add(int64(len(t.pending) / tableEntrySize))
	t.pending = t.pending[:0]
	return nil
}

// read returns the entry for seq.
func (t *table) read(seq uint64) (tableEntry, error) {
	if seq == 0 || int64(seq) > t.count.Load() {
		return tableEntry{}, ErrNotFound
	}
	var b [tableEntrySize]byte
	if _, err := t.f.ReadAt(b[:], int64(seq-1)*tableEntrySize); err != nil {
		return tableEntry{}, readError(fmt.Sprintf("reading table entry %d", seq), err)
	}
	e, ok := parseTableEntry(b[:])
	if !ok {
		return tableEntry{}, tampered(fmt.Sprintf("index/table: entry %d fails its checksum", seq))
	}
	return e, nil
}

// readRange reads the entries for seqs [from, from+len(dst)).
func (t *table) readRange(from uint64, dst []tableEntry) error {
	buf := make([]byte, len(dst)*tableEntrySize)
	if _, err := t.f.ReadAt(buf, int64(from-1)*tableEntrySize); err != nil {
		return readError("reading table", err)
	}
	for i := range dst {
		e, ok := parseTableEntry(buf[i*tableEntrySize:])
		if !ok {
			return tampered(fmt.Sprintf("index/table: entry %d fails its checksum", from+uint64(i)))
		}
		dst[i] = e
	}
	return nil
}

// readError wraps an error from reading one of the log's files; a file
// closed under the reader by Close gives ErrClosed.
func readError(what string, err error) error {
	if errors.Is(err, os.ErrClosed) {
		return ErrClosed
	}
	return fmt.Errorf("audit: %s: %w", what, err)
}
