package nrls_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/stretchr/testify/require"
)

// Synthetic identifiers of the tests: valid NHS test numbers and invented
// ODS codes.
const (
	testNHS   shcrkit.NHSNumber = "9490000019"
	otherNHS  shcrkit.NHSNumber = "9490000027"
	testODS   shcrkit.ODSCode   = "RNR"
	otherODS  shcrkit.ODSCode   = "RWV"
	testASID                    = "900000000101"
	sspURL                      = "ssp://north.shcr.example/records/abc123"
	directURL                   = "https://north.shcr.example/records/abc123"
)

var mentalHealth = nrls.Concept{Code: "788002001", Display: "Adult mental health service"}

// sspSpec is a valid spec of a pointer retrieved through the SSP.
func sspSpec() nrls.PointerSpec {
	return nrls.PointerSpec{
		NHSNumber: testNHS, Custodian: testODS, Type: nrls.TypeMentalHealthCrisisPlan,
		URL: sspURL, ProviderASID: testASID, PracticeSetting: mentalHealth,
		Title: "Crisis plan", Description: "Plan agreed with the patient",
		Created: time.Date(2025, 2, 3, 10, 0, 0, 0, time.UTC),
	}
}

// directSpec is a valid spec of a pointer retrieved directly.
func directSpec() nrls.PointerSpec {
	s := sspSpec()
	s.URL, s.ProviderASID = directURL, ""
	return s
}

func mustPointer(t testing.TB, spec nrls.PointerSpec) nrls.Pointer {
	t.Helper()
	p, err := nrls.NewPointer(spec)
	require.NoError(t, err)
	return p
}

// roundTrip returns p as it would come back from the service: encoded and
// parsed again, so that it shares nothing with p.
func roundTrip(t testing.TB, p nrls.Pointer) nrls.Pointer {
	t.Helper()
	b, err := json.Marshal(p.Resource)
	require.NoError(t, err)
	q, err := nrls.ParsePointer(b)
	require.NoError(t, err)
	return q
}

func newFake(t testing.TB, opts ...nrlstest.Option) *nrlstest.Server {
	t.Helper()
	srv := nrlstest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

func consumer(t testing.TB, srv *nrlstest.Server, opts ...nrls.Option) *nrls.Client {
	t.Helper()
	c, err := srv.NewClient(append([]nrls.Option{nrls.WithRetryWait(time.Millisecond, 5*time.Millisecond, 10*time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	return c
}

func producer(t testing.TB, srv *nrlstest.Server, ods shcrkit.ODSCode, opts ...nrls.Option) *nrls.Client {
	t.Helper()
	c, err := nrls.NewClient(srv.URL+nrls.ProducerPath,
		append([]nrls.Option{nrls.WithHTTPClient(srv.HTTPClient()), nrls.WithEndUserOrganisation(ods)}, opts...)...)
	require.NoError(t, err)
	return c
}

func s(v string) *string { return &v }

func codeable(system, code, display string) fhir.CodeableConcept {
	return fhir.CodeableConcept{Coding: []fhir.Coding{{System: s(system), Code: s(code), Display: s(display)}}}
}

var ctx = context.Background()
