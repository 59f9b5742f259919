package audit

import (
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/audit/internal/logstore"
	"golang.org/x/mod/sumdb/tlog"
)

// BenchmarkPrepareEvent measures the work Write does for an event on the
// caller's goroutine before it queues it: normalising and validating,
// encoding, the index keys and table entry, framing and the leaf hash
// (allocs/op is what the write path allocates for them).
func BenchmarkPrepareEvent(b *testing.B) {
	e := benchEvent(1)
	now := time.Now()
	var body, frame []byte
	b.ReportAllocs()
	for b.Loop() {
		n, err := e.normalize(now)
		if err != nil {
			b.Fatal(err)
		}
		body = appendEventBody(body[:0], &n)
		var kb [4]string
		keys := appendEventKeys(kb[:0], &n)
		entry := entryFor(&n)
		var rec int
		frame, rec = logstore.AppendEventFrame(frame[:0], 1, logstore.RecordedString(now), body)
		_ = tlog.RecordHash(frame[rec:])
		_, _ = keys, entry
	}
}
