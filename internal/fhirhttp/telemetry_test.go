package fhirhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestEveryAttemptIsTracedAndMeasured checks that each HTTP attempt is a
// client span, child of the caller's, that the W3C trace context goes with
// it, that retries are counted, and that no attribute carries the NHS
// number in the path.
func TestEveryAttemptIsTracedAndMeasured(t *testing.T) {
	var traceparents []string
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traceparents = append(traceparents, r.Header.Get("Traceparent"))
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(`{"resourceType":"Patient","id":"9434765919"}`))
	}))
	defer srv.Close()

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	base, err := url.Parse(srv.URL)
	require.NoError(t, err)
	c, err := fhirhttp.New(fhirhttp.Config{BaseURL: base, TracerProvider: tp, MeterProvider: mp, RetryWaitMin: 1, RetryWaitMax: 2})
	require.NoError(t, err)

	ctx, parent := tp.Tracer("test").Start(context.Background(), "step")
	_, err = c.Do(shcrkit.WithRequestID(ctx, "7f1c2b9e-4a51-4b7e-9d7e-5a1b2c3d4e5f"), &fhirhttp.Request{Path: "/Patient/9434765919"})
	require.NoError(t, err)
	parent.End()

	var attempts []sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == "HTTP GET" {
			attempts = append(attempts, s)
		}
	}
	require.Len(t, attempts, 2, "one span per attempt")
	for i, s := range attempts {
		assert.Equal(t, parent.SpanContext().TraceID(), s.SpanContext().TraceID())
		assert.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID(), "a child of the caller's span")
		assert.Contains(t, traceparents[i], s.SpanContext().SpanID().String(), "the server got this span's context")
		for _, a := range s.Attributes() {
			assert.NotContains(t, a.Value.String(), "9434765919", "attribute %s", a.Key)
			assert.NotContains(t, a.Value.String(), "943476", "attribute %s", a.Key)
		}
	}
	status := func(s sdktrace.ReadOnlySpan) int64 {
		for _, a := range s.Attributes() {
			if a.Key == "http.response.status_code" {
				return a.Value.AsInt64()
			}
		}
		return 0
	}
	for _, s := range attempts {
		var id string
		for _, a := range s.Attributes() {
			if a.Key == "shcrkit.request_id" {
				id = a.Value.AsString()
			}
		}
		assert.Equal(t, "7f1c2b9e-4a51-4b7e-9d7e-5a1b2c3d4e5f", id, "a recorded span names the request")
	}
	assert.EqualValues(t, 503, status(attempts[0]))
	assert.EqualValues(t, 200, status(attempts[1]))

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	found := map[string]bool{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			found[m.Name] = true
			if m.Name == "shcrkit.http.client.retries" {
				sum := m.Data.(metricdata.Sum[int64])
				require.Len(t, sum.DataPoints, 1)
				assert.EqualValues(t, 1, sum.DataPoints[0].Value)
			}
			if m.Name == "shcrkit.http.client.duration" {
				h := m.Data.(metricdata.Histogram[float64])
				var n uint64
				byStatus := map[int64]string{}
				for _, dp := range h.DataPoints {
					n += dp.Count
					for _, kv := range dp.Attributes.ToSlice() {
						assert.False(t, strings.Contains(kv.Value.String(), "9434765919"))
					}
					code, _ := dp.Attributes.Value("http.response.status_code")
					errType, _ := dp.Attributes.Value("error.type")
					byStatus[code.AsInt64()] = errType.AsString()
				}
				assert.EqualValues(t, 2, n)
				assert.Equal(t, map[int64]string{503: "503", 200: ""}, byStatus, "one point per status, the refusal with its error type")
			}
		}
	}
	assert.True(t, found["shcrkit.http.client.duration"])
	assert.True(t, found["shcrkit.http.client.retries"])
}
