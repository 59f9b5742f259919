package audittest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/nilctx"
)

// Recorder is an in-memory audit.Sink. Its zero value is ready to use;
// it is safe for concurrent use and hands out copies of what it holds.
type Recorder struct {
	mu     sync.Mutex
	events []audit.Event
	err    error
	now    func() time.Time
}

var _ audit.Sink = (*Recorder)(nil)

// Option configures a Recorder, in the shape of the fakes' options.
type Option func(*Recorder) error

// WithClock makes the Recorder stamp Recorded (and a zero Time) from now
// instead of the system clock.
func WithClock(now func() time.Time) Option {
	return func(r *Recorder) error {
		if now == nil {
			return errors.New("audittest: nil clock")
		}
		r.now = now
		return nil
	}
}

// NewRecorder returns an empty Recorder using the system clock, or the
// clock of WithClock. Like the fakes' NewServer it panics on an invalid
// option, which a test writes itself.
func NewRecorder(opts ...Option) *Recorder {
	r := &Recorder{}
	for _, o := range opts {
		if o == nil {
			panic("audittest: nil option")
		}
		if err := o(r); err != nil {
			panic(err)
		}
	}
	return r
}

// Write validates the event as a Log would (audit.Event.Normalize),
// assigns the next Seq and Recorded, and keeps a copy. After FailWith it
// returns that error and keeps nothing.
func (r *Recorder) Write(ctx context.Context, e audit.Event) error {
	if err := nilctx.Check(ctx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	now := time.Now
	if r.now != nil {
		now = r.now
	}
	t := now()
	n, err := e.Normalize(t)
	if err != nil {
		return err
	}
	n.Seq = uint64(len(r.events) + 1)
	n.Recorded = t.UTC()
	r.events = append(r.events, n)
	return nil
}

// FailWith makes every later Write return err (nil restores normal
// recording).
func (r *Recorder) FailWith(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

// Events returns copies of every recorded event, in order.
func (r *Recorder) Events() []audit.Event {
	return r.Find(audit.Filter{})
}

// Reset forgets every recorded event (and the sequence restarts at 1).
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.events = nil
	r.mu.Unlock()
}

// Find returns copies of the recorded events that match f, in order, at
// most f.Limit of them when it is set.
func (r *Recorder) Find(f audit.Filter) []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []audit.Event
	for _, e := range r.events {
		if f.Match(e) {
			out = append(out, e.Clone())
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
		}
	}
	return out
}

// Expect returns an error unless exactly n recorded events match f; the
// error lists what was recorded, with NHS numbers masked. In a test,
// require.NoError(t, rec.Expect(f, n)); Find returns the events
// themselves, and len(Find(f)) how many there are.
func (r *Recorder) Expect(f audit.Filter, n int) error {
	f.Limit = 0
	if got := len(r.Find(f)); got != n {
		return fmt.Errorf("audittest: want %d events matching %s, got %d; recorded:\n%s", n, describe(f), got, r.summary())
	}
	return nil
}

// Check holds every recorded event to CheckEvent and returns every
// shortfall, each naming its event's Seq.
func (r *Recorder) Check() error {
	var errs []error
	for _, e := range r.Events() {
		if err := CheckEvent(e); err != nil {
			errs = append(errs, fmt.Errorf("event %d: %w", e.Seq, err))
		}
	}
	return errors.Join(errs...)
}

// ErrIncomplete is matched by every error from CheckEvent.
var ErrIncomplete = errors.New("audittest: event short of audit practice")

// CheckEvent holds an event to the audit practice the SDK follows (GP
// Connect, IHE BALP, ISO 27789), beyond what audit.Event.Validate
// requires: a user with a role profile (or, for application-restricted
// calls, a calling system), an organisation, a request ID for a call (a
// decision has none, but its rule and ID), a purpose
// whenever a patient's record is touched, the deciding rule or a reason
// for a refusal, an error code or reason for a failure, and the custodian
// of a remote record read. It returns every shortfall at once.
func CheckEvent(e audit.Event) error {
	var errs []error
	miss := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrIncomplete}, args...)...))
	}
	if err := e.Validate(); err != nil {
		errs = append(errs, err)
	}
	checkWho(e, miss)
	checkWhy(e, miss)
	checkOutcome(e, miss)
	return errors.Join(errs...)
}

// checkWho checks the event's user or calling system, and its request ID
// or, for a decision, its rule and ID.
func checkWho(e audit.Event, miss func(format string, args ...any)) {
	r := e.Requester
	if r.UserID != "" && r.RoleProfileID == "" {
		miss("a user's role profile ID is missing")
	}
	if r.UserID == "" && r.System.Name == "" {
		miss("neither a user nor a calling system")
	}
	switch {
	case e.Kind == audit.KindDecision:
		if e.Rule == "" {
			miss("a decision without the rule that decided")
		}
		if e.DecisionID == "" {
			miss("a decision without its ID")
		}
	case e.Service != audit.ServiceAudit && e.RequestID == "":
		miss("no request ID")
	}
}

// checkWhy checks the purpose, the break-glass reason and the evidence of
// a self-claimed relationship.
func checkWhy(e audit.Event, miss func(format string, args ...any)) {
	if e.Patient != "" && e.Service != audit.ServiceAudit && e.Purpose == shcrkit.PurposeUnspecified {
		miss("a patient's record was touched without a purpose")
	}
	if e.Purpose == shcrkit.PurposeBreakGlass && e.BreakGlassReason == "" {
		miss("break-glass access without a reason")
	}
	if e.Relationship == shcrkit.RelationshipSelfClaimed && e.RelationshipEvidence == "" {
		miss("a self-claimed relationship without the reason given")
	}
}

// checkOutcome checks that a refusal or failure says why, and that a
// remote record read names its custodian.
func checkOutcome(e audit.Event, miss func(format string, args ...any)) {
	switch e.Outcome {
	case audit.OutcomeRefused:
		if e.Rule == "" && e.Reason == "" && e.ErrorCode == "" {
			miss("a refusal without its rule, reason or error code")
		}
	case audit.OutcomeFailed:
		if e.ErrorCode == "" && e.Reason == "" {
			miss("a failure without an error code or reason")
		}
	}
	if e.Service == audit.ServiceShCR && e.Action == audit.ActionRead && e.Custodian == "" {
		miss("a remote record read without its custodian")
	}
}

// describe renders a filter for a failure message, without the NHS
// number in full.
func describe(f audit.Filter) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("patient", f.Patient.Masked())
	add("user", f.UserID)
	add("organisation", string(f.Organisation))
	add("custodian", string(f.Custodian))
	if !f.From.IsZero() {
		add("from", f.From.UTC().Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		add("to", f.To.UTC().Format(time.RFC3339))
	}
	add("outcome", string(f.Outcome))
	if f.Purpose != shcrkit.PurposeUnspecified {
		add("purpose", f.Purpose.String())
	}
	add("action", string(f.Action))
	add("service", string(f.Service))
	add("correlation", f.CorrelationID)
	if len(parts) == 0 {
		return "{any}"
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// summary lists the recorded events, one a line, identifiers masked.
func (r *Recorder) summary() string {
	events := r.Events()
	if len(events) == 0 {
		return "  (nothing)"
	}
	lines := make([]string, 0, len(events))
	for _, e := range events {
		lines = append(lines, fmt.Sprintf("  %d %s %s %s patient=%s user=%s org=%s outcome=%s",
			e.Seq, e.Action, e.Service, shcrkit.MaskNHSNumbers(e.Resource), e.Patient.Masked(),
			e.Requester.UserID, e.Requester.Organisation, e.Outcome))
	}
	return strings.Join(lines, "\n")
}
