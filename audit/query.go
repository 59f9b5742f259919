package audit

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/internal/logstore"
)

// Filter selects events for Query. Zero fields match everything; set
// fields must all match. Patient, UserID, Organisation and Custodian are
// served from the index.
type Filter struct {
	// Patient selects events about this patient.
	Patient shcrkit.NHSNumber
	// UserID selects events by this user (Requester.UserID).
	UserID string
	// Organisation selects events by users of this organisation
	// (Requester.Organisation).
	Organisation shcrkit.ODSCode
	// Custodian selects events about records held by this organisation.
	Custodian shcrkit.ODSCode
	// From selects events at or after this time (Event.Time).
	From time.Time
	// To selects events before this time.
	To time.Time
	// Outcome selects events with this outcome.
	Outcome Outcome
	// Purpose selects events made for this purpose.
	Purpose shcrkit.Purpose
	// Action selects events of this action.
	Action Action
	// Service selects events of this service.
	Service Service
	// CorrelationID selects the events of one user action.
	CorrelationID string
	// Limit stops the query after this many events; 0 means no limit.
	Limit int
}

// Validate checks the filter's fields, returning every problem joined,
// each matching ErrInvalidFilter.
func (f Filter) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidFilter}, args...)...))
	}
	if f.Patient != "" && !f.Patient.Valid() {
		bad("patient is not a valid NHS number")
	}
	if f.Organisation != "" && !f.Organisation.Valid() {
		bad("organisation is not a valid ODS code")
	}
	if f.Custodian != "" && !f.Custodian.Valid() {
		bad("custodian is not a valid ODS code")
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		bad("to is before from")
	}
	if f.Outcome != "" && !f.Outcome.valid() {
		bad("unknown outcome %q", string(f.Outcome))
	}
	if f.Action != "" && !f.Action.valid() {
		bad("unknown action %q", string(f.Action))
	}
	if f.Service != "" && !f.Service.valid() {
		bad("unknown service %q", string(f.Service))
	}
	if f.Purpose != shcrkit.PurposeUnspecified && !f.Purpose.Valid() {
		bad("unknown purpose %d", uint8(f.Purpose))
	}
	if f.Limit < 0 {
		bad("negative limit")
	}
	if !cleanText(f.UserID) || !cleanText(f.CorrelationID) || len(f.UserID) > maxField || len(f.CorrelationID) > maxField {
		bad("user ID and correlation ID must be printable text")
	}
	return errors.Join(errs...)
}

// Match reports whether the event passes the filter (Limit aside).
func (f Filter) Match(e Event) bool {
	return (f.Patient == "" || e.Patient == f.Patient) &&
		(f.UserID == "" || e.Requester.UserID == f.UserID) &&
		(f.Organisation == "" || e.Requester.Organisation == f.Organisation) &&
		(f.Custodian == "" || e.Custodian == f.Custodian) &&
		(f.From.IsZero() || !e.Time.Before(f.From)) &&
		(f.To.IsZero() || e.Time.Before(f.To)) &&
		(f.Outcome == "" || e.Outcome == f.Outcome) &&
		(f.Purpose == shcrkit.PurposeUnspecified || e.Purpose == f.Purpose) &&
		(f.Action == "" || e.Action == f.Action) &&
		(f.Service == "" || e.Service == f.Service) &&
		(f.CorrelationID == "" || e.CorrelationID == f.CorrelationID)
}

// matchEntry applies the parts of the filter that a table entry holds.
func (f Filter) matchEntry(e logstore.Entry) bool {
	return (f.From.IsZero() || e.Time >= unixNanoClamped(f.From)) &&
		(f.To.IsZero() || e.Time < unixNanoClamped(f.To)) &&
		(f.Outcome == "" || e.Outcome == f.Outcome.code()) &&
		(f.Purpose == shcrkit.PurposeUnspecified || e.Purpose == uint8(f.Purpose)) &&
		(f.Action == "" || e.Action == f.Action.code()) &&
		(f.Service == "" || e.Service == f.Service.code())
}

// unixNanoClamped is t.UnixNano for the times an event can have, and the
// nearest end of the int64 range for times beyond them, where UnixNano
// would overflow; so a filter bound far in the past or future still
// compares correctly with every event.
func unixNanoClamped(t time.Time) int64 {
	switch {
	case t.Before(minEventTime):
		return math.MinInt64
	case !t.Before(maxEventTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// queryString renders the filter as the query of the audit event that
// records a search of the log (ReadEvent); the patient appears as
// QueryPatientPlaceholder.
func (f Filter) queryString() string {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.Patient != "" {
		v.Set("patient", QueryPatientPlaceholder)
	}
	set("user", f.UserID)
	set("organisation", string(f.Organisation))
	set("custodian", string(f.Custodian))
	if !f.From.IsZero() {
		v.Set("from", f.From.UTC().Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		v.Set("to", f.To.UTC().Format(time.RFC3339))
	}
	set("outcome", string(f.Outcome))
	if f.Purpose != shcrkit.PurposeUnspecified {
		v.Set("purpose", f.Purpose.String())
	}
	set("action", string(f.Action))
	set("service", string(f.Service))
	set("correlation", f.CorrelationID)
	if f.Limit > 0 {
		v.Set("limit", fmt.Sprint(f.Limit))
	}
	// url.Values encodes the braces; keep the placeholder readable.
	return unescapePlaceholder(v.Encode())
}

func unescapePlaceholder(s string) string {
	return strings.ReplaceAll(s, url.QueryEscape(QueryPatientPlaceholder), QueryPatientPlaceholder)
}

// Query returns the events that match f, in sequence order, as they were
// when the query began.
//
// Reading the audit trail is itself audited: before it yields anything,
// Query writes an event (ServiceAudit, ActionSearch, resource
// "AuditEvent", the filter as the query, the filter's patient as the
// patient) for reader, with the request and correlation IDs from ctx
// (shcrkit.WithRequestID, shcrkit.WithCorrelationID), and yields only an
// error if that write fails. A patient, user, organisation or custodian
// in the filter is looked up in the index; other filters scan the table
// of events, not the log.
func (l *Log) Query(ctx context.Context, reader shcrkit.Requester, f Filter) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if err := l.usable(ctx); err != nil {
			yield(Event{}, err)
			return
		}
		if err := f.Validate(); err != nil {
			yield(Event{}, err)
			return
		}
		snapshot := l.Size()
		if err := l.Write(ctx, ReadEvent(ctx, reader, f, l.cfg.now())); err != nil {
			yield(Event{}, fmt.Errorf("audit: recording the query of the audit log: %w", err))
			return
		}
		n := 0
		emit := func(ev Event) bool {
			n++
			return yield(ev, nil) && (f.Limit == 0 || n < f.Limit)
		}
		if key := l.bestKey(f); key != "" {
			l.queryKey(ctx, key, f, snapshot, emit, yield)
			return
		}
		l.queryScan(ctx, f, snapshot, emit, yield)
	}
}

// ReadEvent returns the event that records a query of an audit trail
// before it is answered, as Log.Query and the PostgreSQL store's Query
// write it: reader searching the trail (ServiceAudit, ActionSearch) at
// now, with f as the query and f.Patient as the patient, and the request
// and correlation IDs of ctx (a fresh request ID when it has none). A
// Reader of another store records its reads with it the same way.
func ReadEvent(ctx context.Context, reader shcrkit.Requester, f Filter, now time.Time) Event {
	id := shcrkit.RequestID(ctx)
	if id == "" {
		id = newRequestID()
	}
	return Event{
		Time:          now,
		Requester:     reader,
		Action:        ActionSearch,
		Service:       ServiceAudit,
		Resource:      "AuditEvent",
		Query:         f.queryString(),
		Patient:       f.Patient,
		Outcome:       OutcomeSuccess,
		RequestID:     id,
		CorrelationID: shcrkit.CorrelationID(ctx),
	}
}

// bestKey returns the index key of the filter with the fewest events.
func (l *Log) bestKey(f Filter) string {
	var keys []string
	if f.Patient != "" {
		keys = append(keys, keyPatient+string(f.Patient))
	}
	if f.UserID != "" {
		keys = append(keys, keyUser+f.UserID)
	}
	if f.Organisation != "" {
		keys = append(keys, keyOrg+string(f.Organisation))
	}
	if f.Custodian != "" {
		keys = append(keys, keyCustodian+string(f.Custodian))
	}
	best, bestN := "", -1
	for _, k := range keys {
		if n := l.st.KeyCount(k); bestN < 0 || n < bestN {
			best, bestN = k, n
		}
	}
	return best
}

func (l *Log) queryKey(ctx context.Context, key string, f Filter, snapshot uint64, emit func(Event) bool, yield func(Event, error) bool) {
	for seqs, err := range l.st.KeySeqs(key) {
		if err != nil {
			yield(Event{}, err)
			return
		}
		for _, seq := range seqs {
			if seq > snapshot {
				return
			}
			if err := ctx.Err(); err != nil {
				yield(Event{}, err)
				return
			}
			e, err := l.st.Entry(seq)
			if err != nil {
				yield(Event{}, err)
				return
			}
			if !f.matchEntry(e) {
				continue
			}
			if !l.queryEmit(seq, e, f, emit, yield) {
				return
			}
		}
	}
}

func (l *Log) queryScan(ctx context.Context, f Filter, snapshot uint64, emit func(Event) bool, yield func(Event, error) bool) {
	const chunk = 4096
	entries := make([]logstore.Entry, chunk)
	for from := uint64(1); from <= snapshot; from += chunk {
		if err := ctx.Err(); err != nil {
			yield(Event{}, err)
			return
		}
		n := min(uint64(chunk), snapshot-from+1)
		if err := l.st.Entries(from, entries[:n]); err != nil {
			yield(Event{}, err)
			return
		}
		for i, e := range entries[:n] {
			if !f.matchEntry(e) {
				continue
			}
			if !l.queryEmit(from+uint64(i), e, f, emit, yield) {
				return
			}
		}
	}
}

// queryEmit reads one candidate, checks it against the whole filter and
// yields it; it reports whether to go on.
func (l *Log) queryEmit(seq uint64, e logstore.Entry, f Filter, emit func(Event) bool, yield func(Event, error) bool) bool {
	rec, err := l.st.Record(seq, e)
	if err != nil {
		yield(Event{}, err)
		return false
	}
	ev, err := decodeRecord(rec)
	if err != nil {
		yield(Event{}, tampered(fmt.Sprintf("event %d: %v", seq, err)))
		return false
	}
	if !f.Match(ev) {
		return true
	}
	return emit(ev)
}
