package nrlstest

import (
	"net/http"

	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/version"
	"github.com/shcrkit/shcrkit/nrls"
)

// isMetadata picks out the capability statement requests, which need no
// access token.
func isMetadata(r *http.Request) bool {
	return r.URL.Path == nrls.ConsumerPath+"/metadata" || r.URL.Path == nrls.ProducerPath+"/metadata"
}

const nrlSecurity = "OAuth2 bearer access tokens from the token endpoint (signed-JWT client credentials); every request " +
	"but this one needs X-Request-ID (a UUID) and NHSD-End-User-Organisation-ODS (the calling organisation)."

var nrlSearch = []fake.SearchParam{
	{Name: "subject:identifier", Type: "token", Documentation: "required: https://fhir.nhs.uk/Id/nhs-number|<NHS number>"},
	{Name: "custodian:identifier", Type: "token", Documentation: "https://fhir.nhs.uk/Id/ods-organization-code|<ODS code>"},
	{Name: "type", Type: "token", Documentation: "http://snomed.info/sct|<record type>"},
	{Name: "category", Type: "token", Documentation: "http://snomed.info/sct|<record category>"},
	{Name: "_summary", Type: "token", Documentation: "count only: a Bundle with total and no entries"},
}

// nrlCapabilities is the statement of one of the fake's two APIs, which
// differ only in what they describe and the interactions they offer on
// DocumentReference.
func nrlCapabilities(name, title, description string, interactions []string, documentation string) fake.Capabilities {
	return fake.Capabilities{
		Name: name, Title: title, Description: description,
		Software: "shcrkit nrlstest",
		Version:  version.SDK,
		Security: nrlSecurity,
		Resources: []fake.ResourceCapability{{
			Type:          "DocumentReference",
			Profile:       "https://fhir.nhs.uk/England/StructureDefinition/England-DocumentReference",
			Interactions:  interactions,
			Documentation: documentation,
			Search:        nrlSearch,
		}},
	}
}

var consumerCapabilities = nrlCapabilities("NRLConsumerFake", "National Record Locator consumer API (FHIR R4) fake",
	"In-memory fake of the NRL consumer API, seeded with synthetic pointers. The caller's organisation "+
		"comes from NHSD-End-User-Organisation-ODS, not from the application behind the access token.",
	[]string{"read", "search-type"},
	"search with GET ?subject:identifier=... or POST DocumentReference/_search with a JSON body "+
		"of the same parameters; the answer is a searchset Bundle whose self link repeats the search.")

var producerCapabilities = nrlCapabilities("NRLProducerFake", "National Record Locator producer API (FHIR R4) fake",
	"In-memory fake of the NRL producer API: the organisation in NHSD-End-User-Organisation-ODS is the "+
		"custodian whose pointers it creates, reads, searches, updates and deletes.",
	[]string{"read", "search-type", "create", "update", "delete"},
	"create answers 201 with an OperationOutcome and a Location of the new pointer "+
		"(/producer/FHIR/R4/DocumentReference/<id>, as the service writes it); a create with relatesTo "+
		"supersedes; update is PUT of the whole pointer; delete answers 200 with an OperationOutcome.")

func serveCapabilities(w http.ResponseWriter, r *http.Request, producer bool) {
	c, base := consumerCapabilities, fake.CalledOrigin(r)+nrls.ConsumerPath
	if producer {
		c, base = producerCapabilities, fake.CalledOrigin(r)+nrls.ProducerPath
	}
	fake.WriteCapabilities(w, r, base, c, "2026-06-01")
}
