package shcr_test

import (
	"context"
	"io"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestJourneyTelemetry runs a journey with the OpenTelemetry SDK's
// in-memory exporters: a span for the journey and each step, HTTP spans
// under them, W3C trace context at PDS, the NRL and the remote ShCRs, the
// metrics the issue of operations asks for, and no attribute that carries
// an NHS number, a name or a token.
func TestJourneyTelemetry(t *testing.T) {
	w := newWorld(t)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	rec := audittest.NewRecorder()
	cfg, err := w.Config(rec)
	require.NoError(t, err)
	cfg.PDS, err = w.PDS.NewClient(pds.WithTokenSource(w.TokenSource), pds.WithTelemetry(tp, mp))
	require.NoError(t, err)
	cfg.NRL, err = nrls.NewClient(w.NRL.URL+nrls.ConsumerPath, nrls.WithHTTPClient(w.NRL.HTTPClient()), nrls.WithTokenSource(w.TokenSource), nrls.WithTelemetry(tp, mp))
	require.NoError(t, err)
	cfg.TracerProvider, cfg.MeterProvider = tp, mp
	c, err := shcr.New(cfg)
	require.NoError(t, err)

	res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
	require.NoError(t, err)
	for _, r := range res.Records {
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
		}
	}
	res.Close()

	byName := map[string][]sdktrace.ReadOnlySpan{}
	var journey sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		byName[s.Name()] = append(byName[s.Name()], s)
		if s.Name() == "shcr.journey" {
			journey = s
		}
	}
	require.NotNil(t, journey)
	assert.Len(t, byName["shcr.trace"], 1)
	assert.Len(t, byName["shcr.decide.boundary"], 1)
	assert.Len(t, byName["shcr.search"], 1)
	assert.Len(t, byName["shcr.decide.record"], 5, "one per pointer")
	assert.Len(t, byName["shcr.retrieve"], len(res.Records))
	assert.GreaterOrEqual(t, len(byName["shcr.audit.write"]), 8)
	assert.NotEmpty(t, byName["HTTP GET"])
	assert.NotEmpty(t, byName["HTTP POST"], "the NRL search")

	ids := map[string]bool{}
	for _, list := range byName {
		for _, s := range list {
			assert.Equal(t, journey.SpanContext().TraceID(), s.SpanContext().TraceID(), "%s is in the journey's trace", s.Name())
			ids[s.SpanContext().SpanID().String()] = true
		}
	}
	retrievals := map[string]bool{}
	for _, s := range byName["shcr.retrieve"] {
		retrievals[s.SpanContext().SpanID().String()] = true
	}
	children := 0
	for _, s := range byName["HTTP GET"] {
		if retrievals[s.Parent().SpanID().String()] {
			children++
		}
	}
	assert.GreaterOrEqual(t, children, len(res.Records), "each retrieval's HTTP calls are its children")

	// The services got the trace context.
	trace := journey.SpanContext().TraceID().String()
	for name, headers := range map[string][]string{
		"PDS": headersOf(w.PDS.Requests()), "NRL": headersOf(w.NRL.Requests()), "a remote ShCR": headersOf(w.Region("RNR").Requests()),
	} {
		require.NotEmpty(t, headers, name)
		for _, tp := range headers {
			assert.Contains(t, tp, trace, "%s got the traceparent", name)
		}
	}

	// Nothing that identifies a person or grants access is an attribute.
	forbidden := []string{string(pdstest.Patients.Normal), shcrkit.NHSNumber(pdstest.Patients.Normal).Format(), w.Requester.Name, "Bearer", "eyJ"}
	check := func(where string, attrs []attribute.KeyValue) {
		for _, a := range attrs {
			for _, f := range forbidden {
				assert.NotContains(t, a.Value.String(), f, "%s attribute %s", where, a.Key)
			}
		}
	}
	for name, list := range byName {
		for _, s := range list {
			check(name, s.Attributes())
		}
	}

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	metrics := map[string]bool{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			metrics[m.Name] = true
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					check(m.Name, dp.Attributes.ToSlice())
				}
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					check(m.Name, dp.Attributes.ToSlice())
				}
			}
		}
	}
	for _, want := range []string{"shcrkit.journey.duration", "shcrkit.retrievals", "shcrkit.retrieval.duration", "shcrkit.decisions",
		"shcrkit.audit.write.duration", "shcrkit.http.client.duration"} {
		assert.True(t, metrics[want], "metric %s", want)
	}
}

func headersOf(rs []fake.Request) []string {
	var out []string
	for _, r := range rs {
		if tp := r.Header.Get("Traceparent"); tp != "" {
			out = append(out, tp)
		}
	}
	return out
}
