package audit

import (
	"context"
	"iter"

	"github.com/shcrkit/shcrkit"
)

// Reader is an audit trail that can be searched: the embedded Log, and
// the PostgreSQL store in audit/postgres. Query yields the events that
// match f in sequence order; reading is itself audited, as an event
// recorded for reader before anything is yielded (see (*Log).Query).
//
// The reports, review flags and casebook of audit/investigation take any
// Reader, so an investigation works the same over every store.
type Reader interface {
	Query(ctx context.Context, reader shcrkit.Requester, f Filter) iter.Seq2[Event, error]
}

var _ Reader = (*Log)(nil)
