package logstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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

// Entry is one event's entry in the table: where its record is, and the
// parts of the event that a query filters on without decoding it. A
// Codec fills the event's part (Time to Purpose); the store fills the
// rest.
type Entry struct {
	Seg     uint64 // the first seq of the event's segment
	Off     uint32 // the offset of the event's frame in it
	N       uint32 // the record's length
	Time    int64  // the event's time, Unix nanoseconds
	Action  uint8
	Service uint8
	Outcome uint8
	Purpose uint8
}

// tableEntry is the name the store's own code uses.
type tableEntry = Entry

func (e Entry) append(dst []byte) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, e.Seg)
	dst = binary.BigEndian.AppendUint32(dst, e.Off)
	dst = binary.BigEndian.AppendUint32(dst, e.N)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.Time))
	dst = append(dst, e.Action, e.Service, e.Outcome, e.Purpose)
	return binary.BigEndian.AppendUint32(dst, crc(dst[start:]))
}

func parseTableEntry(b []byte) (Entry, bool) {
	if len(b) < tableEntrySize || binary.BigEndian.Uint32(b[28:]) != crc(b[:28]) {
		return Entry{}, false
	}
	return Entry{
		Seg:     binary.BigEndian.Uint64(b),
		Off:     binary.BigEndian.Uint32(b[8:]),
		N:       binary.BigEndian.Uint32(b[12:]),
		Time:    int64(binary.BigEndian.Uint64(b[16:])),
		Action:  b[24],
		Service: b[25],
		Outcome: b[26],
		Purpose: b[27],
	}, true
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

// take hands over the queued entries, to be written by writeTaken.
func (t *table) take() []byte {
	b := t.pending
	t.pending = nil
	return b
}

// writeTaken appends entries taken from the queue to the file.
func (t *table) writeTaken(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := t.f.WriteAt(b, t.count.Load()*tableEntrySize); err != nil {
		return err
	}
	t.count.Add(int64(len(b) / tableEntrySize))
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
		if errors.Is(err, io.EOF) {
			return tampered(fmt.Sprintf("index/%s: ends before event %d", tableFile, from+uint64(len(dst))-1))
		}
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
