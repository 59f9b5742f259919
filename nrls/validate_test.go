package nrls_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/nrls"
)

func TestNewPointerBuildsValidPointers(t *testing.T) {
	tests := []struct {
		name  string
		spec  func() nrls.PointerSpec
		check func(t *testing.T, p nrls.Pointer)
	}{
		{"ssp defaults", sspSpec, func(t *testing.T, p nrls.Pointer) {
			assert.Equal(t, nrls.RetrievalSSP, p.Retrieval)
			assert.Equal(t, testASID, p.ProviderASID)
			assert.Equal(t, nrls.FormatUnstructured, p.Format)
			assert.Equal(t, nrls.StabilityStatic, p.Stability)
			assert.Equal(t, "application/pdf", p.ContentType)
			assert.Equal(t, testODS, p.Author, "author defaults to the custodian")
			assert.Equal(t, nrls.Concept{Code: "734163000", Display: "Care plan"}, p.Category)
			assert.Equal(t, "Mental health crisis plan", p.Type.Display)
			assert.Empty(t, p.ID, "the service assigns IDs")
			assert.True(t, p.IsSSP())
		}},
		{"direct structured", func() nrls.PointerSpec {
			s := directSpec()
			s.Type, s.Format, s.Stability = nrls.TypeSummaryRecord, nrls.FormatStructured, nrls.StabilityDynamic
			return s
		}, func(t *testing.T, p nrls.Pointer) {
			assert.Equal(t, nrls.RetrievalDirect, p.Retrieval)
			assert.Equal(t, "application/fhir+json", p.ContentType)
			assert.Equal(t, nrls.Concept{Code: "823651000000106", Display: "Clinical note"}, p.Category)
			assert.Equal(t, nrls.StabilityDynamic, p.Stability)
			assert.False(t, p.IsSSP())
		}},
		{"contact details", func() nrls.PointerSpec {
			s := directSpec()
			s.Format = nrls.FormatContactDetails
			return s
		}, func(t *testing.T, p nrls.Pointer) { assert.Equal(t, "text/html", p.ContentType) }},
		{"local ID, author, label, replaces", func() nrls.PointerSpec {
			s := sspSpec()
			s.LocalID, s.Author, s.Confidentiality = "local-1", "Y10001", shcrkit.ConfidentialityVeryRestricted
			s.Replaces = []string{"RNR-old1"}
			return s
		}, func(t *testing.T, p nrls.Pointer) {
			assert.Equal(t, "RNR-local-1", p.ID)
			assert.Equal(t, shcrkit.ODSCode("Y10001"), p.Author)
			assert.Equal(t, shcrkit.ConfidentialityVeryRestricted, p.Confidentiality)
			assert.Equal(t, []string{"RNR-old1"}, p.Replaces)
		}},
		{"value set retrieval mechanism", func() nrls.PointerSpec {
			s := directSpec()
			s.Retrieval = nrls.RetrievalNDR
			return s
		}, func(t *testing.T, p nrls.Pointer) {
			assert.Equal(t, nrls.RetrievalNDR, p.Retrieval)
			assert.Equal(t, codesystem.NRLRetrievalValueSet, *p.Resource.Content[0].Extension[1].ValueCodeableConcept.Coding[0].System)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := nrls.NewPointer(tt.spec())
			require.NoError(t, err)
			require.NoError(t, p.Validate())
			require.NoError(t, p.Validate())
			tt.check(t, p)
			assert.Equal(t, testNHS, p.NHSNumber)
			assert.Equal(t, "current", p.Status)
		})
	}
}

func TestNewPointerRejectsBadSpecs(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*nrls.PointerSpec)
		field string
	}{
		{"no NHS number", func(s *nrls.PointerSpec) { s.NHSNumber = "" }, "subject.identifier.value"},
		{"bad NHS number", func(s *nrls.PointerSpec) { s.NHSNumber = "9490000018" }, "subject.identifier.value"},
		{"no custodian", func(s *nrls.PointerSpec) { s.Custodian = "" }, "custodian.identifier.value"},
		{"lower-case custodian", func(s *nrls.PointerSpec) { s.Custodian, s.Author = "rnr", "RNR" }, "custodian.identifier.value"},
		{"unknown type", func(s *nrls.PointerSpec) { s.Type = "410970009" }, "type.coding[0].code"},
		{"no URL", func(s *nrls.PointerSpec) { s.URL = "" }, "content[0].attachment.url"},
		{"relative URL", func(s *nrls.PointerSpec) { s.URL, s.ProviderASID = "/records/1", "" }, "content[0].attachment.url"},
		{"NHS number in URL", func(s *nrls.PointerSpec) { s.URL = directURL + "?patient=" + string(testNHS) }, "content[0].attachment.url"},
		{"NHS number in ssp URL", func(s *nrls.PointerSpec) { s.URL = "ssp://north.shcr.example/" + string(testNHS) + "/plan.pdf" }, "content[0].attachment.url"},
		{"ssp without ASID", func(s *nrls.PointerSpec) { s.ProviderASID = "" }, "context.related"},
		{"short ASID", func(s *nrls.PointerSpec) { s.ProviderASID = "12345" }, "context.related[0].identifier.value"},
		{"no practice setting", func(s *nrls.PointerSpec) { s.PracticeSetting = nrls.Concept{} }, "context.practiceSetting.coding[0].code"},
		{"JSON for unstructured", func(s *nrls.PointerSpec) { s.ContentType = "application/fhir+json" }, "content[0].attachment.contentType"},
		{"bad format", func(s *nrls.PointerSpec) { s.Format = "urn:other" }, "content[0].format.code"},
		{"bad stability", func(s *nrls.PointerSpec) { s.Stability = "sometimes" }, "content[0].extension[0].valueCodeableConcept.coding[0].code"},
		{"bad retrieval", func(s *nrls.PointerSpec) { s.Retrieval = "Pigeon" }, "content[0].extension[1].valueCodeableConcept.coding[0].code"},
		{"direct on ssp URL", func(s *nrls.PointerSpec) { s.Retrieval = nrls.RetrievalDirect }, "content[0].extension[1].valueCodeableConcept.coding[0].code"},
		{"ssp on https URL", func(s *nrls.PointerSpec) { s.URL = directURL; s.Retrieval = nrls.RetrievalSSP }, "content[0].attachment.url"},
		{"bad label", func(s *nrls.PointerSpec) { s.Confidentiality = shcrkit.Confidentiality(7) }, "securityLabel[0].coding[0].code"},
		{"local ID with space", func(s *nrls.PointerSpec) { s.LocalID = "a b" }, "id"},
		{"replaces another custodian", func(s *nrls.PointerSpec) { s.Replaces = []string{"RWV-1"} }, "relatesTo[0].target.identifier.value"},
		{"replaces nothing", func(s *nrls.PointerSpec) { s.Replaces = []string{""} }, "relatesTo[0].target.identifier.value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := sspSpec()
			tt.edit(&spec)
			_, err := nrls.NewPointer(spec)
			requireField(t, err, tt.field)
		})
	}
}

// requireField checks err is a validation error naming field.
func requireField(t *testing.T, err error, field string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, nrls.ErrInvalidPointer)
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	var v *nrls.ValidationError
	require.True(t, errors.As(err, &v), "want *ValidationError, got %T", err)
	assert.Contains(t, nrls.Fields(v), field)
	assert.Contains(t, err.Error(), field)
	assert.NotContains(t, err.Error(), string(testNHS), "error text must not hold the NHS number")
}

// TestValidateRules breaks each rule of the service on an otherwise valid
// pointer and checks the error names the field at fault.
func TestValidateRules(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(d *fhir.DocumentReference)
		field string
	}{
		{"status superseded", func(d *fhir.DocumentReference) { d.Status = fhir.DocumentReferenceStatusSuperseded }, "status"},
		{"no subject", func(d *fhir.DocumentReference) { d.Subject = nil }, "subject"},
		{"subject by reference", func(d *fhir.DocumentReference) { d.Subject = &fhir.Reference{Reference: s("Patient/1")} }, "subject.identifier"},
		{"subject system", func(d *fhir.DocumentReference) { d.Subject.Identifier.System = s("urn:other") }, "subject.identifier.system"},
		{"subject value missing", func(d *fhir.DocumentReference) { d.Subject.Identifier.Value = nil }, "subject.identifier.value"},
		{"no custodian", func(d *fhir.DocumentReference) { d.Custodian = nil }, "custodian"},
		{"custodian without identifier", func(d *fhir.DocumentReference) { d.Custodian.Identifier = nil }, "custodian.identifier"},
		{"custodian system", func(d *fhir.DocumentReference) { d.Custodian.Identifier.System = s("urn:other") }, "custodian.identifier.system"},
		{"custodian value missing", func(d *fhir.DocumentReference) { d.Custodian.Identifier.Value = nil }, "custodian.identifier.value"},
		{"no author", func(d *fhir.DocumentReference) { d.Author = nil }, "author"},
		{"two authors", func(d *fhir.DocumentReference) { d.Author = append(d.Author, d.Author[0]) }, "author"},
		{"author system", func(d *fhir.DocumentReference) { d.Author[0].Identifier.System = s("urn:other") }, "author[0].identifier.system"},
		{"author code", func(d *fhir.DocumentReference) { d.Author[0].Identifier.Value = s("not an ODS code") }, "author[0].identifier.value"},
		{"bad ID", func(d *fhir.DocumentReference) { d.Id = s("no_hyphen") }, "id"},
		{"ID of another custodian", func(d *fhir.DocumentReference) { d.Id = s("RWV-123") }, "id"},
		{"long ID", func(d *fhir.DocumentReference) { d.Id = s("RNR-" + strings.Repeat("a", 61)) }, "id"},
		{"no type", func(d *fhir.DocumentReference) { d.Type = nil }, "type"},
		{"two type codings", func(d *fhir.DocumentReference) { d.Type.Coding = append(d.Type.Coding, d.Type.Coding[0]) }, "type.coding"},
		{"type system", func(d *fhir.DocumentReference) { d.Type.Coding[0].System = s("http://loinc.org") }, "type.coding[0].system"},
		{"type display", func(d *fhir.DocumentReference) { d.Type.Coding[0].Display = s("Crisis plan") }, "type.coding[0].display"},
		{"no category", func(d *fhir.DocumentReference) { d.Category = nil }, "category"},
		{"two categories", func(d *fhir.DocumentReference) { d.Category = append(d.Category, d.Category[0]) }, "category"},
		{"two category codings", func(d *fhir.DocumentReference) {
			d.Category[0].Coding = append(d.Category[0].Coding, d.Category[0].Coding[0])
		}, "category[0].coding"},
		{"category system", func(d *fhir.DocumentReference) { d.Category[0].Coding[0].System = s("http://loinc.org") }, "category[0].coding[0].system"},
		{"unknown category", func(d *fhir.DocumentReference) { d.Category[0].Coding[0].Code = s("68552-9") }, "category[0].coding[0].code"},
		{"category display", func(d *fhir.DocumentReference) { d.Category[0].Coding[0].Display = s("Care Plan") }, "category[0].coding[0].display"},
		{"category of another type", func(d *fhir.DocumentReference) {
			d.Category[0] = codeable(codesystem.SNOMED, "1102421000000108", "Observations")
		}, "category[0].coding[0].code"},
		{"no content", func(d *fhir.DocumentReference) { d.Content = nil }, "content"},
		{"no content type", func(d *fhir.DocumentReference) { d.Content[0].Attachment.ContentType = nil }, "content[0].attachment.contentType"},
		{"bad content type", func(d *fhir.DocumentReference) { d.Content[0].Attachment.ContentType = s("pdf") }, "content[0].attachment.contentType"},
		{"no format", func(d *fhir.DocumentReference) { d.Content[0].Format = nil }, "content[0].format"},
		{"format system", func(d *fhir.DocumentReference) { d.Content[0].Format.System = s("urn:oid:1.3.6.1.4.1.19376.1.2.3") }, "content[0].format.system"},
		{"format display", func(d *fhir.DocumentReference) { d.Content[0].Format.Display = s("PDF") }, "content[0].format.display"},
		{"structured PDF", func(d *fhir.DocumentReference) {
			d.Content[0].Format.Code, d.Content[0].Format.Display = s(string(nrls.FormatStructured)), s("Structured Document")
		}, "content[0].attachment.contentType"},
		{"contact details PDF", func(d *fhir.DocumentReference) {
			d.Content[0].Format.Code, d.Content[0].Format.Display = s(string(nrls.FormatContactDetails)), s("Contact details (HTTP Unsecured)")
		}, "content[0].attachment.contentType"},
		{"no stability extension", func(d *fhir.DocumentReference) { d.Content[0].Extension = d.Content[0].Extension[1:] }, "content[0].extension"},
		{"two stability extensions", func(d *fhir.DocumentReference) {
			d.Content[0].Extension = append(d.Content[0].Extension, d.Content[0].Extension[0])
		}, "content[0].extension"},
		{"two retrieval extensions", func(d *fhir.DocumentReference) {
			d.Content[0].Extension = append(d.Content[0].Extension, d.Content[0].Extension[1])
		}, "content[0].extension"},
		{"stability without value", func(d *fhir.DocumentReference) { d.Content[0].Extension[0].ValueCodeableConcept = nil }, "content[0].extension[0].valueCodeableConcept"},
		{"stability with two codings", func(d *fhir.DocumentReference) {
			cc := d.Content[0].Extension[0].ValueCodeableConcept
			cc.Coding = append(cc.Coding, cc.Coding[0])
		}, "content[0].extension[0].valueCodeableConcept.coding"},
		{"stability system", func(d *fhir.DocumentReference) {
			d.Content[0].Extension[0].ValueCodeableConcept.Coding[0].System = s("urn:other")
		}, "content[0].extension[0].valueCodeableConcept.coding[0].system"},
		{"stability display", func(d *fhir.DocumentReference) {
			d.Content[0].Extension[0].ValueCodeableConcept.Coding[0].Display = s("Dynamic")
		}, "content[0].extension[0].valueCodeableConcept.coding[0].display"},
		{"retrieval display", func(d *fhir.DocumentReference) {
			d.Content[0].Extension[1].ValueCodeableConcept.Coding[0].Display = s("SSP")
		}, "content[0].extension[1].valueCodeableConcept.coding[0].display"},
		{"retrieval system", func(d *fhir.DocumentReference) {
			d.Content[0].Extension[1].ValueCodeableConcept.Coding[0].System = s("urn:other")
		}, "content[0].extension[1].valueCodeableConcept.coding[0].system"},
		{"unknown extension", func(d *fhir.DocumentReference) {
			d.Content[0].Extension = append(d.Content[0].Extension, fhir.Extension{Url: "https://example.org/ext"})
		}, "content[0].extension[2].url"},
		{"second content broken", func(d *fhir.DocumentReference) {
			c := d.Content[0]
			c.Attachment.Url = nil
			d.Content = append(d.Content, c)
		}, "content[1].attachment.url"},
		{"no context", func(d *fhir.DocumentReference) { d.Context = nil }, "context"},
		{"no practice setting", func(d *fhir.DocumentReference) { d.Context.PracticeSetting = nil }, "context.practiceSetting"},
		{"practice setting codings", func(d *fhir.DocumentReference) { d.Context.PracticeSetting.Coding = nil }, "context.practiceSetting.coding"},
		{"practice setting system", func(d *fhir.DocumentReference) {
			d.Context.PracticeSetting.Coding[0].System = s("urn:other")
		}, "context.practiceSetting.coding[0].system"},
		{"practice setting display", func(d *fhir.DocumentReference) {
			d.Context.PracticeSetting.Coding[0].Display = nil
		}, "context.practiceSetting.coding[0].display"},
		{"ssp with related but no ASID", func(d *fhir.DocumentReference) {
			d.Context.Related = []fhir.Reference{{Identifier: &fhir.Identifier{System: s(codesystem.ODS), Value: s("RNR")}}}
		}, "context.related"},
		{"two ASIDs", func(d *fhir.DocumentReference) {
			d.Context.Related = append(d.Context.Related, d.Context.Related[0])
		}, "context.related"},
		{"ASID with letters", func(d *fhir.DocumentReference) { d.Context.Related[0].Identifier.Value = s("90000000010A") }, "context.related[0].identifier.value"},
		{"relatesTo without target", func(d *fhir.DocumentReference) {
			d.RelatesTo = []fhir.DocumentReferenceRelatesTo{{Code: fhir.DocumentRelationshipTypeReplaces}}
		}, "relatesTo[0].target.identifier.value"},
		{"relatesTo to itself", func(d *fhir.DocumentReference) {
			d.Id = s("RNR-1")
			d.RelatesTo = []fhir.DocumentReferenceRelatesTo{{Code: fhir.DocumentRelationshipTypeReplaces,
				Target: fhir.Reference{Identifier: &fhir.Identifier{Value: s("RNR-1")}}}}
		}, "relatesTo[0].target.identifier.value"},
		{"relatesTo malformed ID", func(d *fhir.DocumentReference) {
			d.RelatesTo = []fhir.DocumentReferenceRelatesTo{{Code: fhir.DocumentRelationshipTypeReplaces,
				Target: fhir.Reference{Identifier: &fhir.Identifier{Value: s("RNR")}}}}
		}, "relatesTo[0].target.identifier.value"},
		{"bad date", func(d *fhir.DocumentReference) { d.Date = s("yesterday") }, "date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := roundTrip(t, mustPointer(t, sspSpec()))
			tt.edit(&p.Resource)
			requireField(t, p.Validate(), tt.field)
		})
	}
}

func TestValidateReportsEveryBrokenRule(t *testing.T) {
	p := roundTrip(t, mustPointer(t, sspSpec()))
	p.Resource.Subject = nil
	p.Resource.Type.Coding[0].Display = s("wrong")
	p.Resource.Context.PracticeSetting = nil
	err := p.Validate()
	var v *nrls.ValidationError
	require.ErrorAs(t, err, &v)
	assert.Equal(t, []string{"subject", "type.coding[0].display", "context.practiceSetting"}, nrls.Fields(v))
	assert.Len(t, v.Errors, 3)
	assert.NotContains(t, nrls.Fields(v), "author")
}

func TestValidateAcceptsServiceVariants(t *testing.T) {
	tests := []struct {
		name string
		edit func(d *fhir.DocumentReference)
	}{
		{"alternative type display", func(d *fhir.DocumentReference) {
			d.Type = &fhir.CodeableConcept{Coding: []fhir.Coding{{System: s(codesystem.SNOMED), Code: s(nrls.TypeAdvanceCarePlan), Display: s("Advance care plan")}}}
		}},
		{"lower-case format display", func(d *fhir.DocumentReference) { d.Content[0].Format.Display = s("Unstructured document") }},
		{"lower-case stability display", func(d *fhir.DocumentReference) {
			d.Content[0].Extension[0].ValueCodeableConcept.Coding[0].Display = s("static")
		}},
		{"stability system with trailing comma", func(d *fhir.DocumentReference) {
			d.Content[0].Extension[0].ValueCodeableConcept.Coding[0].System = s(codesystem.NRLStability + ",")
		}},
		{"no retrieval extension", func(d *fhir.DocumentReference) { d.Content[0].Extension = d.Content[0].Extension[:1] }},
		{"ID of the custodian", func(d *fhir.DocumentReference) { d.Id = s("RNR-0f1e2d3c-aaaa_b") }},
		{"other related identifiers beside the ASID", func(d *fhir.DocumentReference) {
			d.Context.Related = append(d.Context.Related, fhir.Reference{Identifier: &fhir.Identifier{System: s(codesystem.ODS), Value: s("RNR")}})
		}},
		{"normal label", func(d *fhir.DocumentReference) {
			d.SecurityLabel = []fhir.CodeableConcept{codeable(codesystem.Confidentiality, "N", "normal")}
		}},
		{"date", func(d *fhir.DocumentReference) { d.Date = s("2025-01-31T09:30:00.123+01:00") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := roundTrip(t, mustPointer(t, sspSpec()))
			if tt.name == "alternative type display" {
				p.Resource.Category[0] = codeable(codesystem.SNOMED, "734163000", "Care plan")
			}
			tt.edit(&p.Resource)
			assert.NoError(t, p.Validate())
		})
	}
}

func TestCheckImmutable(t *testing.T) {
	orig := roundTrip(t, mustPointer(t, sspSpec()))
	orig.Resource.Id = s("RNR-1")
	orig = roundTrip(t, orig)
	tests := []struct {
		name  string
		edit  func(d *fhir.DocumentReference)
		field string
	}{
		{"id", func(d *fhir.DocumentReference) { d.Id = s("RNR-2") }, "id"},
		{"subject", func(d *fhir.DocumentReference) { d.Subject.Identifier.Value = s(string(otherNHS)) }, "subject"},
		{"custodian", func(d *fhir.DocumentReference) { d.Custodian.Identifier.Value = s("RWV") }, "custodian"},
		{"type", func(d *fhir.DocumentReference) { d.Type.Coding[0].Code = s(nrls.TypeRespectForm) }, "type"},
		{"status", func(d *fhir.DocumentReference) { d.Status = fhir.DocumentReferenceStatusEnteredInError }, "status"},
		{"author", func(d *fhir.DocumentReference) { d.Author[0].Identifier.Value = s("Y10001") }, "author"},
		{"masterIdentifier", func(d *fhir.DocumentReference) {
			d.MasterIdentifier = &fhir.Identifier{System: s("urn:ietf:rfc:3986"), Value: s("urn:oid:1.2.3")}
		}, "masterIdentifier"},
		{"identifier", func(d *fhir.DocumentReference) {
			d.Identifier = []fhir.Identifier{{System: s("urn:ietf:rfc:3986"), Value: s("urn:oid:1.2.3")}}
		}, "identifier"},
		{"relatesTo", func(d *fhir.DocumentReference) {
			d.RelatesTo = []fhir.DocumentReferenceRelatesTo{{Target: fhir.Reference{Identifier: &fhir.Identifier{Value: s("RNR-0")}}}}
		}, "relatesTo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upd := roundTrip(t, orig)
			tt.edit(&upd.Resource)
			err := nrls.CheckImmutable(orig, upd)
			requireField(t, err, tt.field)
			var v *nrls.ValidationError
			require.ErrorAs(t, err, &v)
			assert.Len(t, v.Errors, 1, "only %s changed", tt.field)
		})
	}
	t.Run("mutable fields may change", func(t *testing.T) {
		upd := roundTrip(t, orig)
		upd.Resource.Description = s("new description")
		upd.Resource.Content[0].Attachment.Url = s("ssp://north.shcr.example/records/v2")
		upd.Resource.SecurityLabel = []fhir.CodeableConcept{codeable(codesystem.Confidentiality, "R", "restricted")}
		assert.NoError(t, nrls.CheckImmutable(orig, upd))
	})
	t.Run("hand-built original", func(t *testing.T) {
		hand := nrls.Pointer{Resource: orig.Resource}
		upd := roundTrip(t, orig)
		upd.Resource.Type.Coding[0].Code = s(nrls.TypeRespectForm)
		requireField(t, nrls.CheckImmutable(hand, upd), "type")
	})
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"RNR-1": true, "Y05868-99999-99999-999999": true, "X26.A-1_b-c": true,
		"RNR": false, "-1": false, "RNR-": false, "RNR-_a": false, "RNR 1-a": false,
		"RNR-" + strings.Repeat("a", 60): true, "RNR-" + strings.Repeat("a", 61): false,
	} {
		assert.Equal(t, want, nrls.ValidID(id), id)
	}
}
