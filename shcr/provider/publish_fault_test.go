package provider_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr/provider"
)

// hookTransport runs before on each request, then sends it.
type hookTransport struct {
	next   http.RoundTripper
	before func(*http.Request, []byte)
}

func (h hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	h.before(r, body)
	return h.next.RoundTrip(r)
}

func newPublisherWith(t *testing.T, srv *nrlstest.Server, hc *http.Client, opts ...nrls.Option) *provider.Publisher {
	t.Helper()
	base := []nrls.Option{nrls.WithHTTPClient(hc), nrls.WithEndUserOrganisation(brackenfield), nrls.WithMaxAttempts(1)}
	nrl, err := nrls.NewClient(srv.URL+nrls.ProducerPath, append(base, opts...)...)
	require.NoError(t, err)
	pub, err := provider.NewPublisher(provider.PublisherConfig{NRL: nrl, Custodian: brackenfield, Backoff: func(int) time.Duration { return 0 }})
	require.NoError(t, err)
	return pub
}

// A create that landed but whose answer was lost is not published twice.
func TestPublisherCreateThatLandedBeforeItsAnswerWasLostIsNotDuplicated(t *testing.T) {
	srv := nrlstest.NewServer()
	t.Cleanup(srv.Close)
	pub := newPublisherWith(t, srv, srv.HTTPClient(), nrls.WithSearchGET())
	srv.InjectFault(http.MethodPost, nrls.ProducerPath+"/DocumentReference", 1,
		nrlstest.Fault{Status: http.StatusServiceUnavailable, Code: "SERVICE_UNAVAILABLE", AfterServing: true})
	plan := pointer(t, "plan-1", nrls.TypeContingencyPlan, "Plan")
	_, err := pub.Sync(context.Background(), pdstest.Patients.Minimal, []nrls.Pointer{plan})
	require.NoError(t, err)
	assert.Equal(t, []string{plan.URL}, urls(srv.Pointers(pdstest.Patients.Minimal)))
}

// A supersede whose target another writer removed between the search and
// the supersede still leaves the wanted pointer published.
func TestPublisherSupersedeWhoseTargetVanishedStillPublishes(t *testing.T) {
	srv, pub := newPublisher(t)
	ctx := context.Background()
	plan := pointer(t, "plan-1", nrls.TypeContingencyPlan, "Plan")
	_, err := pub.Sync(ctx, pdstest.Patients.Minimal, []nrls.Pointer{plan})
	require.NoError(t, err)
	old := srv.Pointers(pdstest.Patients.Minimal)
	var oldID string
	for _, p := range old {
		if p.Custodian == brackenfield {
			oldID = p.ID
		}
	}
	require.NotEmpty(t, oldID)

	other, err := nrls.NewClient(srv.URL+nrls.ProducerPath, nrls.WithHTTPClient(srv.HTTPClient()), nrls.WithEndUserOrganisation(brackenfield))
	require.NoError(t, err)
	var once sync.Once
	hc := *srv.HTTPClient()
	hc.Transport = hookTransport{next: srv.HTTPClient().Transport, before: func(r *http.Request, body []byte) {
		if r.Method == http.MethodPost && bytes.Contains(body, []byte(`"relatesTo"`)) {
			once.Do(func() { require.NoError(t, other.Delete(context.Background(), oldID)) })
		}
	}}
	pub2 := newPublisherWith(t, srv, &hc)
	plan2 := pointer(t, "plan-2", nrls.TypeContingencyPlan, "Plan v2")
	_, err = pub2.Sync(ctx, pdstest.Patients.Minimal, []nrls.Pointer{plan2})
	require.NoError(t, err, "the goal (plan2 published, plan1 gone) is reachable: the target's absence is no reason to fail")
	assert.Equal(t, []string{plan2.URL}, urls(srv.Pointers(pdstest.Patients.Minimal)))
}

// Two Syncs for one patient at once publish each pointer once.
func TestPublisherConcurrentSyncsForOnePatientDoNotDuplicate(t *testing.T) {
	srv, pub := newPublisher(t)
	srv.SetLatency(50 * time.Millisecond)
	plan := pointer(t, "plan-1", nrls.TypeContingencyPlan, "Plan")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = pub.Sync(context.Background(), pdstest.Patients.Minimal, []nrls.Pointer{plan})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, []string{plan.URL}, urls(srv.Pointers(pdstest.Patients.Minimal)), "published once")
}

// A 429 with Retry-After on a create is waited out, not retried at once.
func TestPublisherHonoursRetryAfterOnACreate(t *testing.T) {
	srv := nrlstest.NewServer()
	t.Cleanup(srv.Close)
	pub := newPublisherWith(t, srv, srv.HTTPClient(), nrls.WithSearchGET())
	srv.InjectFault(http.MethodPost, nrls.ProducerPath+"/DocumentReference", 1,
		nrlstest.Fault{Status: http.StatusTooManyRequests, Code: "TOO_MANY_REQUESTS", RetryAfter: "1"})
	start := time.Now()
	_, err := pub.Sync(context.Background(), pdstest.Patients.Minimal, []nrls.Pointer{pointer(t, "plan-1", nrls.TypeContingencyPlan, "Plan")})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "the service asked for a second's wait")
}

// The wanted pointer's check reads what is sent (Resource), not the view:
// a pointer whose resource names another patient is refused.
func TestPublisherRefusesAPointerWhoseResourceIsAnotherPatients(t *testing.T) {
	srv, pub := newPublisher(t)
	p := pointer(t, "plan-1", nrls.TypeContingencyPlan, "Plan")
	other := string(pdstest.Patients.Normal)
	system := codesystem.NHSNumber
	p.Resource.Subject = &fhir.Reference{Identifier: &fhir.Identifier{System: &system, Value: &other}}
	before := len(srv.Pointers(pdstest.Patients.Normal))
	_, err := pub.Sync(context.Background(), pdstest.Patients.Minimal, []nrls.Pointer{p})
	require.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	assert.Len(t, srv.Pointers(pdstest.Patients.Normal), before, "nothing published for the other patient")
}
