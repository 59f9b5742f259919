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
//	frame offset u32 | record length u32 |
//	event time unix ns i64 | action u8 | service u8 | outcome u8 | purpose u8 |
//	CRC-32C of the 20 bytes before, u32
//
// The segment is not stored: it is the one whose first seq is the
// greatest not above the event's, as the segments' names say.
const tableEntrySize = 24

// Entry is one event's entry in the table: where its record is, and the
// parts of the event that a query filters on without decoding it. A
// Codec fills the event's part (Time to Purpose); the store fills the
// rest.
type Entry struct {
	Seg     uint64 // the first seq of the event's segment (not stored)
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
	dst = binary.BigEndian.AppendUint32(dst, e.Off)
	dst = binary.BigEndian.AppendUint32(dst, e.N)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.Time))
	dst = append(dst, e.Action, e.Service, e.Outcome, e.Purpose)
	return binary.BigEndian.AppendUint32(dst, crc(dst[start:]))
}

func parseTableEntry(b []byte) (Entry, bool) {
	if len(b) < tableEntrySize || binary.BigEndian.Uint32(b[20:]) != crc(b[:20]) {
		return Entry{}, false
	}
	return Entry{
		Off:     binary.BigEndian.Uint32(b),
		N:       binary.BigEndian.Uint32(b[4:]),
		Time:    int64(binary.BigEndian.Uint64(b[8:])),
		Action:  b[16],
		Service: b[17],
		Outcome: b[18],
		Purpose: b[19],
	}, true
}

type table struct {
	f       *os.File
	count   atomic.Int64 // entries written to the file
	pending []byte
	// segOf returns the first seq of the segment that holds seq and of
	// the segment after it (math.MaxUint64 when there is none).
	segOf func(seq uint64) (first, next uint64)
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

// take hands over the queued entries, to be written by writeTaken, and
// continues in buf (empty) for the next.
func (t *table) take(buf []byte) []byte {
	b := t.pending
	t.pending = buf
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
	e.Seg, _ = t.segOf(seq)
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
	var seg, next uint64
	for i := range dst {
		seq := from + uint64(i)
		e, ok := parseTableEntry(buf[i*tableEntrySize:])
		if !ok {
			return tampered(fmt.Sprintf("index/table: entry %d fails its checksum", seq))
		}
		if i == 0 || seq >= next {
			seg, next = t.segOf(seq)
		}
		e.Seg = seg
		dst[i] = e
	}
	return nil
}
