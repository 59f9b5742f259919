package audit

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/shcrkit/shcrkit"
)

// Reader is an audit trail that can be searched: the embedded Log, and
// the PostgreSQL store in audit/postgres. Query yields the events that
// match f in sequence order; reading is itself audited, as an event
// recorded for reader before anything is yielded (see (*Log).Query).
//
// Reports and review flags take any Reader (QueryAccessReport,
// QueryReview), so an investigation works the same over every store.
type Reader interface {
	Query(ctx context.Context, reader shcrkit.Requester, f Filter) iter.Seq2[Event, error]
}

var _ Reader = (*Log)(nil)

// QueryAccessReport queries src for every access to patient's record in
// [from, to) (zero times leave that end open), on behalf of reader (an
// audited read), and builds the report.
func QueryAccessReport(ctx context.Context, src Reader, reader shcrkit.Requester, patient shcrkit.NHSNumber, from, to time.Time) (*AccessReport, error) {
	if patient == "" || !patient.Valid() {
		return nil, fmt.Errorf("%w: the report needs a valid NHS number", ErrInvalidFilter)
	}
	var events []Event
	for e, err := range src.Query(ctx, reader, Filter{Patient: patient, From: from, To: to}) {
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return NewAccessReport(patient, from, to, events), nil
}

// QueryReview queries src with f on behalf of reader (an audited read)
// and flags what it finds with the rules of cfg (see Review).
func QueryReview(ctx context.Context, src Reader, reader shcrkit.Requester, f Filter, cfg ReviewConfig) ([]Flag, error) {
	return Review(ctx, src.Query(ctx, reader, f), cfg)
}
