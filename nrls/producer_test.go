package nrls_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func TestCreate(t *testing.T) {
	srv := newFake(t, nrlstest.WithClock(func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) }))
	prod := producer(t, srv, testODS)
	p := mustPointer(t, sspSpec())

	id, err := prod.Create(ctx, p)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(id, "RNR-"), id)
	assert.True(t, nrls.ValidID(id))

	req := srv.Requests()[0]
	assert.Equal(t, http.MethodPost, req.Method)
	assert.Equal(t, nrls.ProducerPath+"/DocumentReference", req.Path)
	assert.Equal(t, "application/fhir+json", req.Header.Get("Content-Type"))
	assert.Equal(t, "RNR", req.Header.Get("NHSD-End-User-Organisation-ODS"))
	assert.Equal(t, http.StatusCreated, req.Status)

	stored, ok := srv.Pointer(id)
	require.True(t, ok)
	assert.Equal(t, p.URL, stored.URL)
	assert.Equal(t, time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), stored.Date.UTC(), "the service dates the pointer")

	got, err := prod.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, p.Type, got.Type)

	ps, err := consumer(t, srv).Search(ctx, testNHS, nrls.WithTypes(nrls.TypeMentalHealthCrisisPlan))
	require.NoError(t, err)
	assert.Contains(t, ids(ps), id)
}

func TestCreateChecksBeforeSending(t *testing.T) {
	srv := newFake(t)
	prod := producer(t, srv, testODS)

	spec := sspSpec()
	spec.Custodian, spec.Author = otherODS, otherODS
	_, err := prod.Create(ctx, mustPointer(t, spec))
	requireField(t, err, "custodian.identifier.value")

	bad := roundTrip(t, mustPointer(t, sspSpec()))
	bad.Resource.Category = nil
	_, err = prod.Create(ctx, bad)
	requireField(t, err, "category")

	assert.Empty(t, srv.Requests(), "nothing was sent")
}

func TestCreateServiceErrors(t *testing.T) {
	srv := newFake(t, nrlstest.WithProducerTypes(testODS, nrls.TypeMentalHealthCrisisPlan))
	prod := producer(t, srv, testODS)
	spec := directSpec()
	spec.Type = nrls.TypeRespectForm
	_, err := prod.Create(ctx, mustPointer(t, spec))
	var ae *shcrkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusForbidden, ae.StatusCode)
	assert.Equal(t, "AUTHOR_CREDENTIALS_ERROR", ae.Code)

	srv.InjectFault(http.MethodPost, nrls.ProducerPath+"/DocumentReference", 1,
		nrlstest.Fault{Status: http.StatusServiceUnavailable, Code: "SERVICE_UNAVAILABLE"})
	_, err = prod.Create(ctx, mustPointer(t, sspSpec()))
	assert.ErrorIs(t, err, shcrkit.ErrUnavailable)
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost {
			n++
		}
	}
	assert.Equal(t, 2, n, "a create is not retried: it could publish twice")
}

func TestCreateNeedsLocation(t *testing.T) {
	for name, loc := range map[string]string{"none": "", "not an ID": "/producer/FHIR/R4/DocumentReference/"} {
		t.Run(name, func(t *testing.T) {
			ts := newRawProducer(t, http.StatusCreated, loc)
			_, err := ts.Create(ctx, mustPointer(t, sspSpec()))
			assert.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
		})
	}
	id, err := newRawProducer(t, http.StatusCreated, "https://api.example/producer/FHIR/R4/DocumentReference/RNR-abc").
		Create(ctx, mustPointer(t, sspSpec()))
	require.NoError(t, err)
	assert.Equal(t, "RNR-abc", id)
}

func TestSupersede(t *testing.T) {
	srv := newFake(t)
	prod := producer(t, srv, testODS)
	oldID, err := prod.Create(ctx, mustPointer(t, sspSpec()))
	require.NoError(t, err)

	next := sspSpec()
	next.URL = "ssp://north.shcr.example/records/v2"
	newID, err := prod.Supersede(ctx, mustPointer(t, next), oldID, oldID)
	require.NoError(t, err)
	assert.NotEqual(t, oldID, newID)

	_, ok := srv.Pointer(oldID)
	assert.False(t, ok, "the replaced pointer is gone")
	p, ok := srv.Pointer(newID)
	require.True(t, ok)
	assert.Equal(t, []string{oldID}, p.Replaces, "named once")

	_, err = prod.Supersede(ctx, mustPointer(t, next))
	requireField(t, err, "relatesTo")

	_, err = prod.Supersede(ctx, mustPointer(t, next), "RWV-1")
	requireField(t, err, "relatesTo[0].target.identifier.value")

	_, err = prod.Supersede(ctx, mustPointer(t, next), "RNR-gone")
	var ae *shcrkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "BAD_REQUEST", ae.Code)

	other := next
	other.Type = nrls.TypeRespectForm
	_, err = prod.Supersede(ctx, mustPointer(t, other), newID)
	require.ErrorAs(t, err, &ae, "the type must match the replaced pointer's")
	assert.Contains(t, ae.Diagnostics, "type")
}

func TestUpdate(t *testing.T) {
	srv := newFake(t)
	prod := producer(t, srv, testODS)
	id, err := prod.Create(ctx, mustPointer(t, sspSpec()))
	require.NoError(t, err)
	p, err := prod.Get(ctx, id)
	require.NoError(t, err)

	p.Resource.Description = s("Reviewed")
	p.Resource.Content[0].Attachment.Url = s("ssp://north.shcr.example/records/v3")
	require.NoError(t, prod.Update(ctx, p))
	req := srv.Requests()[len(srv.Requests())-1]
	assert.Equal(t, http.MethodPut, req.Method)
	assert.Equal(t, nrls.ProducerPath+"/DocumentReference/"+id, req.Path)
	stored, _ := srv.Pointer(id)
	assert.Equal(t, "Reviewed", stored.Description)
	assert.Equal(t, p.Date, stored.Date, "the service keeps the date")

	t.Run("immutable field, caught before sending", func(t *testing.T) {
		q, err := prod.Get(ctx, id)
		require.NoError(t, err)
		q.Resource.Type.Coding[0].Code = s(nrls.TypeRespectForm)
		q.Resource.Type.Coding[0].Display = s("ReSPECT form")
		q.Resource.Category[0] = codeable(codesystem.SNOMED, "734163000", "Care plan")
		before := len(srv.Requests())
		requireField(t, prod.Update(ctx, q), "type")
		assert.Len(t, srv.Requests(), before)
	})
	t.Run("immutable field, caught by the service", func(t *testing.T) {
		q, err := prod.Get(ctx, id)
		require.NoError(t, err)
		q.Resource.Subject.Identifier.Value = s(string(otherNHS))
		hand := nrls.Pointer{Resource: q.Resource} // no record of the original
		err = prod.Update(ctx, hand)
		var ae *shcrkit.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "BAD_REQUEST", ae.Code)
		assert.NotContains(t, err.Error(), string(otherNHS))
	})
	t.Run("no ID", func(t *testing.T) {
		requireField(t, prod.Update(ctx, mustPointer(t, sspSpec())), "id")
	})
	t.Run("invalid pointer", func(t *testing.T) {
		q, err := prod.Get(ctx, id)
		require.NoError(t, err)
		q.Resource.Context.PracticeSetting = nil
		requireField(t, prod.Update(ctx, q), "context.practiceSetting")
	})
	t.Run("another custodian's pointer", func(t *testing.T) {
		theirs := srv.Pointers(pdstest.Patients.Normal)[2] // held by Wessex Vale
		require.Equal(t, otherODS, theirs.Custodian)
		requireField(t, prod.Update(ctx, theirs), "custodian.identifier.value")
	})
	t.Run("missing pointer", func(t *testing.T) {
		q, err := prod.Get(ctx, id)
		require.NoError(t, err)
		q.Resource.Id = s("RNR-missing")
		err = prod.Update(ctx, nrls.PointerFrom(q.Resource))
		assert.ErrorIs(t, err, shcrkit.ErrNotFound)
	})
}

func TestDelete(t *testing.T) {
	srv := newFake(t)
	prod := producer(t, srv, testODS)
	id, err := prod.Create(ctx, mustPointer(t, sspSpec()))
	require.NoError(t, err)

	require.NoError(t, prod.Delete(ctx, id))
	_, ok := srv.Pointer(id)
	assert.False(t, ok)
	last := srv.Requests()[len(srv.Requests())-1]
	assert.Equal(t, http.MethodDelete, last.Method)

	assert.ErrorIs(t, prod.Delete(ctx, id), shcrkit.ErrNotFound)
	requireField(t, prod.Delete(ctx, "RWV-000003"), "id")
	requireField(t, prod.Delete(ctx, "not-an/id"), "id")

	// Wessex Vale deletes its own.
	south := producer(t, srv, otherODS)
	require.NoError(t, south.Delete(ctx, "RWV-000003"))
	_, ok = srv.Pointer("RWV-000003")
	assert.False(t, ok)
}

// newRawProducer is a producer client of a server that answers every
// request with status and a Location header.
func newRawProducer(t *testing.T, status int, location string) *nrls.Client {
	t.Helper()
	c := rawServerFunc(t, func(w http.ResponseWriter, r *http.Request) {
		if location != "" {
			w.Header().Set("Location", location)
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"resourceType": "OperationOutcome", "issue": []any{}})
	}, testODS)
	return c
}

func TestWritesKeepTheResourceIntact(t *testing.T) {
	srv := newFake(t)
	prod := producer(t, srv, testODS)
	p := mustPointer(t, sspSpec())
	p.Resource.MasterIdentifier = &fhir.Identifier{System: s("urn:ietf:rfc:3986"), Value: s("urn:oid:1.2.826.0.1")}
	id, err := prod.Create(ctx, p)
	require.NoError(t, err)
	var sent map[string]any
	require.NoError(t, json.Unmarshal(srv.Requests()[0].Body, &sent))
	assert.Equal(t, "DocumentReference", sent["resourceType"])
	assert.NotContains(t, sent, "id", "the service assigns the ID")
	stored, _ := srv.Pointer(id)
	assert.Equal(t, "urn:oid:1.2.826.0.1", *stored.Resource.MasterIdentifier.Value)
}
