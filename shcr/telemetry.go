package shcr

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
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

// journeyTelemetry is a Client's tracer and instruments. Spans and
// attributes name steps, custodians, record types, rules, outcomes,
// error codes and request IDs: never an NHS number, a name or a token.
type journeyTelemetry struct {
	tracer     trace.Tracer
	journeys   metric.Float64Histogram
	retrievals metric.Int64Counter
	retrieval  metric.Float64Histogram
	decisions  metric.Int64Counter
	auditWrite metric.Float64Histogram
	// sets holds the attribute sets of metric points: few (steps,
	// custodians by outcome, rules by outcome) and otherwise built,
	// sorted and hashed on every point.
	sets attributeSets
}

// maxAttributeSets bounds the attribute sets kept: the custodians and
// rules named come from the NRL and the policy, and past the bound a set
// is built per point as it would be without the cache.
const maxAttributeSets = 1024

// attributeSets caches metric attribute sets by a key naming their
// values.
type attributeSets struct {
	m sync.Map // string → metric.MeasurementOption
	n atomic.Int64
}

// option returns the measurement option of the attributes kvs builds,
// which key names.
func (c *attributeSets) option(key string, kvs func() []attribute.KeyValue) metric.MeasurementOption {
	if o, ok := c.m.Load(key); ok {
		return o.(metric.MeasurementOption)
	}
	o := metric.WithAttributeSet(attribute.NewSet(kvs()...))
	if c.n.Load() < maxAttributeSets {
		if _, loaded := c.m.LoadOrStore(key, o); !loaded {
			c.n.Add(1)
		}
	}
	return o
}

func newJourneyTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) (*journeyTelemetry, error) {
	m := telemetry.Meter(mp)
	t := &journeyTelemetry{tracer: telemetry.Tracer(tp)}
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
func errorCode(err error) string {
	var api *shcrkit.APIError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &api) && api.Code != "":
		return api.Code
	case api != nil:
		return "HTTP " + itoa(api.StatusCode)
	case errors.Is(err, ErrRefused):
		return "refused"
	case errors.Is(err, ErrAudit):
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

// end ends a span with err's code as its status.
func end(span trace.Span, err error) {
	if err != nil {
		span.SetAttributes(attribute.String("shcrkit.error_code", errorCode(err)))
		span.SetStatus(codes.Error, errorCode(err))
	}
	span.End()
}

// journeySpan starts the span of a whole journey; done ends it and
// records its duration.
func (t *journeyTelemetry) journeySpan(ctx context.Context, name string) (context.Context, func(error, *Discovery)) {
	start := time.Now()
	ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindInternal))
	return ctx, func(err error, d *Discovery) {
		outcome := "allowed"
		switch {
		case errors.Is(err, ErrRefused):
			outcome = "refused"
		case err != nil:
			outcome = "failed"
		}
		attrs := []attribute.KeyValue{attribute.String("shcrkit.outcome", outcome)}
		if d != nil {
			span.SetAttributes(attribute.Int("shcrkit.pointers", len(d.Pointers)), attribute.Int("shcrkit.refused", len(d.Refused)))
		}
		if id := shcrkit.CorrelationID(ctx); id != "" {
			span.SetAttributes(attribute.String("shcrkit.correlation_id", telemetry.Clean(id)))
		}
		span.SetAttributes(attrs...)
		t.journeys.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attribute.String("shcrkit.journey", name)),
			metric.WithAttributes(attrs...))
		end(span, err)
	}
}

// step starts the span of one step of a journey.
func (t *journeyTelemetry) step(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}

// decided records a decision as a span of its own and counts it.
func (t *journeyTelemetry) decided(ctx context.Context, d rbac.Decision, p *nrls.Pointer) {
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
	t.decisions.Add(ctx, 1, t.sets.option("decision\x00"+rule+"\x00"+outcome+"\x00"+stage, func() []attribute.KeyValue { return attrs }))
	if p != nil {
		attrs = append(attrs, attribute.String("shcrkit.custodian", telemetry.Clean(string(p.Custodian))),
			attribute.String("shcrkit.record_type", telemetry.Clean(p.Type.Code)))
	}
	_, span := t.tracer.Start(ctx, "shcr.decide."+stage, trace.WithAttributes(attrs...))
	span.End()
}

// retrieved ends a retrieval's span and counts it by custodian and outcome.
func (t *journeyTelemetry) retrieved(ctx context.Context, span trace.Span, start time.Time, custodian shcrkit.ODSCode, reqID string, err error) {
	outcome := "retrieved"
	if err != nil {
		outcome = "failed"
	}
	attrs := []attribute.KeyValue{attribute.String("shcrkit.custodian", telemetry.Clean(string(custodian))), attribute.String("shcrkit.outcome", outcome)}
	set := t.sets.option("retrieval\x00"+attrs[0].Value.AsString()+"\x00"+outcome, func() []attribute.KeyValue { return attrs })
	span.SetAttributes(append(attrs, attribute.String("shcrkit.request_id", telemetry.Clean(reqID)))...)
	t.retrievals.Add(ctx, 1, set)
	t.retrieval.Record(ctx, time.Since(start).Seconds(), set)
	end(span, err)
}
