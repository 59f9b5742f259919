package shcr_test

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// custodianKestrel is the world's fifth region (Kestrel Sound), which has
// no seed pointers.
const custodianKestrel shcrkit.ODSCode = "RKS"

func newWorld(t testing.TB) *shcrtest.World {
	t.Helper()
	w, err := shcrtest.NewWorld()
	require.NoError(t, err)
	t.Cleanup(w.Close)
	return w
}

func newJourney(t testing.TB, w *shcrtest.World, sink audit.Sink, edit ...func(*shcr.Config)) *shcr.Client {
	t.Helper()
	c, err := w.Client(sink, edit...)
	require.NoError(t, err)
	return c
}

func encounter(w *shcrtest.World, nhs shcrkit.NHSNumber) shcr.Request {
	return shcr.Request{Requester: w.Requester, NHSNumber: nhs, Purpose: shcrkit.PurposeDirectCare,
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipEncounter, Evidence: "ED-ATTENDANCE-20260601-0042"}}
}

func ids(recs []*shcr.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Pointer.ID)
	}
	return out
}

func regionRequests(w *shcrtest.World) int {
	n := 0
	for _, r := range w.Regions {
		n += len(r.Requests())
	}
	return n
}

func TestRecordsFullJourney(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rec := audittest.NewRecorder()
	c := newJourney(t, w, rec)
	ctx := shcrkit.WithCorrelationID(context.Background(), "journey-0001")
	res, err := c.Records(ctx, encounter(w, pdstest.Patients.Normal))
	require.NoError(t, err)
	defer res.Close()

	assert.Equal(t, pdstest.Patients.Normal, res.Patient.NHSNumber)
	assert.Empty(t, res.Patient.Superseded)
	require.NotNil(t, res.Patient.Record)
	assert.True(t, res.Boundary.Allowed)
	assert.Equal(t, []string{"RNR-000001", "RNR-000002", "RWV-000003", "RNR-000005"}, ids(res.Records))
	require.Len(t, res.Refused, 1)
	assert.Equal(t, "RFC-000004", res.Refused[0].Pointer.ID)
	assert.Contains(t, res.Refused[0].Decision.Reason(), "very restricted")
	assert.Empty(t, res.Failures)
	assert.Len(t, res.Pointers, 4)
	assert.Equal(t, "journey-0001", res.CorrelationID)

	for _, r := range res.Records {
		switch r.ContentType {
		case "application/pdf":
			require.NotNil(t, r.Body)
			b, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(string(b), "%PDF-"))
		case "application/fhir+json":
			assert.Equal(t, "Bundle", r.ResourceType)
			assert.Equal(t, 3, r.Pages)
			var b struct{ Entry []json.RawMessage }
			require.NoError(t, json.Unmarshal(r.Resource, &b))
			assert.Len(t, b.Entry, 7)
		default:
			t.Errorf("unexpected content type %s", r.ContentType)
		}
		assert.True(t, r.ValidUntil.IsZero(), "an encounter carries no time box")
		assert.NotEmpty(t, r.RequestID)
	}
	assert.True(t, res.Records[0].ViaSSP)

	events := rec.Events()
	// One event per request sent (PDS 1, NRL 1, retrievals 4, the
	// Bundle's two later pages 2) and one per decision made (the boundary
	// and five pointers).
	require.Len(t, events, 14)
	requireSentPlusDecided(t, w, events)
	assert.Equal(t, []string{
		"pds trace Patient/9490000019 success",
		"boundary decision success",
		"nrl search DocumentReference success",
	}, steps(events[:3]))
	decisions, retrievals := map[string]audit.Event{}, map[string]audit.Event{}
	for i, e := range events {
		assert.Equal(t, pdstest.Patients.Normal, e.Patient)
		assert.Equal(t, "journey-0001", e.CorrelationID)
		assert.Equal(t, w.Requester.UserID, e.Requester.UserID)
		assert.Equal(t, shcrkit.PurposeDirectCare, e.Purpose)
		assert.Equal(t, shcrkit.RelationshipEncounter, e.Relationship)
		assert.Equal(t, "ED-ATTENDANCE-20260601-0042", e.RelationshipEvidence)
		assert.NotEmpty(t, e.ClientAddress)
		switch stepOf(e) {
		case stepDecision:
			decisions[resourceID(e)] = e
			assert.NotEmpty(t, e.Rule)
			assert.Equal(t, w.Policy.Name(), e.Policy)
		case stepRetrieval:
			if _, ok := retrievals[resourceID(e)]; !ok {
				retrievals[resourceID(e)] = e
			}
			assert.NotEmpty(t, e.RequestID)
			assert.NotEmpty(t, e.Endpoint)
			assert.NotEmpty(t, e.ServerAddress)
			assert.Greater(t, i, 2)
		}
	}
	assert.Len(t, decisions, 5)
	assert.Equal(t, audit.OutcomeRefused, decisions["RFC-000004"].Outcome)
	assert.Equal(t, audit.ServiceShCR, decisions["RFC-000004"].Service)
	assert.Equal(t, shcrkit.ConfidentialityVeryRestricted, decisions["RFC-000004"].Confidentiality, "the record's label")
	assert.Len(t, retrievals, 4)
	for _, r := range res.Records {
		e := retrievals[r.Pointer.ID]
		assert.Equal(t, audit.OutcomeSuccess, e.Outcome)
		assert.Equal(t, r.RequestID, e.RequestID)
		assert.Equal(t, r.Pointer.Custodian, e.Custodian)
		assert.Less(t, decisions[r.Pointer.ID].Seq, e.Seq, "the decision is recorded before the retrieval")
		assert.Equal(t, decisions[r.Pointer.ID].DecisionID, e.DecisionID, "a retrieval names the decision that authorised it")
	}
	assert.Equal(t, "subject:identifier=https://fhir.nhs.uk/Id/nhs-number|{patient}", events[2].Query)
	require.NoError(t, rec.Check(), "every event meets the audit practice")

	// The refused pointer's custodian was never asked.
	assert.Empty(t, w.Region(nrlstest.CustodianEast).Requests())
	// Every region saw the requester in its identity token.
	for _, r := range w.Regions {
		for _, id := range r.Identities() {
			assert.Equal(t, w.Requester.UserID, id.Subject)
			assert.Equal(t, w.Requester.UserID, id.Requester.UserID)
			assert.Equal(t, w.Requester.Organisation, id.Requester.Organisation)
			assert.Equal(t, shcrkit.PurposeDirectCare, id.Purpose)
			assert.False(t, id.Restricted, "normal scope")
		}
	}
}

func TestRecordsSearchesNRLAlongsidePDS(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const latency = 300 * time.Millisecond
	c := newJourney(t, w, audittest.NewRecorder())
	w.PDS.InjectFault("", "", -1, pdstest.Fault{Latency: latency})

	_, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
	require.NoError(t, err)
	pdsReq, nrlReq := w.PDS.Requests()[0], w.NRL.Requests()[0]
	assert.True(t, nrlReq.Time.Before(pdsReq.Time.Add(latency)),
		"with the NHS number known, the NRL is searched while PDS is still answering")

	w.PDS.ResetRequests()
	w.NRL.ResetRequests()
	req := encounter(w, "")
	req.Demographics = &pds.SearchQuery{Family: pdstest.SharedSurname, Given: []string{"Amelia"}, BirthDate: pds.DateRange{From: "1984-03-14", To: "1984-03-14"}}
	res, err := c.Records(context.Background(), req)
	require.NoError(t, err)
	res.Close()
	assert.Equal(t, pdstest.Patients.Normal, res.Patient.NHSNumber)
	pdsReq, nrlReq = w.PDS.Requests()[0], w.NRL.Requests()[0]
	assert.False(t, nrlReq.Time.Before(pdsReq.Time.Add(latency)),
		"without an NHS number, the NRL is searched once PDS has answered")
}

func TestRecordsFollowsSupersededNumber(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rec := audittest.NewRecorder()
	c := newJourney(t, w, rec)
	res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Superseded))
	require.NoError(t, err)
	defer res.Close()
	assert.Equal(t, pdstest.Patients.Surviving, res.Patient.NHSNumber)
	assert.Equal(t, pdstest.Patients.Superseded, res.Patient.Superseded)
	for _, r := range append(res.Records, nil) {
		if r != nil {
			assert.Equal(t, pdstest.Patients.Surviving, r.Pointer.NHSNumber)
		}
	}
	assert.Equal(t, []string{"RWV-000011", "RMH-000012"}, ids(res.Records))

	var searches []audit.Event
	for _, e := range rec.Events() {
		if stepOf(e) == stepSearch {
			searches = append(searches, e)
		}
	}
	require.Len(t, searches, 2, "the early search and the fresh one are both recorded")
	assert.Equal(t, pdstest.Patients.Superseded, searches[0].Patient)
	assert.Contains(t, searches[0].Reason, "superseded")
	assert.Equal(t, pdstest.Patients.Surviving, searches[1].Patient)
	require.NoError(t, rec.Check())
	// The early search is cancelled once PDS names the surviving number; it
	// may or may not have reached the NRL by then, and is recorded either
	// way, so it may even reach the NRL after the fresh search.
	reqs := w.NRL.Requests()
	require.NotEmpty(t, reqs)
	searched := false
	for _, r := range reqs {
		searched = searched || strings.Contains(string(r.Body), string(pdstest.Patients.Surviving))
	}
	assert.True(t, searched, "the NRL was searched for the surviving number")
}

func TestRecordsRefusals(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	admin := w.Requester
	admin.RoleCode, admin.Activities = "S8000:G8000:R8006", nil
	tests := []struct {
		name     string
		req      func() shcr.Request
		boundary bool // refused at the boundary
		reason   string
	}{
		{"no relationship", func() shcr.Request {
			r := encounter(w, pdstest.Patients.Normal)
			r.Relationship = rbac.Relationship{}
			return r
		}, true, "no legitimate relationship"},
		{"recorded dissent", func() shcr.Request {
			r := encounter(w, pdstest.Patients.Normal)
			r.Dissent = true
			return r
		}, true, "dissent"},
		{"very restricted patient", func() shcr.Request { return encounter(w, pdstest.Patients.VeryRestricted) }, true, "very restricted"},
		{"organisation outside the local ShCR", func() shcr.Request {
			r := encounter(w, pdstest.Patients.Normal)
			r.Requester.Organisation = "RX9"
			return r
		}, true, "not a member"},
		{"self-claimed without a reason", func() shcr.Request {
			r := encounter(w, pdstest.Patients.Normal)
			r.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipSelfClaimed}
			return r
		}, true, "needs a recorded reason"},
		{"role lacks the categories", func() shcr.Request {
			r := encounter(w, pdstest.Patients.Normal)
			r.Requester = admin
			return r
		}, false, "lacks category"},
		{"agreement does not cover the purpose", func() shcr.Request {
			r := encounter(w, pdstest.Patients.Surviving)
			r.Purpose = shcrkit.PurposeEmergency
			return r
		}, false, "does not cover purpose"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := audittest.NewRecorder()
			c := newJourney(t, w, rec)
			before := regionRequests(w)
			res, err := c.Records(context.Background(), tt.req())
			if tt.boundary {
				require.ErrorIs(t, err, shcr.ErrRefused)
				require.ErrorIs(t, err, shcrkit.ErrForbidden)
				var re *shcr.RefusedError
				require.ErrorAs(t, err, &re)
				assert.Contains(t, re.Decision.Reason(), tt.reason)
				assert.Nil(t, res)
				got := steps(rec.Events())
				require.GreaterOrEqual(t, len(got), 2)
				assert.Contains(t, got[1], "boundary decision refused")
				for _, e := range rec.Events() {
					if stepOf(e) == stepSearch {
						assert.Contains(t, e.Reason, "withheld", "an early search is recorded, its results withheld")
					}
				}
			} else {
				require.NoError(t, err)
				require.NotEmpty(t, res.Refused)
				found := false
				for _, r := range res.Refused {
					if strings.Contains(r.Decision.Reason(), tt.reason) {
						found = true
					}
				}
				assert.True(t, found, "a refusal says %q", tt.reason)
				refused := 0
				for _, e := range rec.Events() {
					if stepOf(e) == stepDecision && e.Outcome == audit.OutcomeRefused {
						refused++
						assert.Equal(t, "ACCESS_DENIED", e.ErrorCode)
					}
				}
				assert.Equal(t, len(res.Refused), refused)
				res.Close()
			}
			require.NoError(t, rec.Check())
			if tt.boundary {
				assert.Equal(t, before, regionRequests(w), "nothing is retrieved after a refusal at the boundary")
			}
		})
	}
}

func TestRecordsObligations(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	selfClaimed := func() shcr.Request {
		r := encounter(w, pdstest.Patients.Normal)
		r.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipSelfClaimed, Reason: "Patient asked me to review their plan by phone"}
		return r
	}

	t.Run("alert needed but no hook", func(t *testing.T) {
		before := regionRequests(w)
		_, err := newJourney(t, w, audittest.NewRecorder()).Records(context.Background(), selfClaimed())
		require.ErrorIs(t, err, shcr.ErrObligation)
		assert.Equal(t, before, regionRequests(w))
	})

	t.Run("alert sent once, records time-boxed", func(t *testing.T) {
		var mu sync.Mutex
		var alerts []shcr.Alert
		rec := audittest.NewRecorder()
		c := newJourney(t, w, rec, func(cfg *shcr.Config) {
			cfg.Alert = func(_ context.Context, a shcr.Alert) error {
				mu.Lock()
				alerts = append(alerts, a)
				mu.Unlock()
				return nil
			}
		})
		res, err := c.Records(context.Background(), selfClaimed())
		require.NoError(t, err)
		defer res.Close()
		require.Len(t, alerts, 1)
		assert.Equal(t, "B0016", alerts[0].Activity)
		assert.Equal(t, pdstest.Patients.Normal, alerts[0].Patient)
		assert.NotEmpty(t, res.Records)
		assert.False(t, res.ValidUntil.IsZero())
		for _, r := range res.Records {
			assert.False(t, r.ValidUntil.IsZero(), "self-claimed access is time-boxed")
		}
		for _, e := range rec.Events() {
			assert.Equal(t, shcrkit.RelationshipSelfClaimed, e.Relationship)
			if stepOf(e) == stepDecision && e.Outcome == audit.OutcomeSuccess {
				assert.Contains(t, e.Reason, "enhanced audit")
			}
		}
		require.NoError(t, rec.Check())
	})

	t.Run("alert not delivered", func(t *testing.T) {
		c := newJourney(t, w, audittest.NewRecorder(), func(cfg *shcr.Config) {
			cfg.Alert = func(context.Context, shcr.Alert) error { return errors.New("mail relay down") }
		})
		_, err := c.Records(context.Background(), selfClaimed())
		require.ErrorIs(t, err, shcr.ErrObligation)
		assert.Contains(t, err.Error(), "mail relay down")
	})

	t.Run("restricted patient: fields redacted, documents withheld", func(t *testing.T) {
		p, err := w.AddPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Restricted, Custodian: nrlstest.CustodianSouth,
			Type: nrls.TypeSummaryRecord, Format: nrls.FormatStructured})
		require.NoError(t, err)
		rec := audittest.NewRecorder()
		res, err := newJourney(t, w, rec).Records(context.Background(), encounter(w, pdstest.Patients.Restricted))
		require.NoError(t, err)
		defer res.Close()
		assert.Equal(t, shcrkit.ConfidentialityRestricted, res.Patient.Confidentiality)
		require.Len(t, res.Records, 1)
		r := res.Records[0]
		assert.Equal(t, p.ID, r.Pointer.ID)
		assert.ElementsMatch(t, []string{"address", "telecom", "contacts", "general-practitioner"}, r.Redacted)
		for _, field := range []string{`"address"`, `"telecom"`, `"contact"`, `"generalPractitioner"`} {
			assert.NotContains(t, string(r.Resource), field)
		}
		assert.Contains(t, string(r.Resource), `"Condition"`, "the clinical content is kept")
		// The PDF and the HTML page cannot be redacted: withheld, never fetched.
		require.Len(t, res.Failures, 2)
		for _, f := range res.Failures {
			require.ErrorIs(t, f, shcr.ErrObligation)
		}
		for _, id := range w.Region(nrlstest.CustodianSouth).Identities() {
			if id.PointerID == p.ID {
				assert.True(t, id.Restricted, "restricted scope")
			}
		}
		withheld := 0
		for _, e := range rec.Events() {
			if stepOf(e) == stepRetrieval && e.ErrorCode == "OBLIGATION_NOT_HONOURED" {
				withheld++
				assert.Equal(t, audit.OutcomeRefused, e.Outcome)
			}
		}
		assert.Equal(t, 2, withheld)
		require.NoError(t, rec.Check())
	})
}

func TestRecordsNeverConnectsOutsideTheDirectory(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	stranger := untouchable(t)
	p, err := w.AddPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Minimal, Custodian: custodianKestrel,
		Type: nrls.TypeContingencyPlan, URL: strings.Replace(stranger, "http://", "https://", 1) + "/records/RKS-stolen", LocalID: "stolen"})
	require.NoError(t, err)
	_, err = w.AddPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Minimal, Custodian: nrlstest.CustodianNorth, Type: nrls.TypeContingencyPlan})
	require.NoError(t, err)
	rec := audittest.NewRecorder()
	res, err := newJourney(t, w, rec).Records(context.Background(), encounter(w, pdstest.Patients.Minimal))
	require.NoError(t, err)
	defer res.Close()
	require.Len(t, res.Records, 1, "the other custodian's record still comes back")
	require.Len(t, res.Failures, 1)
	assert.Equal(t, p.ID, res.Failures[0].Pointer.ID)
	require.ErrorIs(t, res.Failures[0], shcr.ErrHostNotAllowed)
	for _, cand := range res.Pointers {
		if cand.Pointer.ID == p.ID {
			require.ErrorIs(t, cand.Unavailable, shcr.ErrHostNotAllowed)
		}
	}
	var refused []audit.Event
	for _, e := range rec.Events() {
		if stepOf(e) == stepRetrieval && e.Outcome == audit.OutcomeRefused {
			refused = append(refused, e)
		}
	}
	require.Len(t, refused, 1)
	assert.Equal(t, "HOST_NOT_ALLOWED", refused[0].ErrorCode)
	assert.Contains(t, refused[0].Reason, "refused before any connection")
	require.NoError(t, rec.Check())
}

func TestRecordsHangingShCRDoesNotHoldUpTheOthers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Region(nrlstest.CustodianSouth).InjectFault(http.MethodGet, "", -1, shcrtest.Fault{Hang: true})
	rec := audittest.NewRecorder()
	// Only the hanging custodian has a short timeout of its own; every
	// other retrieval has a minute, far more than a loaded machine needs,
	// so that the outcome does not depend on how fast the others answer.
	// The hang holds up nothing: the journey returns once its timeout
	// ends it, with the others' records (it would not return at all if a
	// hang held the others up, since the hang never ends by itself).
	c := newJourney(t, w, rec, func(cfg *shcr.Config) {
		cfg.Timeout = time.Minute
		cfg.Directory = withEndpointTimeout(t, w, nrlstest.CustodianSouth, time.Second)
	})
	res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
	require.NoError(t, err)
	defer res.Close()
	assert.Equal(t, []string{"RNR-000001", "RNR-000002", "RNR-000005"}, ids(res.Records))
	require.Len(t, res.Failures, 1)
	assert.Equal(t, nrlstest.CustodianSouth, res.Failures[0].Custodian)
	require.ErrorIs(t, res.Failures[0], context.DeadlineExceeded)
	require.ErrorIs(t, res.Failures[0], shcrkit.ErrUnavailable)
	failed := 0
	for _, e := range rec.Events() {
		if stepOf(e) == stepRetrieval && e.Outcome == audit.OutcomeFailed {
			failed++
			assert.Equal(t, "TIMEOUT", e.ErrorCode)
			assert.Equal(t, nrlstest.CustodianSouth, e.Custodian)
		}
	}
	assert.Equal(t, 1, failed)
	require.NoError(t, rec.Check())
}

func TestRecordsFailingAuditWithholdsData(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	t.Run("retrieval events fail", func(t *testing.T) {
		rec := audittest.NewRecorder()
		c := newJourney(t, w, failingSink{next: rec, fail: failStep(stepRetrieval)})
		res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
		require.NoError(t, err)
		assert.Empty(t, res.Records, "no record whose retrieval was not recorded is handed back")
		require.Len(t, res.Failures, 4)
		for _, f := range res.Failures {
			require.ErrorIs(t, f, shcr.ErrAudit)
			var ae *shcr.AuditError
			require.ErrorAs(t, f, &ae)
			assert.Equal(t, stepRetrieval, ae.Step)
			assert.Contains(t, f.Error(), "audit store unreachable")
		}
	})
	for _, step := range []string{stepTrace, stepBoundary, stepSearch} {
		t.Run(step+" event fails", func(t *testing.T) {
			before := regionRequests(w)
			c := newJourney(t, w, failingSink{next: audittest.NewRecorder(), fail: failStep(step)})
			res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
			require.ErrorIs(t, err, shcr.ErrAudit)
			assert.Nil(t, res)
			assert.Equal(t, before, regionRequests(w))
			_, err = c.Discover(context.Background(), encounter(w, pdstest.Patients.Normal))
			require.ErrorIs(t, err, shcr.ErrAudit)
		})
	}
	t.Run("the sink is down", func(t *testing.T) {
		rec := audittest.NewRecorder()
		rec.FailWith(errors.New("disk full"))
		before := regionRequests(w)
		res, err := newJourney(t, w, rec).Records(context.Background(), encounter(w, pdstest.Patients.Normal))
		require.ErrorIs(t, err, shcr.ErrAudit)
		assert.Contains(t, err.Error(), "disk full")
		assert.Nil(t, res)
		assert.Equal(t, before, regionRequests(w))
	})
	t.Run("decision events fail", func(t *testing.T) {
		c := newJourney(t, w, failingSink{next: audittest.NewRecorder(), fail: failStep(stepDecision)})
		_, err := c.Discover(context.Background(), encounter(w, pdstest.Patients.Normal))
		require.ErrorIs(t, err, shcr.ErrAudit)
		before := regionRequests(w)
		res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
		require.NoError(t, err)
		assert.Empty(t, res.Records)
		assert.Empty(t, res.Refused, "a refusal that was not recorded is not shown either")
		assert.Empty(t, res.Pointers, "nor is an allowance that was not recorded")
		assert.Len(t, res.Failures, 5)
		assert.Equal(t, before, regionRequests(w), "nothing is fetched before its decision is recorded")
	})
}

func TestDiscoverFetchesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rec := audittest.NewRecorder()
	c := newJourney(t, w, rec)
	d, err := c.Discover(context.Background(), encounter(w, pdstest.Patients.Normal))
	require.NoError(t, err)
	assert.Len(t, d.Pointers, 4)
	assert.Len(t, d.Refused, 1)
	for _, cand := range d.Pointers {
		assert.NoError(t, cand.Unavailable)
		assert.True(t, cand.Decision.Allowed)
	}
	assert.Zero(t, regionRequests(w))
	got := steps(rec.Events())
	assert.Len(t, got, 8)
	for _, s := range got {
		assert.NotContains(t, s, stepRetrieval)
	}
	require.NoError(t, rec.Check())
}

func TestRetrieveOnePointer(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rec := audittest.NewRecorder()
	c := newJourney(t, w, rec)
	ptrs := w.NRL.Pointers(pdstest.Patients.Normal)
	r, err := c.Retrieve(context.Background(), encounter(w, pdstest.Patients.Normal), ptrs[1])
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, "Bundle", r.ResourceType)
	assert.Equal(t, []string{
		"pds trace Patient/9490000019 success",
		"boundary decision success",
		"record decision DocumentReference/RNR-000002 success",
		"retrieval DocumentReference/RNR-000002 success",
		"retrieval DocumentReference/RNR-000002 success", // the Bundle's second page
		"retrieval DocumentReference/RNR-000002 success", // and its third
	}, steps(rec.Events()))

	_, err = c.Retrieve(context.Background(), encounter(w, pdstest.Patients.Normal), ptrs[3])
	require.ErrorIs(t, err, shcr.ErrRefused)
	var re *shcr.RefusedError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "RFC-000004", re.PointerID)

	other := w.NRL.Pointers(pdstest.Patients.Surviving)[0]
	_, err = c.Retrieve(context.Background(), encounter(w, pdstest.Patients.Normal), other)
	require.ErrorIs(t, err, shcr.ErrRefused, "a pointer for another patient is refused")
	assert.Contains(t, err.Error(), "not for the traced patient")
	assert.NotContains(t, err.Error(), string(pdstest.Patients.Normal))
	require.NoError(t, rec.Check())
}

func TestTraceFailures(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tests := []struct {
		name string
		req  func() shcr.Request
		want error
	}{
		{"unknown number", func() shcr.Request { return encounter(w, pdstest.Patients.Unknown) }, shcr.ErrPatientNotFound},
		{"invalidated number", func() shcr.Request { return encounter(w, pdstest.Patients.Invalidated) }, shcrkit.ErrInvalidated},
		{"ambiguous demographics", func() shcr.Request {
			r := encounter(w, "")
			r.Demographics = &pds.SearchQuery{Family: pdstest.SharedSurname, BirthDate: pds.DateRange{From: "1984-03-14", To: "1984-03-14"}}
			return r
		}, shcr.ErrPatientNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := audittest.NewRecorder()
			_, err := newJourney(t, w, rec).Records(context.Background(), tt.req())
			require.ErrorIs(t, err, tt.want)
			got := rec.Events()
			require.NotEmpty(t, got)
			assert.Equal(t, stepTrace, stepOf(got[0]))
			assert.Equal(t, audit.OutcomeFailed, got[0].Outcome)
			for _, e := range got[1:] {
				assert.Equal(t, stepSearch, stepOf(e), "only the early search follows a failed trace")
				assert.Contains(t, e.Reason, "withheld")
			}
			require.NoError(t, rec.Check())
		})
	}
}

func TestRequestAndConfigChecks(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := newJourney(t, w, audittest.NewRecorder())
	bad := []shcr.Request{
		{Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare},
		{Requester: w.Requester, NHSNumber: "9490000010", Purpose: shcrkit.PurposeDirectCare},
		{Requester: w.Requester, NHSNumber: pdstest.Patients.Normal},
		{Requester: shcrkit.Requester{}, NHSNumber: pdstest.Patients.Normal, Purpose: shcrkit.PurposeDirectCare},
		{Requester: w.Requester, NHSNumber: pdstest.Patients.Normal, Purpose: shcrkit.PurposeDirectCare, RecordTypes: []string{""}},
	}
	for _, r := range bad {
		_, err := c.Records(context.Background(), r)
		require.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	}
	assert.Empty(t, w.PDS.Requests())

	_, err := shcr.New(shcr.Config{})
	require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
	cfg, err := w.Config(audittest.NewRecorder())
	require.NoError(t, err)
	cfg.Parallelism = -1
	_, err = shcr.New(cfg)
	require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
}

// withParallelism rebuilds the world's directory with custodian's
// endpoint bounded to n requests at once.
func withParallelism(t *testing.T, w *shcrtest.World, custodian shcrkit.ODSCode, n int) *shcr.Directory {
	t.Helper()
	eps := w.Directory.Endpoints()
	for i := range eps {
		if slices.Contains(eps[i].Custodians, custodian) {
			eps[i].Parallelism = n
		}
	}
	ssp, _ := w.Directory.SSP()
	d, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: eps, SSP: &ssp})
	require.NoError(t, err)
	return d
}

func TestRecordsParallelismBoundIsPerEndpoint(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const latency = 100 * time.Millisecond
	busy, other := w.Regions[0], w.Regions[1]
	for range 4 {
		_, err := w.AddPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Minimal, Custodian: busy.Custodian(), Type: nrls.TypeContingencyPlan})
		require.NoError(t, err)
	}
	_, err := w.AddPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Minimal, Custodian: other.Custodian(), Type: nrls.TypeContingencyPlan})
	require.NoError(t, err)
	// The busy endpoint answers after the latency (and records a request
	// when it answers), so serial requests are recorded a latency apart.
	busy.SetLatency(latency)
	// No request leaves for the busy endpoint until one has left for the
	// other: with the bound per endpoint the other's request goes out
	// while the busy one's first waits; with a global bound of one the
	// waiting request would hold the only place, and nothing would move
	// until the deadline below.
	otherSent := make(chan struct{})
	var once sync.Once
	gate := func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			switch u := r.URL.String(); {
			case strings.HasPrefix(u, other.URL):
				once.Do(func() { close(otherSent) })
			case strings.HasPrefix(u, busy.URL):
				select {
				case <-otherSent:
				case <-r.Context().Done():
					return nil, r.Context().Err()
				}
			}
			return next.RoundTrip(r)
		})
	}
	dir := withParallelism(t, w, busy.Custodian(), 1)
	c := newJourney(t, w, audittest.NewRecorder(), func(cfg *shcr.Config) {
		cfg.Directory = dir
		cfg.Remote.WrapTransport = gate
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := c.Records(ctx, encounter(w, pdstest.Patients.Minimal))
	require.NoError(t, err)
	require.Empty(t, res.Failures, "the two custodians' requests were not sent side by side")
	require.Len(t, res.Records, 5)
	for _, r := range res.Records {
		// Four records at an endpoint bounded to one: read in, not
		// streamed, so that each frees its place.
		if r.Pointer.Custodian == busy.Custodian() && r.Body != nil {
			b, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			assert.Equal(t, r.Size, int64(len(b)))
		}
	}
	res.Close()
	var arrivals []time.Time
	for _, q := range busy.Requests() {
		arrivals = append(arrivals, q.Time)
	}
	require.Len(t, arrivals, 4)
	sort.Slice(arrivals, func(i, j int) bool { return arrivals[i].Before(arrivals[j]) })
	for i := 1; i < len(arrivals); i++ {
		// With one retrieval at a time, the next cannot start before the
		// previous answer, which the region holds back for the latency.
		assert.GreaterOrEqual(t, arrivals[i].Sub(arrivals[i-1]), latency)
	}
	assert.Len(t, other.Requests(), 1)
}

func TestFetchedDocumentHoldsItsPlaceUntilClosed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	region := w.Regions[0]
	p1, err := w.AddPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Minimal, Custodian: region.Custodian(), Type: nrls.TypeContingencyPlan})
	require.NoError(t, err)
	p2, err := w.AddPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Minimal, Custodian: region.Custodian(), Type: nrls.TypeContingencyPlan})
	require.NoError(t, err)
	remote, err := shcr.NewRemote(withParallelism(t, w, region.Custodian(), 1), shcr.RemoteConfig{})
	require.NoError(t, err)
	ctx := context.Background()
	first, err := remote.Fetch(ctx, shcr.FetchRequest{Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare, Pointer: p1})
	require.NoError(t, err)
	require.NotNil(t, first.Body, "a PDF is streamed")

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = remote.Fetch(short, shcr.FetchRequest{Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare, Pointer: p2})
	require.ErrorIs(t, err, context.DeadlineExceeded, "the open stream holds the only place")
	assert.Len(t, region.Requests(), 1, "the second request was never sent")

	require.NoError(t, first.Close())
	second, err := remote.Fetch(ctx, shcr.FetchRequest{Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare, Pointer: p2})
	require.NoError(t, err)
	require.NoError(t, second.Close())
	require.NoError(t, first.Close(), "closing twice gives the place back once")
	third, err := remote.Fetch(ctx, shcr.FetchRequest{Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare, Pointer: p1})
	require.NoError(t, err)
	require.NoError(t, third.Close())
}

func TestRecordsEmergencyAccessAndFilters(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var alerts []shcr.Alert
	var mu sync.Mutex
	rec := audittest.NewRecorder()
	c := newJourney(t, w, rec, func(cfg *shcr.Config) {
		cfg.Alert = func(_ context.Context, a shcr.Alert) error {
			mu.Lock()
			defer mu.Unlock()
			alerts = append(alerts, a)
			return nil
		}
	})
	req := encounter(w, pdstest.Patients.Normal)
	req.Purpose = shcrkit.PurposeEmergency
	req.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipEmergency, Reason: "Unconscious on arrival; no history available"}
	req.RecordTypes = []string{nrls.TypeNEWS2Chart, nrls.TypeMentalHealthCrisisPlan}
	res, err := c.Records(context.Background(), req)
	require.NoError(t, err)
	defer res.Close()
	assert.Equal(t, []string{"RNR-000001", "RNR-000005"}, ids(res.Records))
	require.Len(t, alerts, 1)
	assert.Equal(t, "B0015", alerts[0].Activity)
	for _, e := range rec.Events() {
		assert.Equal(t, "Unconscious on arrival; no history available", e.BreakGlassReason)
		assert.Equal(t, shcrkit.RelationshipEmergency, e.Relationship)
	}
	require.NoError(t, rec.Check())
	assert.Contains(t, string(w.NRL.Requests()[0].Body), nrls.TypeNEWS2Chart)
}

func TestDiscoverReportsUnreadableEntries(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	require.NoError(t, w.NRL.InjectEntry(pdstest.Patients.Normal, []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception","details":{"coding":[{"code":"INTERNAL_SERVER_ERROR"}]}}]}`)))
	rec := audittest.NewRecorder()
	d, err := newJourney(t, w, rec).Discover(context.Background(), encounter(w, pdstest.Patients.Normal))
	require.NoError(t, err)
	require.Len(t, d.Problems, 1)
	assert.Len(t, d.Pointers, 4)
	for _, e := range rec.Events() {
		if stepOf(e) == stepSearch {
			assert.Contains(t, e.Reason, "left out as unreadable")
		}
	}
}

func TestRecordsRemoteFaults(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	summary := "/records/RNR-000002" // the structured summary, read whole
	tests := []struct {
		name    string
		fault   shcrtest.Fault
		want    error
		code    string
		outcome audit.Outcome
	}{
		{"unavailable", shcrtest.Fault{Status: 503, Code: "SERVICE_UNAVAILABLE"}, shcrkit.ErrUnavailable, "SERVICE_UNAVAILABLE", audit.OutcomeFailed},
		{"refused by the provider", shcrtest.Fault{Status: 403, Code: "ACCESS_DENIED"}, shcrkit.ErrForbidden, "ACCESS_DENIED", audit.OutcomeRefused},
		{"truncated", shcrtest.Fault{Truncate: 100}, shcrkit.ErrMalformedResponse, "MALFORMED_RESPONSE", audit.OutcomeFailed},
		{"oversized", shcrtest.Fault{Oversize: 64 << 10}, shcrkit.ErrResponseTooLarge, "TOO_LARGE", audit.OutcomeFailed},
		{"dripping past the timeout", shcrtest.Fault{Drip: 20 * time.Millisecond}, context.DeadlineExceeded, "TIMEOUT", audit.OutcomeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			north := w.Region(nrlstest.CustodianNorth)
			north.InjectFault(http.MethodGet, summary, -1, tt.fault)
			defer north.ClearFaults()
			rec := audittest.NewRecorder()
			c := newJourney(t, w, rec, func(cfg *shcr.Config) {
				// Timing decides only the dripping case: there the answer
				// would take many seconds (a byte per 20 ms) and the
				// timeout is a few; everywhere else no loaded machine comes
				// near a minute.
				cfg.Timeout = time.Minute
				if tt.fault.Drip > 0 {
					cfg.Timeout = 3 * time.Second
				}
				cfg.Remote = shcr.RemoteConfig{MaxAttempts: 1, MaxResponseBytes: 32 << 10}
			})
			res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
			require.NoError(t, err)
			defer res.Close()
			assert.Equal(t, []string{"RNR-000001", "RWV-000003", "RNR-000005"}, ids(res.Records), "the other records come back")
			require.Len(t, res.Failures, 1)
			assert.Equal(t, "RNR-000002", res.Failures[0].Pointer.ID)
			require.ErrorIs(t, res.Failures[0], tt.want)
			var got []audit.Event
			for _, e := range rec.Events() {
				if stepOf(e) == stepRetrieval && resourceID(e) == "RNR-000002" {
					got = append(got, e)
				}
			}
			require.Len(t, got, 1)
			assert.Equal(t, tt.outcome, got[0].Outcome)
			assert.Equal(t, tt.code, got[0].ErrorCode)
			assert.NotEmpty(t, got[0].RequestID)
			require.NoError(t, rec.Check())
		})
	}
}

func TestRecordsReusesTheIdentityTokenOnlyWhereTheEndpointAcceptsIt(t *testing.T) {
	t.Parallel()
	for _, reuse := range []bool{false, true} {
		w := newWorld(t)
		region := w.Regions[0]
		for range 3 {
			_, err := w.AddPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Minimal, Custodian: region.Custodian(), Type: nrls.TypeContingencyPlan})
			require.NoError(t, err)
		}
		eps := w.Directory.Endpoints()
		eps[0].ReuseIdentity = reuse
		ssp, _ := w.Directory.SSP()
		dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: eps, SSP: &ssp})
		require.NoError(t, err)
		c := newJourney(t, w, audittest.NewRecorder(), func(cfg *shcr.Config) { cfg.Directory = dir })
		for range 2 {
			res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Minimal))
			require.NoError(t, err)
			require.Len(t, res.Records, 3)
			res.Close()
		}
		jtis := map[string]int{}
		for _, id := range region.Identities() {
			jtis[id.TokenID]++
		}
		if reuse {
			assert.Len(t, jtis, 2, "one token per journey")
		} else {
			assert.Len(t, jtis, 6, "one token per request")
		}
	}
}

// withEndpointTimeout is w's directory with timeout set on the endpoint of
// custodian alone.
func withEndpointTimeout(t *testing.T, w *shcrtest.World, custodian shcrkit.ODSCode, timeout time.Duration) *shcr.Directory {
	t.Helper()
	eps := w.Directory.Endpoints()
	found := false
	for i := range eps {
		if slices.Contains(eps[i].Custodians, custodian) {
			eps[i].Timeout, found = timeout, true
		}
	}
	require.True(t, found, "no endpoint for %s", custodian)
	ssp, _ := w.Directory.SSP()
	dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: eps, SSP: &ssp})
	require.NoError(t, err)
	return dir
}

// meetingSigner signs only once the other endpoint's signer is signing
// too, so that a journey whose endpoints' tokens were signed one at a
// time would wait for ever; it gives up after a minute and says so.
type meetingSigner struct {
	crypto.Signer
	meet *meeting
}

type meeting struct {
	once     sync.Once
	arrivals chan struct{}
	met      chan struct{}
	timedOut atomic.Bool
}

func (s meetingSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	select {
	case s.meet.arrivals <- struct{}{}:
	default:
	}
	if len(s.meet.arrivals) == cap(s.meet.arrivals) {
		s.meet.once.Do(func() { close(s.meet.met) })
	}
	select {
	case <-s.meet.met:
	case <-time.After(time.Minute):
		s.meet.timedOut.Store(true)
	}
	return s.Signer.Sign(r, digest, opts)
}

func TestRecordsSignsEachEndpointsReusedTokenSideBySide(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	m := &meeting{arrivals: make(chan struct{}, 2), met: make(chan struct{})}
	eps := w.Directory.Endpoints()
	var signing []int
	for i := range eps {
		if eps[i].Identity.Key != nil && len(signing) < 2 {
			eps[i].ReuseIdentity = true
			eps[i].Identity.Key = meetingSigner{Signer: eps[i].Identity.Key, meet: m}
			signing = append(signing, i)
		}
	}
	require.Len(t, signing, 2, "two endpoints of the world sign their tokens")
	for _, i := range signing {
		_, err := w.AddPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Minimal, Custodian: eps[i].Custodians[0], Type: nrls.TypeContingencyPlan})
		require.NoError(t, err)
	}
	ssp, _ := w.Directory.SSP()
	dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: eps, SSP: &ssp})
	require.NoError(t, err)
	c := newJourney(t, w, audittest.NewRecorder(), func(cfg *shcr.Config) { cfg.Directory = dir })
	res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Minimal))
	require.NoError(t, err)
	defer res.Close()
	require.Len(t, res.Records, 2)
	assert.False(t, m.timedOut.Load(), "one endpoint's token waited for the other's")
}

// TestRecordsCrowdedEndpointCapsBufferedDocuments: when an endpoint has
// more pointers than its bound, its documents are read whole so that
// their places are given back at once; a document over MaxDocumentBytes
// then fails alone, as a streamed one would, and is recorded.
func TestRecordsCrowdedEndpointCapsBufferedDocuments(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rec := audittest.NewRecorder()
	var docs []string
	{
		c := newJourney(t, w, audittest.NewRecorder())
		res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
		require.NoError(t, err)
		for _, r := range res.Records {
			if r.Pointer.Custodian == nrlstest.CustodianNorth && r.Body != nil {
				docs = append(docs, r.Pointer.ID)
			}
		}
		res.Close()
	}
	require.NotEmpty(t, docs, "the North region serves the patient a document")
	north := w.Region(nrlstest.CustodianNorth)
	north.InjectFault(http.MethodGet, "/records/"+docs[0], -1, shcrtest.Fault{Oversize: 64 << 10})
	defer north.ClearFaults()
	c := newJourney(t, w, rec, func(cfg *shcr.Config) {
		cfg.Parallelism = 1 // North holds more pointers than that: crowded
		cfg.Remote = shcr.RemoteConfig{MaxAttempts: 1, MaxDocumentBytes: 4 << 10}
	})
	res, err := c.Records(context.Background(), encounter(w, pdstest.Patients.Normal))
	require.NoError(t, err)
	defer res.Close()
	require.Len(t, res.Failures, 1)
	assert.Equal(t, docs[0], res.Failures[0].Pointer.ID)
	require.ErrorIs(t, res.Failures[0], shcrkit.ErrResponseTooLarge)
	assert.NotEmpty(t, res.Records, "the other records come back")
	for _, r := range res.Records {
		assert.NotEqual(t, docs[0], r.Pointer.ID)
	}
	require.NoError(t, rec.Check())
}
