package provider_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr/provider"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const brackenfield shcrkit.ODSCode = "RBF"

func pointer(t *testing.T, local, typ, title string) nrls.Pointer {
	t.Helper()
	p, err := nrls.NewPointer(nrls.PointerSpec{NHSNumber: pdstest.Patients.Minimal, Custodian: brackenfield, Type: typ,
		URL: "https://shcr.brackenfield.example/fhir/records/" + local, LocalID: local, Title: title,
		PracticeSetting: nrls.Concept{Code: "224891009", Display: "Healthcare services"}})
	require.NoError(t, err)
	return p
}

func newPublisher(t *testing.T) (*nrlstest.Server, *provider.Publisher) {
	t.Helper()
	srv := nrlstest.NewServer()
	t.Cleanup(srv.Close)
	nrl, err := nrls.NewClient(srv.URL+nrls.ProducerPath, nrls.WithHTTPClient(srv.HTTPClient()), nrls.WithEndUserOrganisation(brackenfield), nrls.WithMaxAttempts(1))
	require.NoError(t, err)
	pub, err := provider.NewPublisher(provider.PublisherConfig{NRL: nrl, Custodian: brackenfield, Backoff: func(int) time.Duration { return 0 }})
	require.NoError(t, err)
	return srv, pub
}

func urls(ptrs []nrls.Pointer) []string {
	var out []string
	for _, p := range ptrs {
		if p.Custodian == brackenfield {
			out = append(out, p.URL)
		}
	}
	return out
}

func TestPublisherKeepsTheNRLInStep(t *testing.T) {
	srv, pub := newPublisher(t)
	ctx := context.Background()
	plan := pointer(t, "plan-1", nrls.TypeContingencyPlan, "Contingency plan")
	respect := pointer(t, "respect-1", nrls.TypeRespectForm, "ReSPECT form")

	rep, err := pub.Sync(ctx, pdstest.Patients.Minimal, []nrls.Pointer{plan, respect})
	require.NoError(t, err)
	assert.Len(t, rep.Created, 2)
	assert.ElementsMatch(t, []string{plan.URL, respect.URL}, urls(srv.Pointers(pdstest.Patients.Minimal)))

	// Idempotent: nothing changes the second time.
	before := len(srv.Requests())
	rep, err = pub.Sync(ctx, pdstest.Patients.Minimal, []nrls.Pointer{plan, respect})
	require.NoError(t, err)
	assert.Empty(t, rep.Created)
	assert.Empty(t, rep.Superseded)
	assert.Len(t, rep.Unchanged, 2)
	for _, r := range srv.Requests()[before:] {
		read := r.Method == http.MethodGet || strings.HasSuffix(r.Path, "/_search")
		assert.True(t, read, "a Sync with nothing to do only reads: %s %s", r.Method, r.Path)
	}

	// The plan is revised at a new address: superseded, not added; the
	// ReSPECT form is retitled in place: superseded too.
	plan2 := pointer(t, "plan-2", nrls.TypeContingencyPlan, "Contingency plan v2")
	respect2 := pointer(t, "respect-1", nrls.TypeRespectForm, "ReSPECT form (revised)")
	rep, err = pub.Sync(ctx, pdstest.Patients.Minimal, []nrls.Pointer{plan2, respect2})
	require.NoError(t, err)
	assert.Len(t, rep.Superseded, 2)
	assert.Empty(t, rep.Created)
	assert.Empty(t, rep.Deleted)
	assert.ElementsMatch(t, []string{plan2.URL, respect2.URL}, urls(srv.Pointers(pdstest.Patients.Minimal)))

	// The ReSPECT form is no longer served: deleted.
	rep, err = pub.Sync(ctx, pdstest.Patients.Minimal, []nrls.Pointer{plan2})
	require.NoError(t, err)
	assert.Len(t, rep.Deleted, 1)
	assert.Equal(t, []string{plan2.URL}, urls(srv.Pointers(pdstest.Patients.Minimal)))
}

func TestPublisherRetriesAnUnavailableNRLWithoutDuplicates(t *testing.T) {
	srv, pub := newPublisher(t)
	srv.InjectFault(http.MethodPost, nrls.ProducerPath+"/DocumentReference", 2, nrlstest.Fault{Status: 503, Code: "SERVICE_UNAVAILABLE"})
	plan := pointer(t, "plan-1", nrls.TypeContingencyPlan, "Contingency plan")
	rep, err := pub.Sync(context.Background(), pdstest.Patients.Minimal, []nrls.Pointer{plan})
	require.NoError(t, err)
	assert.Len(t, rep.Created, 1)
	assert.Equal(t, []string{plan.URL}, urls(srv.Pointers(pdstest.Patients.Minimal)), "published once")
}

func TestPublisherGivesUpOnAPersistentFault(t *testing.T) {
	srv, pub := newPublisher(t)
	srv.InjectFault(http.MethodPost, nrls.ProducerPath+"/DocumentReference", -1, nrlstest.Fault{Status: 503, Code: "SERVICE_UNAVAILABLE"})
	_, err := pub.Sync(context.Background(), pdstest.Patients.Minimal, []nrls.Pointer{pointer(t, "plan-1", nrls.TypeContingencyPlan, "Plan")})
	require.ErrorIs(t, err, shcrkit.ErrUnavailable)
	srv.ClearFaults()
	rep, err := pub.Sync(context.Background(), pdstest.Patients.Minimal, []nrls.Pointer{pointer(t, "plan-1", nrls.TypeContingencyPlan, "Plan")})
	require.NoError(t, err, "a later Sync resumes")
	assert.Len(t, rep.Created, 1)
}

func TestPublisherRefusesAnotherCustodiansPointer(t *testing.T) {
	_, pub := newPublisher(t)
	p := pointer(t, "plan-1", nrls.TypeContingencyPlan, "Plan")
	p.Custodian = "RNR"
	_, err := pub.Sync(context.Background(), pdstest.Patients.Minimal, []nrls.Pointer{p})
	require.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
}
