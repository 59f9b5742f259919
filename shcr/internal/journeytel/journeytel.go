// Package journeytel is the OpenTelemetry side of a shcr journey: its
// spans and its metrics. Spans and attributes name steps, custodians,
// record types, rules, outcomes, error codes and request IDs: never an
// NHS number, a name or a token.
package journeytel

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/telemetry"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/rbac"
)

// Telemetry is a Client's tracer and instruments. It is safe for
// concurrent use.
type Telemetry struct {
	tracer     trace.Tracer
	journeys   metric.Float64Histogram
	retrievals metric.Int64Counter
	retrieval  metric.Float64Histogram
	decisions  metric.Int64Counter
	auditWrite metric.Float64Histogram
	// sets holds the attribute sets of metric points: few (steps,
	// custodians by outcome, rules by outcome) and otherwise built,
	// sorted and hashed on every point.
	sets telemetry.Sets
	// refused and audit are the errors a journey is refused and fails
	// its audit with (shcr.ErrRefused, shcr.ErrAudit).
	refused, audit error
}

// New returns the telemetry of a Client that sends its spans to tp and
// its measurements to mp (nil: the global providers). A journey that
// fails with an error matching refused counts as refused, and one
// matching audit has the error code "audit".
func New(tp trace.TracerProvider, mp metric.MeterProvider, refused, audit error) (*Telemetry, error) {
	m := telemetry.Meter(mp)
	t := &Telemetry{tracer: telemetry.Tracer(tp), refused: refused, audit: audit}
	var errs []error
	hist := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(telemetry.DurationBuckets...))
		errs = append(errs, err)
		return h
	}
	count := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	t.journeys = hist("shcrkit.journey.duration", "Time of a whole journey (Records) or a discovery (Discover).")
	t.retrieval = hist("shcrkit.retrieval.duration", "Time of one retrieval from a remote ShCR, to its headers.")
	t.auditWrite = hist("shcrkit.audit.write.duration", "Time the audit sink took to acknowledge one event of a journey.")
	t.retrievals = count("shcrkit.retrievals", "{retrieval}", "Retrievals from remote ShCRs, by custodian and outcome.")
	t.decisions = count("shcrkit.decisions", "{decision}", "Access decisions, by stage, rule and outcome.")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// errorCode is the Spine error code, the HTTP status or the SDK's kind of
// error: something to group by, never the error's text.
func (t *Telemetry) errorCode(err error) string {
	var api *shcrkit.APIError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &api) && api.Code != "":
		return api.Code
	case api != nil:
		return "HTTP " + itoa(api.StatusCode)
	case errors.Is(err, t.refused):
		return "refused"
	case errors.Is(err, t.audit):
		return "audit"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, shcrkit.ErrUnavailable):
		return "unavailable"
	}
	return "error"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// End ends a span with err's code as its status.
func (t *Telemetry) End(span trace.Span, err error) {
	if err != nil {
		code := t.errorCode(err)
		span.SetAttributes(attribute.String("shcrkit.error_code", code))
		span.SetStatus(codes.Error, code)
	}
	span.End()
}

// Found is what a discovery found: the pointers the requester may open
// and those refused.
type Found struct{ Pointers, Refused int }

// JourneySpan starts the span of a whole journey; done ends it, with what
// discovery found when it got that far (f not nil), and records its
// duration.
func (t *Telemetry) JourneySpan(ctx context.Context, name string) (_ context.Context, done func(err error, f *Found)) {
	start := time.Now()
	ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal))
	return ctx, func(err error, f *Found) {
		outcome := "allowed"
		switch {
		case errors.Is(err, t.refused):
			outcome = "refused"
		case err != nil:
			outcome = "failed"
		}
		attrs := []attribute.KeyValue{attribute.String("shcrkit.outcome", outcome)}
		if f != nil {
			span.SetAttributes(attribute.Int("shcrkit.pointers", f.Pointers), attribute.Int("shcrkit.refused", f.Refused))
		}
		if id := shcrkit.CorrelationID(ctx); id != "" {
			span.SetAttributes(attribute.String("shcrkit.correlation_id", telemetry.Clean(id)))
		}
		span.SetAttributes(attrs...)
		t.journeys.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attribute.String("shcrkit.journey", name)),
			metric.WithAttributes(attrs...))
		t.End(span, err)
	}
}

// Step starts the span of one step of a journey.
func (t *Telemetry) Step(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}

// Decided records a decision as a span of its own and counts it: the
// boundary decision when p is nil, p's record decision otherwise.
func (t *Telemetry) Decided(ctx context.Context, d rbac.Decision, p *nrls.Pointer) {
	outcome := "refused"
	if d.Allowed {
		outcome = "allowed"
	}
	stage := "boundary"
	rule := telemetry.Clean(d.Rule)
	attrs := []attribute.KeyValue{attribute.String("shcrkit.rule", rule), attribute.String("shcrkit.outcome", outcome)}
	if p != nil {
		stage = "record"
	}
	attrs = append(attrs, attribute.String("shcrkit.stage", stage))
	if t.decisions.Enabled(ctx) {
		t.decisions.Add(ctx, 1, t.sets.Option("decision\x00"+rule+"\x00"+outcome+"\x00"+stage, func() []attribute.KeyValue { return attrs }))
	}
	if p != nil {
		attrs = append(attrs, attribute.String("shcrkit.custodian", telemetry.Clean(string(p.Custodian))),
			attribute.String("shcrkit.record_type", telemetry.Clean(p.Type.Code)))
	}
	_, span := t.tracer.Start(ctx, "shcr.decide."+stage, trace.WithAttributes(attrs...))
	span.End()
}

// Retrieved ends a retrieval's span and counts it by custodian and outcome.
func (t *Telemetry) Retrieved(ctx context.Context, span trace.Span, start time.Time, custodian shcrkit.ODSCode, reqID string, err error) {
	outcome := "retrieved"
	if err != nil {
		outcome = "failed"
	}
	// What no span records and no instrument measures is not built: a
	// retrieval is the step a journey repeats most.
	counted, timed := t.retrievals.Enabled(ctx), t.retrieval.Enabled(ctx)
	if span.IsRecording() || counted || timed {
		attrs := []attribute.KeyValue{attribute.String("shcrkit.custodian", telemetry.Clean(string(custodian))), attribute.String("shcrkit.outcome", outcome)}
		set := t.sets.Option("retrieval\x00"+attrs[0].Value.AsString()+"\x00"+outcome, func() []attribute.KeyValue { return attrs })
		if span.IsRecording() {
			span.SetAttributes(append(attrs, attribute.String("shcrkit.request_id", telemetry.Clean(reqID)))...)
		}
		if counted {
			t.retrievals.Add(ctx, 1, set)
		}
		if timed {
			t.retrieval.Record(ctx, time.Since(start).Seconds(), set)
		}
	}
	t.End(span, err)
}

// AuditWritten ends the span of one audit write of a journey's step
// and records how long the sink took.
func (t *Telemetry) AuditWritten(ctx context.Context, span trace.Span, start time.Time, step string, err error) {
	if t.auditWrite.Enabled(ctx) {
		t.auditWrite.Record(ctx, time.Since(start).Seconds(), t.sets.Option("step\x00"+step, func() []attribute.KeyValue {
			return []attribute.KeyValue{attribute.String("shcrkit.step", step)}
		}))
	}
	t.End(span, err)
}
