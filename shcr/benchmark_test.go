package shcr_test

import (
	"context"
	"io"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/require"
)

// countingSink validates events as a sink would and counts them, so that
// a benchmark's audit trail costs what a fast sink costs and does not
// grow without bound.
type countingSink struct{ n atomic.Int64 }

func (s *countingSink) Write(_ context.Context, e audit.Event) error {
	if _, err := e.Normalize(time.Now()); err != nil {
		return err
	}
	s.n.Add(1)
	return nil
}

// fiveCustodians files one care plan for the patient at each of the
// world's five regions and returns the request for them.
func fiveCustodians(b *testing.B, w *shcrtest.World) shcr.Request {
	nhs := pdstest.Patients.Minimal
	for _, r := range w.Regions {
		_, err := w.AddPointer(nrls.PointerSpec{NHSNumber: nhs, Custodian: r.Custodian(), Type: nrls.TypeContingencyPlan})
		require.NoError(b, err)
	}
	return encounter(w, nhs)
}

func drain(b *testing.B, res *shcr.Result) {
	for _, r := range res.Records {
		if r.Body != nil {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				b.Fatal(err)
			}
		}
	}
	res.Close()
}

// sequentialJourney does the journey's steps one after another, with the
// same clients, decisions and audit writes: trace, decide, search, then
// for each pointer decide, fetch and record. It returns the total time
// and the critical path of the parallel journey measured on the way: the
// slower of the PDS trace and the NRL search (the journey runs them side
// by side) and then the slowest retrieval.
func sequentialJourney(ctx context.Context, b *testing.B, w *shcrtest.World, cfg shcr.Config, remote *shcr.Remote, req shcr.Request) (total, critical time.Duration) {
	ev := func(action audit.Action, service audit.Service) audit.Event {
		return audit.Event{Time: time.Now(), Requester: req.Requester, Action: action, Service: service,
			Patient: req.NHSNumber, Purpose: req.Purpose, Outcome: audit.OutcomeSuccess}
	}
	start := time.Now()
	t := time.Now()
	p, err := cfg.PDS.Get(ctx, req.NHSNumber)
	if err != nil {
		b.Fatal(err)
	}
	tracing := time.Since(t)
	patient := rbac.Subject{NHSNumber: p.NHSNumber()}
	cfg.Policy.Decide(rbac.Request{Requester: req.Requester, Patient: patient, Relationship: req.Relationship, Purpose: req.Purpose})
	for _, e := range []audit.Event{ev(audit.ActionRead, audit.ServicePDS), ev(audit.ActionSearch, audit.ServiceNRL)} {
		if err := cfg.Audit.Write(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	t = time.Now()
	ptrs, err := cfg.NRL.Search(ctx, p.NHSNumber())
	if err != nil {
		b.Fatal(err)
	}
	searching := time.Since(t)
	if err := cfg.Audit.Write(ctx, ev(audit.ActionSearch, audit.ServiceNRL)); err != nil {
		b.Fatal(err)
	}
	var slowest time.Duration
	for _, ptr := range ptrs {
		d := cfg.Policy.Decide(rbac.Request{Requester: req.Requester, Patient: patient, Relationship: req.Relationship,
			Purpose: req.Purpose, Custodian: ptr.Custodian, RecordType: ptr.Type.Code})
		if !d.Allowed {
			b.Fatalf("pointer %s refused: %s", ptr.ID, d)
		}
		if err := cfg.Audit.Write(ctx, ev(audit.ActionRead, audit.ServiceShCR)); err != nil {
			b.Fatal(err)
		}
		t = time.Now()
		c, err := remote.Fetch(ctx, shcr.FetchRequest{Requester: req.Requester, Purpose: req.Purpose, Pointer: ptr})
		if err != nil {
			b.Fatal(err)
		}
		if c.Body != nil {
			if _, err := io.Copy(io.Discard, c.Body); err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
		slowest = max(slowest, time.Since(t))
		if err := cfg.Audit.Write(ctx, ev(audit.ActionRead, audit.ServiceShCR)); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start), max(tracing, searching) + slowest
}

// BenchmarkRecordsLatency runs the journey with 20 ms of latency on every
// remote call (PDS, NRL and five regional ShCRs, one pointer each) and,
// in the same loop, the same steps one after another. It reports the
// journey's time against the critical path (the slower of PDS and NRL,
// which run side by side, plus the slowest retrieval, measured in the
// sequential run) and the speed-up over the sequential steps. Access
// tokens are cached after the warm-up.
func BenchmarkRecordsLatency(b *testing.B) {
	const latency = 20 * time.Millisecond
	w := newWorld(b)
	req := fiveCustodians(b, w)
	w.SetLatency(latency)
	sink := &countingSink{}
	c := newJourney(b, w, sink)
	cfg, err := w.Config(sink)
	require.NoError(b, err)
	remote, err := shcr.NewRemote(w.Directory, shcr.RemoteConfig{})
	require.NoError(b, err)
	// The sequential steps call PDS and the NRL directly, as the
	// requester's session.
	ctx := shcrkit.WithSession(context.Background(), shcrkit.Session{ID: "bench-session", UserID: req.Requester.UserID, Organisation: req.Requester.Organisation, RoleProfileID: req.Requester.RoleProfileID})

	// Warm up: tokens fetched and cached, connections and TLS sessions
	// open, for both ways alike.
	res, err := c.Records(ctx, req)
	require.NoError(b, err)
	require.Len(b, res.Records, 5, "five records at five custodians")
	drain(b, res)
	sequentialJourney(ctx, b, w, cfg, remote, req)

	var recordsTime, sequentialTime, criticalPath time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		res, err := c.Records(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		drain(b, res)
		recordsTime += time.Since(start)
		if len(res.Records) != 5 {
			b.Fatalf("%d records, want 5", len(res.Records))
		}
		seq, crit := sequentialJourney(ctx, b, w, cfg, remote, req)
		sequentialTime += seq
		criticalPath += crit
		n++
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(n) / float64(time.Millisecond) }
	b.ReportMetric(per(recordsTime), "records-ms")
	b.ReportMetric(per(sequentialTime), "sequential-ms")
	b.ReportMetric(per(criticalPath), "critical-path-ms")
	b.ReportMetric(float64(recordsTime)/float64(criticalPath), "x-critical-path")
	b.ReportMetric(float64(sequentialTime)/float64(recordsTime), "x-speedup")
}

// BenchmarkJourneys runs whole journeys against the world with no added
// latency: five records at five custodians, every step audited. The
// claimed encounter is verified against the department's records held in
// memory (verified), through FHIREvidence asking a local FHIR server over
// loopback HTTP (verified-fhir), or not at all (unverified): the
// differences are the cost of verification.
func BenchmarkJourneys(b *testing.B) {
	w := newWorld(b)
	req := fiveCustodians(b, w)
	require.NoError(b, w.Evidence.Add(shcr.Evidence{Kind: shcrkit.RelationshipEncounter, Reference: "Encounter/bench-1",
		Patient: req.NHSNumber, Organisations: []shcrkit.ODSCode{w.Requester.Organisation}, Status: "in-progress", Active: true}))
	req.Relationship.Evidence = "Encounter/bench-1"
	fhirServer := httptest.NewServer(w.Evidence.Handler())
	b.Cleanup(fhirServer.Close)
	viaFHIR, err := shcr.NewFHIREvidence(fhirServer.URL, fhirServer.Client())
	require.NoError(b, err)
	for _, v := range []struct {
		name     string
		verifier shcr.RelationshipVerifier
		want     rbac.VerificationStatus
	}{
		{"verified", shcr.StandardVerifiers(w.Policy, w.Evidence), rbac.VerificationVerified},
		{"verified-fhir", shcr.StandardVerifiers(w.Policy, viaFHIR), rbac.VerificationVerified},
		{"unverified", nil, rbac.VerificationNone},
	} {
		b.Run(v.name, func(b *testing.B) {
			c := newJourney(b, w, &countingSink{}, func(cfg *shcr.Config) { cfg.Relationships = v.verifier })
			ctx := context.Background()
			res, err := c.Records(ctx, req)
			require.NoError(b, err)
			require.Equal(b, v.want, res.Boundary.Verification.Status, res.Boundary.Verification.String())
			drain(b, res)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				res, err := c.Records(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Records) != 5 {
					b.Fatalf("%d records, want 5", len(res.Records))
				}
				drain(b, res)
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "journeys/s")
		})
	}
}

// BenchmarkRelationshipVerification measures the verification step on
// its own: a registered relationship judged from the PDS record (no I/O),
// an encounter looked up in memory, and one looked up through
// FHIREvidence over loopback HTTP.
func BenchmarkRelationshipVerification(b *testing.B) {
	store, err := shcrtest.NewEvidenceStore(shcr.Evidence{Kind: shcrkit.RelationshipEncounter, Reference: "Encounter/enc-1",
		Patient: lrPatient, Organisations: []shcrkit.ODSCode{lrOrg}, Status: "in-progress", Active: true})
	require.NoError(b, err)
	srv := httptest.NewServer(store.Handler())
	b.Cleanup(srv.Close)
	viaFHIR, err := shcr.NewFHIREvidence(srv.URL, srv.Client())
	require.NoError(b, err)
	for _, tc := range []struct {
		name  string
		v     shcr.RelationshipVerifier
		claim shcr.RelationshipClaim
	}{
		{"registered", shcr.StandardVerifiers(pcnSites, store), claim(shcrkit.RelationshipRegistered, "")},
		{"encounter-in-memory", shcr.StandardVerifiers(pcnSites, store), claim(shcrkit.RelationshipEncounter, "Encounter/enc-1")},
		{"encounter-fhir", shcr.StandardVerifiers(pcnSites, viaFHIR), claim(shcrkit.RelationshipEncounter, "Encounter/enc-1")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				v, err := tc.v.VerifyRelationship(ctx, tc.claim)
				if err != nil || v.Status != rbac.VerificationVerified {
					b.Fatalf("%v %v", v, err)
				}
			}
		})
	}
}
