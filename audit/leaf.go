package audit

import (
	"fmt"
	"github.com/shcrkit/shcrkit/audit/internal/logstore"
	"strconv"
	"time"
)

// AppendRecord appends to dst the record of event e as a log stores it:
// the leaf data of the log's Merkle tree, whose leaf hash is
// tlog.RecordHash of these bytes. It is the event's JSON with "seq" and
// "recorded" (UTC) first, the form VerifyInclusion reads. e must be as
// Normalize returns it; AppendRecord does not check it.
//
// It is exported so that other stores (audit/postgres) write records that
// the same proofs and tools check.
func AppendRecord(dst []byte, seq uint64, recorded time.Time, e *Event) []byte {
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, `,"recorded":"`...)
	dst = append(dst, logstore.RecordedString(recorded)...)
	dst = append(dst, '"')
	body := len(dst)
	dst = appendEventBody(dst, e)
	dst[body] = ',' // the body's opening brace joins the fields above
	return dst
}

// DecodeRecord decodes a record written by AppendRecord (or by a Log),
// checking that it is the record of event seq. An error matches
// ErrTampered.
func DecodeRecord(seq uint64, rec []byte) (Event, error) {
	if got, ok := logstore.RecordSeq(rec); !ok || got != seq {
		return Event{}, tampered(fmt.Sprintf("the record of event %d is not that event", seq))
	}
	e, err := decodeRecord(rec)
	if err != nil {
		return Event{}, tampered(fmt.Sprintf("event %d: %v", seq, err))
	}
	return e, nil
}
