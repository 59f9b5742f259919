package pdstest

import (
	"net/http"

	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/version"
)

// capabilities is what the fake serves, for GET <base>/metadata.
var capabilities = fake.Capabilities{
	Name:  "PDSFake",
	Title: "Personal Demographics Service (FHIR R4) fake",
	Description: "In-memory fake of the Personal Demographics Service FHIR R4 API for healthcare-worker and " +
		"application-restricted access, seeded with synthetic patients. No patient creation (POST /Patient answers 501), " +
		"no Coverage, no NHS login access, no X-Sync-Wait.",
	Software: "shcrkit pdstest",
	Version:  version.SDK,
	Security: "OAuth2 bearer access tokens from the token endpoint (signed-JWT client credentials); every request " +
		"but this one needs X-Request-ID (a UUID).",
	Resources: []fake.ResourceCapability{
		{
			Type:         "Patient",
			Profile:      "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient",
			Interactions: []string{"read", "search-type", "patch"},
			Versioning:   "versioned-update",
			Documentation: "read answers with ETag W/\"<version>\"; a superseded NHS number answers with the surviving record. " +
				"patch takes {\"patches\":[...]} (JSON Patch) as application/json-patch+json or application/json, with If-Match. " +
				"A search with too many matches answers 200 with an OperationOutcome coded TOO_MANY_MATCHES.",
			Search: []fake.SearchParam{
				{Name: "family", Type: "string", Documentation: "required unless the search is fuzzy; a trailing * after two characters is a wildcard"},
				{Name: "given", Type: "string", Documentation: "repeatable"},
				{Name: "gender", Type: "token"},
				{Name: "birthdate", Type: "date", Documentation: "required; eq, ge or le then yyyy-mm-dd (no prefix means eq); two make a ge/le range"},
				{Name: "death-date", Type: "date"},
				{Name: "address-postalcode", Type: "string"},
				{Name: "general-practitioner", Type: "string", Documentation: "the GP practice's ODS code"},
				{Name: "email", Type: "string"},
				{Name: "phone", Type: "string"},
				{Name: "_fuzzy-match", Type: "token"},
				{Name: "_exact-match", Type: "token"},
				{Name: "_history", Type: "token"},
				{Name: "_max-results", Type: "number", Documentation: "1 to 50; 1 for application-restricted access"},
			},
		},
		{
			Type:         "RelatedPerson",
			Profile:      "https://fhir.hl7.org.uk/StructureDefinition/UKCore-RelatedPerson",
			Interactions: []string{"read", "search-type"},
			Documentation: "GET /Patient/{id}/RelatedPerson answers a searchset Bundle; each entry's fullUrl, " +
				"/Patient/{id}/RelatedPerson/{relatedPersonId}, reads that one. Both carry the patient's ETag.",
		},
	},
}

func serveCapabilities(w http.ResponseWriter, r *http.Request) {
	fake.WriteCapabilities(w, r, baseURL(r), capabilities, "2026-06-01")
}
