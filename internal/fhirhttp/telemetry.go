package fhirhttp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/shcrkit/shcrkit/internal/telemetry"
)

// instruments are a client's metrics.
type instruments struct {
	tracer   trace.Tracer
	duration metric.Float64Histogram
	retries  metric.Int64Counter
	sets     telemetry.Sets
}

func newInstruments(tp trace.TracerProvider, mp metric.MeterProvider) (*instruments, error) {
	m := telemetry.Meter(mp)
	duration, err := m.Float64Histogram("shcrkit.http.client.duration", metric.WithUnit("s"),
		metric.WithDescription("Time of each HTTP attempt to PDS, the NRL, a remote ShCR or a token or audit endpoint, to the answer's headers."),
		metric.WithExplicitBucketBoundaries(telemetry.DurationBuckets...))
	if err != nil {
		return nil, err
	}
	retries, err := m.Int64Counter("shcrkit.http.client.retries", metric.WithUnit("{retry}"),
		metric.WithDescription("Attempts after the first of one logical request (same X-Request-ID)."))
	if err != nil {
		return nil, err
	}
	return &instruments{tracer: telemetry.Tracer(tp), duration: duration, retries: retries}, nil
}

// tracingTransport gives every HTTP attempt a client span (a child of the
// caller's span), sends the W3C trace context with it, and measures it.
// Attributes name the method, the host, the status and the X-Request-ID:
// never a path or a query, which may hold an NHS number.
type tracingTransport struct {
	base http.RoundTripper
	ins  *instruments
}

func (t *tracingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host, port := req.URL.Hostname(), req.URL.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[req.URL.Scheme]
	}
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", req.Method),
		attribute.String("server.address", telemetry.Clean(host)),
	}
	if p, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, attribute.Int("server.port", p))
	}
	ctx, span := t.ins.tracer.Start(req.Context(), "HTTP "+req.Method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrs...))
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attribute.String("shcrkit.request_id", telemetry.Clean(req.Header.Get("X-Request-ID"))))
	}
	// The headers are copied only when there is a trace context to put in
	// them (telemetry.Propagator writes nothing otherwise):
	// a RoundTripper must not change the request it is given.
	out := req.WithContext(ctx)
	if trace.SpanContextFromContext(ctx).IsValid() {
		out = req.Clone(ctx)
		telemetry.Propagator.Inject(ctx, propagation.HeaderCarrier(out.Header))
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(out)
	took := time.Since(start).Seconds()
	// record measures the attempt, with its attribute set built once
	// per method, host, port, status and error type.
	record := func(status int, errType string) {
		if !t.ins.duration.Enabled(ctx) {
			return
		}
		key := req.Method + "\x00" + host + "\x00" + port + "\x00" + strconv.Itoa(status) + "\x00" + errType
		t.ins.duration.Record(ctx, took, t.ins.sets.Option(key, func() []attribute.KeyValue {
			kvs := slices.Clip(attrs)
			if status != 0 {
				kvs = append(kvs, attribute.Int("http.response.status_code", status))
			}
			if errType != "" {
				kvs = append(kvs, attribute.String("error.type", errType))
			}
			return kvs
		}))
	}
	if err != nil {
		kind := "transport"
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			kind = "timeout"
		}
		span.SetStatus(codes.Error, kind+" error")
		record(0, kind)
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	errType := ""
	if resp.StatusCode >= 400 {
		errType = strconv.Itoa(resp.StatusCode)
		span.SetStatus(codes.Error, errType)
	}
	record(resp.StatusCode, errType)
	return resp, nil
}

// countRetry counts an attempt after the first.
func (ins *instruments) countRetry(ctx context.Context, r *http.Request, attempt int) {
	if attempt > 0 && ins.retries.Enabled(ctx) {
		host := r.URL.Hostname()
		ins.retries.Add(ctx, 1, ins.sets.Option("retry\x00"+host, func() []attribute.KeyValue {
			return []attribute.KeyValue{attribute.String("server.address", telemetry.Clean(host))}
		}))
	}
}

// SetTelemetry sets where the client's spans (tp) and measurements (mp)
// go; a nil provider leaves the global one.
func (c *Config) SetTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) error {
	if tp == nil && mp == nil {
		return fmt.Errorf("%w: telemetry needs a tracer provider, a meter provider or both", ErrInvalidOption)
	}
	if tp != nil {
		c.TracerProvider = tp
	}
	if mp != nil {
		c.MeterProvider = mp
	}
	return nil
}
