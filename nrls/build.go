package nrls

import (
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/ptr"
	"github.com/shcrkit/shcrkit/nrls/internal/immutable"
)

// PointerSpec is what a producer knows about a record it wants to point
// to. NewPointer turns it into a pointer that passes Validate, filling in
// what the service's rules imply.
type PointerSpec struct {
	// NHSNumber is the patient. Required.
	NHSNumber shcrkit.NHSNumber
	// Custodian is the organisation holding the record and maintaining
	// the pointer: the producer's own ODS code. Required.
	Custodian shcrkit.ODSCode
	// Author is the organisation responsible for the content; default
	// Custodian.
	Author shcrkit.ODSCode
	// Type is the SNOMED code of the record type (see Types). Required;
	// its display and category come from the registry.
	Type string
	// URL is where the record is retrieved. Required. Use an ssp:// URL
	// for a record retrieved through the Spine Secure Proxy (and set
	// ProviderASID), never the proxy's own address.
	URL string
	// ContentType is the record's media type; default application/pdf
	// for an unstructured document, application/fhir+json for structured
	// data and text/html for contact details.
	ContentType string
	// Format defaults to FormatUnstructured.
	Format Format
	// Stability defaults to StabilityStatic.
	Stability Stability
	// Retrieval defaults to RetrievalSSP for an ssp:// URL and
	// RetrievalDirect otherwise.
	Retrieval RetrievalMechanism
	// ProviderASID is the 12-digit ASID of the system an SSP request is
	// routed to; required for an ssp:// URL.
	ProviderASID string
	// PracticeSetting is the SNOMED practice setting (code and display).
	// Required.
	PracticeSetting Concept
	// Confidentiality labels the pointer itself (securityLabel); an
	// unrestricted pointer carries no label.
	Confidentiality shcrkit.Confidentiality
	// LocalID, when set, makes the ID "<Custodian>-<LocalID>". The
	// service assigns its own ID on create; LocalID serves pointers kept
	// elsewhere (a fake's seed data, a test).
	LocalID string
	// Title and Description are shown to users; optional.
	Title       string
	Description string
	// Created is when the record was made (attachment.creation); optional.
	Created time.Time
	// Replaces names pointers this one supersedes (relatesTo replaces).
	Replaces []string
}

// NewPointer builds a pointer from spec and validates it. The error is a
// *ValidationError naming each field at fault.
func NewPointer(spec PointerSpec) (Pointer, error) {
	doc := buildResource(spec)
	p := PointerFrom(doc)
	p.snap = immutable.Snapshot{} // a new pointer was not read from the service
	if err := p.Validate(); err != nil {
		return Pointer{}, err
	}
	return p, nil
}

func buildResource(s PointerSpec) fhir.DocumentReference {
	if s.Author == "" {
		s.Author = s.Custodian
	}
	if s.Format == "" {
		s.Format = FormatUnstructured
	}
	if s.Stability == "" {
		s.Stability = StabilityStatic
	}
	if s.Retrieval == "" {
		s.Retrieval = RetrievalDirect
		if hasScheme(s.URL, "ssp") {
			s.Retrieval = RetrievalSSP
		}
	}
	if s.ContentType == "" {
		switch s.Format {
		case FormatStructured:
			s.ContentType = "application/fhir+json"
		case FormatContactDetails:
			s.ContentType = "text/html"
		default:
			s.ContentType = "application/pdf"
		}
	}
	typ := Concept{Code: s.Type}
	cat := Concept{}
	if rt, ok := LookupType(s.Type); ok {
		typ = rt.Concept
		cat = rt.Category
	}
	doc := fhir.DocumentReference{
		Status:    fhir.DocumentReferenceStatusCurrent,
		Type:      snomedConcept(typ),
		Subject:   &fhir.Reference{Identifier: identifier(codesystem.NHSNumber, string(s.NHSNumber))},
		Custodian: &fhir.Reference{Identifier: identifier(codesystem.ODS, string(s.Custodian))},
		Author:    []fhir.Reference{{Identifier: identifier(codesystem.ODS, string(s.Author))}},
		Content: []fhir.DocumentReferenceContent{{
			Attachment: fhir.Attachment{
				ContentType: ptr.To(s.ContentType),
				Url:         ptr.To(s.URL),
				Title:       optional(s.Title),
			},
			Format: &fhir.Coding{System: ptr.To(codesystem.NRLFormat), Code: ptr.To(string(s.Format)), Display: ptr.To(formats.display(s.Format))},
			Extension: []fhir.Extension{
				codedExtension(codesystem.NRLStabilityExtension, codesystem.NRLStability, string(s.Stability), stabilities.display(s.Stability)),
				codedExtension(codesystem.NRLRetrievalExtension, s.Retrieval.system(), string(s.Retrieval), retrievals.display(s.Retrieval)),
			},
		}},
		Context: &fhir.DocumentReferenceContext{PracticeSetting: snomedConcept(s.PracticeSetting)},
	}
	if cat.Code != "" {
		doc.Category = []fhir.CodeableConcept{*snomedConcept(cat)}
	}
	if s.LocalID != "" {
		doc.Id = ptr.To(string(s.Custodian) + "-" + s.LocalID)
	}
	if s.ProviderASID != "" {
		doc.Context.Related = []fhir.Reference{{Identifier: identifier(codesystem.SpineASID, s.ProviderASID)}}
	}
	if !s.Created.IsZero() {
		doc.Content[0].Attachment.Creation = ptr.To(s.Created.Format(time.RFC3339))
	}
	if s.Description != "" {
		doc.Description = ptr.To(s.Description)
	}
	if s.Confidentiality != shcrkit.ConfidentialityUnrestricted {
		doc.SecurityLabel = []fhir.CodeableConcept{{Coding: []fhir.Coding{s.Confidentiality.Coding()}}}
	}
	for _, id := range s.Replaces {
		doc.RelatesTo = append(doc.RelatesTo, replacesTarget(id))
	}
	return doc
}

func replacesTarget(id string) fhir.DocumentReferenceRelatesTo {
	return fhir.DocumentReferenceRelatesTo{
		Code:   fhir.DocumentRelationshipTypeReplaces,
		Target: fhir.Reference{Type: ptr.To("DocumentReference"), Identifier: &fhir.Identifier{Value: ptr.To(id)}},
	}
}

func identifier(system, value string) *fhir.Identifier {
	return &fhir.Identifier{System: ptr.To(system), Value: ptr.To(value)}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func snomedConcept(c Concept) *fhir.CodeableConcept {
	coding := fhir.Coding{System: ptr.To(codesystem.SNOMED), Code: ptr.To(c.Code)}
	if c.Display != "" {
		coding.Display = ptr.To(c.Display)
	}
	return &fhir.CodeableConcept{Coding: []fhir.Coding{coding}}
}

func codedExtension(url, system, code, display string) fhir.Extension {
	coding := fhir.Coding{System: ptr.To(system), Code: ptr.To(code)}
	if display != "" {
		coding.Display = ptr.To(display)
	}
	return fhir.Extension{Url: url, ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{coding}}}
}
