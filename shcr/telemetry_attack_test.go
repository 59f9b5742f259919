package shcr_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestTelemetryCarriesNoPersonalDataOnFailures(t *testing.T) {
	for _, fail := range []string{"regions", "pds", "nrl"} {
		t.Run(fail, func(t *testing.T) {
			w := newWorld(t)
			tok, err := w.TokenSource.Token()
			require.NoError(t, err)
			nhs := string(pdstest.Patients.Normal)
			secretish := "Bearer " + tok.AccessToken + " patient " + nhs + " " + w.Requester.Name
			fault := shcrtest.Fault{Status: 500, Code: "ERR_" + nhs + "_" + tok.AccessToken, Diagnostics: secretish}
			var forbiddenExtra []string
			switch fail {
			case "regions":
				for _, r := range w.Regions {
					f := fault
					if ep, ok := w.Directory.Endpoint(r.Custodian()); ok && ep.TokenSource != nil {
						rt, err := ep.TokenSource.Token()
						require.NoError(t, err)
						// a region echoes the token it was sent and the journey's patient
						// (a pointer routed through SSP sends the region no such token)
						f.Code = "ERR_" + nhs
						f.Diagnostics = "Bearer " + rt.AccessToken + " " + secretish
						forbiddenExtra = append(forbiddenExtra, rt.AccessToken)
					} else {
						f.Code = "ERR_" + nhs
					}
					r.InjectFault(http.MethodGet, "/", -1, f)
				}
			case "pds":
				w.PDS.InjectFault(http.MethodGet, "/", -1, pdstest.Fault{Status: 500, Code: fault.Code, Diagnostics: secretish})
			case "nrl":
				w.NRL.InjectFault("", "/", -1, fault)
			}
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			reader := sdkmetric.NewManualReader()
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
			var logs bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

			rec := audittest.NewRecorder()
			cfg, err := w.Config(rec)
			require.NoError(t, err)
			cfg.PDS, err = w.PDS.NewClient(pds.WithTokenSource(w.TokenSource), pds.WithTelemetry(tp, mp), pds.WithLogger(logger))
			require.NoError(t, err)
			cfg.NRL, err = nrls.NewClient(w.NRL.URL+nrls.ConsumerPath, nrls.WithHTTPClient(w.NRL.HTTPClient()), nrls.WithTokenSource(w.TokenSource), nrls.WithTelemetry(tp, mp), nrls.WithLogger(logger))
			require.NoError(t, err)
			cfg.TracerProvider, cfg.MeterProvider = tp, mp
			cfg.Logger = logger
			c, err := shcr.New(cfg)
			require.NoError(t, err)
			res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
			t.Logf("journey err: %v", err)
			if fail == "regions" {
				for _, r := range w.Regions {
					for _, q := range r.Requests() {
						t.Logf("region %s got Authorization %.60q extra %v", r.Custodian(), q.Header.Get("Authorization"), forbiddenExtra)
						break
					}
				}
				if res != nil {
					for _, f := range res.Failures {
						t.Logf("failure: %s %v", f.Pointer.URL, f.Err)
					}
				}
			}
			if res != nil {
				for _, r := range res.Records {
					if r.Body != nil {
						_, _ = io.Copy(io.Discard, r.Body)
					}
				}
				res.Close()
			}
			forbidden := []string{nhs, shcrkit.NHSNumber(nhs).Format(), w.Requester.Name, tok.AccessToken, "Bearer"}
			forbidden = append(forbidden, forbiddenExtra...)
			checkText := func(where, s string) {
				for _, f := range forbidden {
					assert.NotContains(t, s, f, "%s", where)
				}
			}
			check := func(where string, attrs []attribute.KeyValue) {
				for _, a := range attrs {
					checkText(where+" "+string(a.Key), a.Value.String())
				}
			}
			codes := map[string]bool{}
			for _, s := range spans.Ended() {
				checkText("span name", s.Name())
				check(s.Name(), s.Attributes())
				checkText(s.Name()+" status", s.Status().Description)
				for _, e := range s.Events() {
					checkText(s.Name()+" event", e.Name)
					check(s.Name()+" event", e.Attributes)
				}
				for _, a := range s.Attributes() {
					if a.Key == "shcrkit.error_code" {
						codes[a.Value.String()] = true
					}
				}
			}
			t.Logf("error codes: %v", codes)
			var rm metricdata.ResourceMetrics
			require.NoError(t, reader.Collect(context.Background(), &rm))
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					switch d := m.Data.(type) {
					case metricdata.Sum[int64]:
						for _, dp := range d.DataPoints {
							check(m.Name, dp.Attributes.ToSlice())
							for _, a := range dp.Attributes.ToSlice() {
								assert.NotContains(t, []string{"shcrkit.request_id", "shcrkit.correlation_id", "shcrkit.error_code"}, string(a.Key), m.Name)
							}
						}
					case metricdata.Histogram[float64]:
						for _, dp := range d.DataPoints {
							check(m.Name, dp.Attributes.ToSlice())
							for _, a := range dp.Attributes.ToSlice() {
								assert.NotContains(t, []string{"shcrkit.request_id", "shcrkit.correlation_id", "shcrkit.error_code"}, string(a.Key), m.Name)
							}
						}
					}
				}
			}
			for _, line := range strings.Split(logs.String(), "\n") {
				checkText("log", line)
			}
			t.Logf("log lines: %d", strings.Count(logs.String(), "\n"))
		})
	}
}
