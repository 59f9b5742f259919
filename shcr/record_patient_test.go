package shcr_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A pointer's structured record is its patient's: a remote ShCR that
// answers with a resource naming another patient, as the resource's
// subject or patient or as a Patient in a Bundle, has the record refused.
func TestFetchRefusesARecordOfAnotherPatient(t *testing.T) {
	const other = shcrkit.NHSNumber("9000000009")
	ref := func(nhs shcrkit.NHSNumber) map[string]any {
		return map[string]any{"identifier": map[string]any{"system": codesystem.NHSNumber, "value": string(nhs)}}
	}
	patient := func(nhs shcrkit.NHSNumber) map[string]any {
		return map[string]any{"resourceType": "Patient", "id": "p1",
			"identifier": []any{map[string]any{"system": codesystem.NHSNumber, "value": string(nhs)}}}
	}
	bundle := func(resources ...map[string]any) map[string]any {
		var entries []any
		for _, r := range resources {
			entries = append(entries, map[string]any{"resource": r})
		}
		return map[string]any{"resourceType": "Bundle", "type": "collection", "identifier": map[string]any{"value": "b1"}, "entry": entries}
	}
	tests := []struct {
		name   string
		answer map[string]any
		ok     bool
	}{
		{"care plan for the patient", map[string]any{"resourceType": "CarePlan", "subject": ref(testNHS)}, true},
		{"care plan by local id", map[string]any{"resourceType": "CarePlan", "subject": map[string]any{"reference": "Patient/local-17"}}, true},
		{"bundle for the patient", bundle(patient(testNHS), map[string]any{"resourceType": "AllergyIntolerance", "patient": ref(testNHS)}), true},
		{"care plan for another", map[string]any{"resourceType": "CarePlan", "subject": ref(other)}, false},
		{"care plan referring to another", map[string]any{"resourceType": "CarePlan", "subject": map[string]any{"reference": "https://elsewhere.example/fhir/Patient/" + string(other)}}, false},
		{"subjects, one another", map[string]any{"resourceType": "Composition", "subject": []any{ref(testNHS), ref(other)}}, false},
		{"bundle holding another's Patient", bundle(patient(testNHS), patient(other)), false},
		{"bundle holding another's allergy", bundle(map[string]any{"resourceType": "AllergyIntolerance", "patient": ref(other)}), false},
		{"bundle within a bundle", bundle(bundle(map[string]any{"resourceType": "Condition", "subject": ref(other)})), false},
		{"subject not a reference", map[string]any{"resourceType": "CarePlan", "subject": "Patient/" + string(other)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, func(w http.ResponseWriter, r *http.Request) { writeFHIR(w, tt.answer) })
			r := newRemote(t, []shcr.Endpoint{{Name: "north", Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: p.URL + "/fhir"}}, nil)
			c, err := r.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+"/fhir/CarePlan/c1", "application/fhir+json", ""))
			if tt.ok {
				require.NoError(t, err)
				assert.NotEmpty(t, c.Resource)
				return
			}
			require.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
			assert.Nil(t, c)
			assert.NotContains(t, err.Error(), string(other))
			assert.NotContains(t, err.Error(), string(testNHS))
		})
	}
}

// In a journey, a record of another patient found on a Bundle's later
// page is withheld, and every page's request is recorded as failed.
func TestRecordsWithholdsARecordOfAnotherPatient(t *testing.T) {
	w := newWorld(t)
	nhs := pdstest.Patients.Minimal
	other := pdstest.Patients.Normal
	var p *provider
	p = newProvider(t, func(rw http.ResponseWriter, r *http.Request) {
		b := map[string]any{"resourceType": "Bundle", "type": "searchset"}
		if r.URL.Query().Get("page") == "" {
			b["entry"] = []any{condition("c1", nhs)}
			b["link"] = []any{map[string]any{"relation": "next", "url": p.URL + "/fhir/Condition?page=2"}}
		} else {
			b["entry"] = []any{condition("c2", other)}
		}
		writeFHIR(rw, b)
	})
	ep := shcr.Endpoint{Name: "tampered", Custodians: []shcrkit.ODSCode{nrlstest.CustodianNorth}, BaseURL: p.URL + "/fhir"}
	dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: []shcr.Endpoint{ep}})
	require.NoError(t, err)
	rec := audittest.NewRecorder()
	c := newJourney(t, w, rec, func(cfg *shcr.Config) { cfg.Directory = dir })
	ptr := testPointer(t, string(nrlstest.CustodianNorth)+"-1", nrlstest.CustodianNorth, p.URL+"/fhir/Condition?patient.identifier="+codesystem.NHSNumber+"|"+string(nhs), "application/fhir+json", "")
	ptr.NHSNumber = nhs

	got, err := c.Retrieve(context.Background(), encounter(w, nhs), ptr)
	require.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
	assert.Nil(t, got)
	var re *shcr.RefusedError
	assert.False(t, errors.As(err, &re))
	assert.NotContains(t, err.Error(), string(other))
	var sent, failed []string
	for _, q := range p.requests() {
		sent = append(sent, q.Header.Get("X-Request-ID"))
	}
	require.Len(t, sent, 2)
	for _, e := range rec.Find(audit.Filter{Outcome: audit.OutcomeFailed}) {
		if e.Action == audit.ActionRead && e.Resource == "DocumentReference/"+ptr.ID {
			failed = append(failed, e.RequestID)
			assert.NotContains(t, e.Reason, string(other))
		}
	}
	assert.ElementsMatch(t, sent, failed, "each page's request is recorded as failed")
}

// A superseded number and its surviving one are one patient's: a record
// found under either may name the other, and none may name a third.
func TestRecordsTakesBothNumbersOfASupersededPatient(t *testing.T) {
	w := newWorld(t)
	asked, surviving := pdstest.Patients.Superseded, pdstest.Patients.Surviving
	carePlan := func(nhs shcrkit.NHSNumber) []byte {
		b, err := json.Marshal(map[string]any{"resourceType": "CarePlan", "status": "active", "intent": "plan",
			"subject": map[string]any{"identifier": map[string]any{"system": codesystem.NHSNumber, "value": string(nhs)}}})
		require.NoError(t, err)
		return b
	}
	north := w.Regions[0].Custodian()
	add := func(pointerNHS, recordNHS shcrkit.NHSNumber) nrls.Pointer {
		p, err := w.AddPointer(nrls.PointerSpec{NHSNumber: pointerNHS, Custodian: north, Type: nrls.TypeContingencyPlan,
			ContentType: "application/fhir+json", Format: nrls.FormatStructured}, shcrtest.Document{ContentType: "application/fhir+json", Body: carePlan(recordNHS)})
		require.NoError(t, err)
		return p
	}
	underAsked := add(asked, surviving)
	underSurviving := add(surviving, asked)
	third := add(surviving, pdstest.Patients.Normal)
	c := newJourney(t, w, audittest.NewRecorder())
	res, err := c.Records(context.Background(), encounter(w, asked))
	require.NoError(t, err)
	defer res.Close()
	require.Equal(t, surviving, res.Patient.NHSNumber)
	got := map[string]bool{}
	for _, r := range res.Records {
		got[r.Pointer.ID] = true
	}
	failed := map[string]error{}
	for _, f := range res.Failures {
		failed[f.Pointer.ID] = f.Err
	}
	found := 0
	for _, p := range []nrls.Pointer{underAsked, underSurviving} {
		if got[p.ID] {
			found++
		}
		assert.NotContains(t, failed, p.ID, "a record naming the other number of the same patient is taken")
	}
	require.Positive(t, found, "the journey found the patient's pointers")
	if err, ok := failed[third.ID]; ok {
		assert.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
	} else {
		assert.False(t, got[third.ID], "a record naming a third patient is not handed back")
	}
}
