// Package telemetry holds what the SDK's packages share for OpenTelemetry:
// the instrumentation scope, the tracer and meter taken from the
// providers a caller gives (or the global ones, which do nothing until
// the application installs an SDK), and the rule that no attribute
// carries an NHS number, a name or a token.
package telemetry

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/version"
)

// Scope is the instrumentation scope of every span and instrument.
const Scope = "github.com/shcrkit/shcrkit"

// Tracer returns the SDK's tracer from tp, or from the global provider
// when tp is nil.
func Tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer(Scope, trace.WithInstrumentationVersion(version.SDK))
}

// Meter returns the SDK's meter from mp, or from the global provider when
// mp is nil.
func Meter(mp metric.MeterProvider) metric.Meter {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	return mp.Meter(Scope, metric.WithInstrumentationVersion(version.SDK))
}

// Propagator is what the SDK sends with every call: W3C trace context
// (traceparent, tracestate), whatever the application set globally, so
// that PDS, the NRL and remote ShCRs can join their traces to ours.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Clean is how any text from elsewhere becomes an attribute value: NHS
// numbers masked, tokens and query strings removed.
func Clean(s string) string { return shcrkit.Redact(s) }

// DurationBuckets are histogram bounds in seconds for calls and journeys:
// from a millisecond to a minute.
var DurationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// maxAttributeSets bounds the attribute sets kept: the values named come
// from outside (custodians from the NRL, hosts from the directory), and
// past the bound a set is built per point as it would be without the
// cache.
const maxAttributeSets = 1024

// Sets caches metric attribute sets by a key naming their values, so
// that a measurement does not build, sort and hash its attributes anew.
// The zero value is ready to use.
type Sets struct {
	m sync.Map // string → metric.MeasurementOption
	n atomic.Int64
}

// Option returns the measurement option of the attributes kvs builds,
// which key names.
func (c *Sets) Option(key string, kvs func() []attribute.KeyValue) metric.MeasurementOption {
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
