package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/internal/logstore"
)

// describeRecord reads from a record only what the storage engine keeps
// of an event (its table entry's fields and its index keys), without
// decoding the rest: recovery and Verify read every record after a
// checkpoint or in the log, and decoding whole events would cost them
// most of their time. It reads the fields exactly as encoding/json would
// (the last of repeated keys wins, escapes decoded); a record it cannot
// read that way is decoded in full, whose error is returned.
func describeRecord(rec []byte) (logstore.Entry, []string, error) {
	var d recordFields
	if d.scan(rec) {
		if e, keys, ok := d.describe(rec); ok {
			return e, keys, nil
		}
	}
	ev, err := decodeRecord(rec)
	if err != nil {
		return logstore.Entry{}, nil, err
	}
	if seq, ok := logstore.RecordSeq(rec); !ok || ev.Seq != seq {
		return logstore.Entry{}, nil, errors.New("the record's seq field does not match its position")
	}
	return entryFor(&ev), eventKeys(&ev), nil
}

// recordFields are the raw JSON values of the fields describeRecord
// needs.
type recordFields struct {
	seq, time, action, service, outcome, purpose, patient, custodian []byte
	user, org                                                        []byte
}

// The fields scan keeps, in the order of recordFields' slots.
var (
	topFields       = [...]string{"seq", "time", "action", "service", "outcome", "purpose", "patient", "custodian"}
	requesterFields = [...]string{"userId", "organisation"}
)

// scan walks the record's top-level object (and the requester object in
// it), keeping the raw values of the fields it needs.
func (d *recordFields) scan(b []byte) bool {
	s := jsonScanner{b: b}
	top := [...]*[]byte{&d.seq, &d.time, &d.action, &d.service, &d.outcome, &d.purpose, &d.patient, &d.custodian}
	req := [...]*[]byte{&d.user, &d.org}
	return s.object(func(key []byte, s *jsonScanner) bool {
		if string(key) == "requester" {
			return s.object(func(k []byte, s *jsonScanner) bool {
				return keepField(k, s, requesterFields[:], req[:])
			})
		}
		if bytes.EqualFold(key, []byte("requester")) {
			return false
		}
		return keepField(key, s, topFields[:], top[:])
	}) && s.end()
}

// keepField consumes key's value, keeping it in the slot of the field
// that key names. A key that names one of the fields only without regard
// to case, as encoding/json matches keys, makes it give up (false), so
// that the record is decoded in full.
func keepField(key []byte, s *jsonScanner, names []string, slots []*[]byte) bool {
	v := s.value()
	for i, n := range names {
		if string(key) == n {
			*slots[i] = v
			return s.ok
		}
	}
	for _, n := range names {
		if len(n) == len(key) && bytes.EqualFold(key, []byte(n)) {
			return false
		}
	}
	return s.ok
}

// describe turns the raw values into the table entry and index keys.
func (d *recordFields) describe(rec []byte) (logstore.Entry, []string, bool) {
	seq, ok := logstore.RecordSeq(rec)
	got, err := strconv.ParseUint(string(d.seq), 10, 64)
	if !ok || err != nil || got != seq || d.seq[0] == '0' {
		return logstore.Entry{}, nil, false
	}
	var e Event
	var ts string
	if !jsonString(d.time, &ts) || !jsonString(d.action, (*string)(&e.Action)) ||
		!jsonString(d.service, (*string)(&e.Service)) || !jsonString(d.outcome, (*string)(&e.Outcome)) ||
		!jsonString(d.patient, (*string)(&e.Patient)) || !jsonString(d.custodian, (*string)(&e.Custodian)) ||
		!jsonString(d.user, &e.Requester.UserID) || !jsonString(d.org, (*string)(&e.Requester.Organisation)) {
		return logstore.Entry{}, nil, false
	}
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return logstore.Entry{}, nil, false
	}
	e.Time = t
	if d.purpose != nil {
		var p string
		if !jsonString(d.purpose, &p) {
			return logstore.Entry{}, nil, false
		}
		if p != "" {
			if e.Purpose, err = shcrkit.ParsePurpose(p); err != nil {
				return logstore.Entry{}, nil, false
			}
		}
	}
	return entryFor(&e), eventKeys(&e), true
}

// jsonString decodes a raw JSON string into dst; a missing value (nil)
// leaves dst empty.
func jsonString(raw []byte, dst *string) bool {
	if raw == nil {
		return true
	}
	if len(raw) < 2 || raw[0] != '"' {
		return false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return json.Unmarshal(raw, dst) == nil
		}
	}
	*dst = string(inner)
	return true
}

// jsonScanner walks JSON without decoding it. ok turns false at the
// first thing it does not expect.
type jsonScanner struct {
	b  []byte
	i  int
	ok bool
}

func (s *jsonScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *jsonScanner) end() bool {
	s.space()
	return s.ok && s.i == len(s.b)
}

// object walks an object, calling member for each key with the scanner
// at its value; member must consume the value.
func (s *jsonScanner) object(member func(key []byte, s *jsonScanner) bool) bool {
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	s.i++
	s.ok = true
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return true
	}
	for {
		s.space()
		key := s.str()
		s.space()
		if !s.ok || len(key) < 2 || s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.space()
		if !member(key[1:len(key)-1], s) {
			return false
		}
		s.space()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// str consumes a string and returns it with its quotes.
func (s *jsonScanner) str() []byte {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		s.ok = false
		return nil
	}
	start := s.i
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return s.b[start:s.i]
		}
	}
	s.ok = false
	return nil
}

// value consumes any value and returns its raw bytes.
func (s *jsonScanner) value() []byte {
	s.space()
	if s.i >= len(s.b) {
		s.ok = false
		return nil
	}
	start := s.i
	switch s.b[s.i] {
	case '"':
		return s.str()
	case '{', '[':
		depth := 0
		for ; s.i < len(s.b); s.i++ {
			switch s.b[s.i] {
			case '"':
				if s.str(); !s.ok {
					return nil
				}
				s.i--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					s.i++
					return s.b[start:s.i]
				}
			}
		}
		s.ok = false
		return nil
	}
	for s.i < len(s.b) && s.b[s.i] != ',' && s.b[s.i] != '}' && s.b[s.i] != ']' &&
		s.b[s.i] != ' ' && s.b[s.i] != '\n' && s.b[s.i] != '\t' && s.b[s.i] != '\r' {
		s.i++
	}
	if s.i == start {
		s.ok = false
		return nil
	}
	return s.b[start:s.i]
}
