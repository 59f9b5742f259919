package pds

import (
	"context"
	"encoding/json"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// RelatedPerson is someone PDS records as related to a patient: next of
// kin, a guardian, a carer. Resource is the record as received, with
// their addresses among the rest.
type RelatedPerson struct {
	// Resource is the FHIR RelatedPerson as received.
	Resource fhir.RelatedPerson
}

// relatedEnvelope decodes a RelatedPerson and its resourceType together.
type relatedEnvelope struct {
	ResourceType string `json:"resourceType"`
	fhir.RelatedPerson
}

// NHSNumber returns the related person's own NHS number when PDS links
// them to their patient record (the "patient" reference), else zero.
func (r *RelatedPerson) NHSNumber() shcrkit.NHSNumber {
	id := r.Resource.Patient.Identifier
	if id == nil || id.Value == nil || (id.System != nil && *id.System != codesystem.NHSNumber) {
		return ""
	}
	if !shcrkit.NHSNumber(*id.Value).Valid() {
		return ""
	}
	return shcrkit.NHSNumber(*id.Value)
}

// Name returns the related person's name, when recorded (a linked person's
// name is on their own patient record).
func (r *RelatedPerson) Name() (Name, bool) { return usualName(r.Resource.Name) }

// Relationships returns the relationship codes ("Guardian", "N" for next
// of kin, ...).
func (r *RelatedPerson) Relationships() []string {
	var out []string
	for _, cc := range r.Resource.Relationship {
		for _, c := range cc.Coding {
			if c.Code != nil {
				out = append(out, *c.Code)
			}
		}
	}
	return out
}

// Active reports whether the relationship is current (true unless the
// record says otherwise).
func (r *RelatedPerson) Active() bool { return r.Resource.Active == nil || *r.Resource.Active }

// Telecom returns the related person's contact points.
func (r *RelatedPerson) Telecom() []ContactPoint { return contactPoints(r.Resource.Telecom) }

// RelatedPersons returns the people related to the patient with NHS number
// nhs; none is an empty slice. Errors are as for Get.
func (c *Client) RelatedPersons(ctx context.Context, nhs shcrkit.NHSNumber) ([]RelatedPerson, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	if err := checkNHSNumber(nhs); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(ctx, &fhirhttp.Request{Path: patientPath(nhs) + "/RelatedPerson"})
	if err != nil {
		return nil, err
	}
	b, err := decodeBundle(resp)
	if err != nil {
		return nil, err
	}
	out := make([]RelatedPerson, 0, len(b.Entry))
	for i, e := range b.Entry {
		var env relatedEnvelope
		if err := json.Unmarshal(e.Resource, &env); err != nil || env.ResourceType != "RelatedPerson" {
			return nil, malformed(resp, "entry %d is not a RelatedPerson", i)
		}
		out = append(out, RelatedPerson{Resource: env.RelatedPerson})
	}
	return out, nil
}
