package postgres

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
)

// queryPage is how many events one statement of a query fetches: a
// query holds a pooled connection only while it reads a page, never while
// the caller looks at the events.
const queryPage = 1000

// Query returns the events that match f, in sequence order, as they were
// when the query began; it works as (*audit.Log).Query does, over the
// events of every instance.
//
// Reading the audit trail is itself audited: before it yields anything,
// Query writes an event (ServiceAudit, ActionSearch, resource
// "AuditEvent", the filter as the query, the filter's patient as the
// patient) for reader, with the request and correlation IDs from ctx,
// and yields only an error if that write fails. Patient, user,
// organisation, custodian and time are served by indexes. Every row is
// checked against its record: a row whose columns say one thing and
// whose record another yields an error matching audit.ErrTampered.
func (s *Store) Query(ctx context.Context, reader shcrkit.Requester, f audit.Filter) iter.Seq2[audit.Event, error] {
	return func(yield func(audit.Event, error) bool) {
		if err := s.usable(ctx); err != nil {
			yield(audit.Event{}, err)
			return
		}
		if err := f.Validate(); err != nil {
			yield(audit.Event{}, err)
			return
		}
		seq, err := s.Append(ctx, audit.ReadEvent(ctx, reader, f, s.cfg.now()))
		if err != nil {
			yield(audit.Event{}, fmt.Errorf("audit: recording the query of the audit log: %w", err))
			return
		}
		sql, args := s.querySQL(f)
		snapshot := int64(seq) - 1 // everything committed before the query's own event
		after, n := int64(0), 0
		for {
			page := queryPage
			if f.Limit > 0 {
				page = min(page, f.Limit-n)
			}
			conn, err := s.pool.Acquire(ctx)
			if err != nil {
				yield(audit.Event{}, fmt.Errorf("%w: no connection free in the pool: %w", ErrUnavailable, err))
				return
			}
			rows, err := conn.Query(ctx, sql, append([]any{after, snapshot, page}, args...)...)
			if err != nil {
				conn.Release()
				yield(audit.Event{}, classify("querying events", err))
				return
			}
			var events []audit.Event
			for rows.Next() {
				var seq int64
				var rec []byte
				if err := rows.Scan(&seq, &rec); err != nil {
					rows.Close()
					conn.Release()
					yield(audit.Event{}, classify("querying events", err))
					return
				}
				ev, err := audit.DecodeRecord(uint64(seq), rec)
				if err == nil && !f.Match(ev) {
					err = integrity(fmt.Sprintf("event %d: the row's columns do not match its record", seq))
				}
				if err != nil {
					rows.Close()
					conn.Release()
					yield(audit.Event{}, err)
					return
				}
				events = append(events, ev)
				after = seq
			}
			err = rows.Err()
			conn.Release()
			if err != nil {
				yield(audit.Event{}, classify("querying events", err))
				return
			}
			for _, ev := range events {
				n++
				if !yield(ev, nil) {
					return
				}
			}
			if len(events) < page || (f.Limit > 0 && n >= f.Limit) {
				return
			}
		}
	}
}

// querySQL builds the statement for f; its first three parameters are
// the seq to start after, the snapshot and the page size.
func (s *Store) querySQL(f audit.Filter) (string, []any) {
	var b strings.Builder
	b.WriteString("SELECT seq, record FROM ")
	b.WriteString(s.cfg.schema)
	b.WriteString(".events WHERE seq > $1 AND seq <= $2")
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		b.WriteString(" AND ")
		b.WriteString(cond)
		b.WriteString(" $")
		b.WriteString(strconv.Itoa(3 + len(args)))
	}
	if f.Patient != "" {
		add("patient =", string(f.Patient))
	}
	if f.UserID != "" {
		add("user_id =", f.UserID)
	}
	if f.Organisation != "" {
		add("organisation =", string(f.Organisation))
	}
	if f.Custodian != "" {
		add("custodian =", string(f.Custodian))
	}
	if !f.From.IsZero() {
		add("time_ns >=", unixNanoClamped(f.From))
	}
	if !f.To.IsZero() {
		add("time_ns <", unixNanoClamped(f.To))
	}
	if f.Outcome != "" {
		add("outcome =", string(f.Outcome))
	}
	if f.Purpose != shcrkit.PurposeUnspecified {
		add("purpose =", int16(f.Purpose))
	}
	if f.Action != "" {
		add("action =", string(f.Action))
	}
	if f.Service != "" {
		add("service =", string(f.Service))
	}
	if f.CorrelationID != "" {
		add("correlation_id =", f.CorrelationID)
	}
	b.WriteString(" ORDER BY seq LIMIT $3")
	return b.String(), args
}

// unixNanoClamped is t.UnixNano, clamped to the int64 range for times
// beyond what UnixNano can hold (a filter bound far in the past or
// future), so the comparison stays right.
func unixNanoClamped(t time.Time) int64 {
	switch {
	case t.Year() < 1678:
		return -1 << 63
	case t.Year() > 2261:
		return 1<<63 - 1
	}
	return t.UnixNano()
}
