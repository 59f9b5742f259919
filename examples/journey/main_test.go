package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/internal/version"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJourney(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit")
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-audit-dir", dir}, &out, &errOut), errOut.String())
	s := out.String()
	for _, want := range []string{
		"fake world started",
		"audit log opened",
		"patient   949 000 0019",
		"boundary  allowed by relationships/encounter",
		"retrieved application/pdf",
		"retrieved Bundle",
		"refused by confidentiality/very_restricted",
		"4 retrieved, 1 refused, 0 failed",
		"patient traced by NHS number", "5 pointer(s) found", "retrieved page 2 of 3",
		"relationship  encounter, verified by encounter: Encounter/ed-",
		"second journey: a referral that cannot be verified",
		"refused by relationships/referral: relationship referral must be verified and was not: " +
			"not verified by referral: ServiceRequest/ers-4521 is another organisation's (Y20001), not Y90001's",
		"direct-care, encounter verified by encounter", "direct-care, referral not verified by referral",
		"patient access report",
		"audit log verified: 18 events, checkpoint signed",
		"the 17 events in the report above, and event 18: the report's own read of the log",
		"signed checkpoint: a witness elsewhere can hold the log to this",
		"verifier key: journey.shcrkit.example+",
	} {
		assert.Contains(t, s, want)
	}
	// The NRL search of the refused second journey, started beside the
	// trace, is never shown as a success: either it answered and its
	// results were withheld (the report says so on its row), or the
	// refusal cancelled it first and it is recorded as failed.
	assert.Regexp(t, `(?m)^    17 .*(results withheld.*search DocumentReference\s+withheld|search DocumentReference\s+failed)$`, s)
	assert.NotRegexp(t, `(?m)^    17 .*search DocumentReference\s+success$`, s)
	assert.NotContains(t, s, "9490000019", "NHS numbers are shown formatted or masked")

	// The log outlives the run and verifies on its own.
	log, err := audit.OpenLog(dir, audit.WithOrigin("journey.shcrkit.example"))
	require.NoError(t, err)
	defer log.Close()
	require.NoError(t, log.Verify(context.Background()))
	assert.EqualValues(t, 18, log.Size())
}

func TestJourneyOptions(t *testing.T) {
	reqFile := "requester.json" // the sample shipped beside the example
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{name: "superseded number", args: []string{"-patient", pdstest.Patients.Superseded.String()},
			want: []string{"asked for superseded number " + pdstest.Patients.Superseded.Format()}},
		{name: "another requester", args: []string{"-requester", reqFile}, want: []string{"Nurse Tom Achebe"}},
		{name: "self-claimed without reason", args: []string{"-relationship", "self-claimed"}, want: []string{"refused by relationships/self-claimed: a self-claimed relationship needs a recorded reason", "audit log verified"}},
		{name: "unknown relationship", args: []string{"-relationship", "friend"}, wantErr: "-relationship"},
		{name: "bad patient", args: []string{"-patient", "123"}, wantErr: "invalid NHS number"},
		{name: "half real", args: []string{"-pds", "https://pds.example"}, wantErr: "-pds and -nrl go together"},
		{name: "real without directory", args: []string{"-pds", "https://pds.example", "-nrl", "https://nrl.example"}, wantErr: "-directory is required"},
		{name: "bad purpose", args: []string{"-purpose", "research"}, wantErr: "not a purpose of use"},
		{name: "emergency purpose", args: []string{"-purpose", "emergency", "-relationship", "emergency", "-reason", "unconscious in ED"}, want: []string{"purpose emergency"}},
		{name: "missing policy file", args: []string{"-policy", filepath.Join(t.TempDir(), "none.yaml")}, wantErr: "none.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tt.args, &out, &errOut)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				if tt.name != "missing policy file" {
					assert.Empty(t, out.String(), "refused before anything started")
				}
				return
			}
			require.NoError(t, err, errOut.String())
			for _, w := range tt.want {
				assert.Contains(t, out.String(), w)
			}
		})
	}
}

func TestTrailKeepsLogFirst(t *testing.T) {
	failing := &trail{next: failSink{}}
	err := failing.Write(context.Background(), audit.Event{})
	require.Error(t, err)
	assert.Empty(t, failing.lines, "an event the log refused is not shown as audited")
	_ = version.SDK
}

type failSink struct{}

func (failSink) Write(context.Context, audit.Event) error { return os.ErrPermission }

// TestPolicyFileMatchesTheWorld keeps the policy shipped beside the example
// (to copy and edit) the same as the one the fake world enforces.
func TestPolicyFileMatchesTheWorld(t *testing.T) {
	b, err := os.ReadFile("policy.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(samplepolicy.WorldYAML()), string(b))

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-policy", "policy.yaml"}, &out, &out), out.String())
	assert.Contains(t, out.String(), "4 retrieved, 1 refused, 0 failed")
}

func TestJourneyWithTheExampleProvider(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-provider"}, &out, &errOut), errOut.String())
	s := out.String()
	for _, want := range []string{
		"provider Brackenfield Care Record (RBF) started behind its guard, 2 pointers published",
		"allowed by agreements/ISA-QRU-RBF-2026",
		"6 retrieved, 1 refused, 0 failed",
		"Brackenfield Care Record's own audit trail: 2 incoming requests",
	} {
		assert.Contains(t, s, want)
	}
	assert.NotContains(t, s, "no event", "every incoming request joins one of the journey's")
	assert.Equal(t, 2, strings.Count(s, "  disclose  "), "both reads recorded as disclosures")
}

// syncBuffer is a bytes.Buffer safe to read while the journey writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestJourneyServesPatientInformationAndConsole runs the journey with
// -serve and fetches what it points to: the patient information page and
// the console, whose page views land in the same audit log.
func TestJourneyServesPatientInformationAndConsole(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-serve", "127.0.0.1:0"}, &out, io.Discard) }()

	addr := regexp.MustCompile(`investigation console: +(http://127\.0\.0\.1:\d+)/console/`)
	var base string
	require.Eventually(t, func() bool {
		if m := addr.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("the journey ended before serving: %v\n%s", err, out.String())
		default:
		}
		return base != ""
	}, time.Minute, 20*time.Millisecond)
	assert.Contains(t, out.String(), "patient information page: "+base+"/patient-information")

	for path, want := range map[string]string{
		"/patient-information": "Sharing your health and care records",
		"/console/":            "Review queue",
		"/console/verify":      "intact",
	} {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, string(body), want, path)
	}
	cancel()
	require.NoError(t, <-done, "serving stops when the context ends")

	err := run(context.Background(), []string{"-serve", "192.0.2.1:80"}, io.Discard, io.Discard)
	require.ErrorContains(t, err, "loopback")
}

func TestCommandLineConventions(t *testing.T) {
	var out, errOut bytes.Buffer
	require.ErrorIs(t, run(context.Background(), []string{"-h"}, &out, &errOut), flag.ErrHelp)
	for _, want := range []string{"-purpose", "direct-care, emergency or break-glass", "-requester", "-audit-dir", "SHCRKIT_"} {
		assert.Contains(t, errOut.String(), want)
	}

	t.Setenv("SHCRKIT_PURPOSE", "research")
	out.Reset()
	err := run(context.Background(), nil, &out, &errOut)
	require.ErrorIs(t, err, shcrkit.ErrInvalidCode)
	assert.Empty(t, out.String(), "a bad purpose from the environment is refused before anything starts")
}
