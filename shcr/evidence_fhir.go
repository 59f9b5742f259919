package shcr

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/shcr/internal/fhirevidence"
)

// fhirEvidence is the EvidenceLookup of NewFHIREvidence.
type fhirEvidence struct{ lookup *fhirevidence.Lookup }

func (f fhirEvidence) FindEvidence(ctx context.Context, q EvidenceQuery) ([]Evidence, error) {
	found, err := f.lookup.Find(ctx, fhirevidence.Query{Kind: q.Kind, Patient: q.Patient, Reference: q.Reference, Time: q.Time})
	out := make([]Evidence, len(found))
	for i, r := range found {
		out[i] = Evidence(r)
	}
	return out, err
}

// NewFHIREvidence returns an EvidenceLookup that asks the organisation's
// own FHIR server at baseURL (http or https), through hc (nil means
// http.DefaultClient; redirects to another origin are refused), for the
// Encounter (encounter), ServiceRequest (referral) or CareTeam (care
// team) that backs a claimed relationship: the one the requester named
// (GET [base]/Encounter/{id}), or those of the patient (GET
// [base]/Encounter?subject:identifier=…|{nhs}). It reads the subject's NHS
// number, the organisations named (Encounter.serviceProvider,
// ServiceRequest.performer, CareTeam.managingOrganization and participant
// members, those whose own period covers the query's time) by their ODS
// identifiers, the period and the status. A period it cannot read, and a
// finished encounter with no end, are not in force; a date without a time
// is a day in England. The lookup is safe for concurrent use.
func NewFHIREvidence(baseURL string, hc *http.Client) (EvidenceLookup, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: FHIR base URL %q", shcrkit.ErrInvalidOption, shcrkit.Redact(baseURL))
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return fhirEvidence{fhirevidence.New(u, hc)}, nil
}
