package nrls

import (
	"strings"

	"github.com/shcrkit/shcrkit/internal/codesystem"
)

// codeSet holds the displays of one code type's codes: a code is valid
// when it has a display.
type codeSet[T ~string] map[T]string

func (s codeSet[T]) display(c T) string { return s[c] }

func (s codeSet[T]) valid(c T) bool { return s[c] != "" }

// Format says whether the record a pointer leads to is a contact page, an
// unstructured document or structured data (content[].format).
type Format string

// Formats of the England-NRLFormatCode code system.
const (
	FormatContactDetails Format = "urn:nhs-ic:record-contact"
	FormatUnstructured   Format = "urn:nhs-ic:unstructured"
	FormatStructured     Format = "urn:nhs-ic:structured"
)

// formats are the code system's displays of the formats.
var formats = codeSet[Format]{
	FormatContactDetails: "Contact details (HTTP Unsecured)",
	FormatUnstructured:   "Unstructured Document",
	FormatStructured:     "Structured Document",
}

// Stability says whether a record is fixed once written (static) or built
// afresh on every retrieval (dynamic).
type Stability string

// Content stability codes.
const (
	StabilityStatic  Stability = "static"
	StabilityDynamic Stability = "dynamic"
)

// stabilities are the code system's displays of the stability codes.
var stabilities = codeSet[Stability]{StabilityStatic: "Static", StabilityDynamic: "Dynamic"}

// RetrievalMechanism says how a consumer fetches the record a pointer
// leads to.
type RetrievalMechanism string

// Retrieval mechanisms. SSP, Direct, LDR and InContext are the codes of
// the service's API specification; NDR and DirectInContext come from the
// later value set.
const (
	RetrievalSSP             RetrievalMechanism = "SSP"
	RetrievalDirect          RetrievalMechanism = "Direct"
	RetrievalLDR             RetrievalMechanism = "LDR"
	RetrievalInContext       RetrievalMechanism = "InContext"
	RetrievalNDR             RetrievalMechanism = "NDR"
	RetrievalDirectInContext RetrievalMechanism = "Direct_InContext"
)

// retrievals are the displays of the retrieval mechanisms.
var retrievals = codeSet[RetrievalMechanism]{
	RetrievalSSP:             "Spine Secure Proxy",
	RetrievalDirect:          "Direct",
	RetrievalLDR:             "Large Document Retrieval",
	RetrievalInContext:       "Direct using In-Context",
	RetrievalDirectInContext: "Direct using In-Context",
	RetrievalNDR:             "National Document Repository",
}

// system returns the code system a mechanism is written with.
func (m RetrievalMechanism) system() string {
	switch m {
	case RetrievalNDR, RetrievalDirectInContext:
		return codesystem.NRLRetrievalValueSet
	}
	return codesystem.NRLRetrieval
}

// sameSystem compares code systems the way the service's own examples
// need: one published example writes the content stability system with a
// trailing comma.
func sameSystem(got, want string) bool {
	return got == want || strings.TrimRight(got, ", ") == want
}
