package nrls

import "strings"

// Code systems, extension URLs and identifier systems of NRL pointers.
const (
	// SNOMEDSystem is the code system of record types, categories and
	// practice settings.
	SNOMEDSystem = "http://snomed.info/sct"
	// FormatSystem is the code system of content[].format.
	FormatSystem = "https://fhir.nhs.uk/England/CodeSystem/England-NRLFormatCode"
	// StabilityExtensionURL is the URL of the content stability extension
	// on content[].
	StabilityExtensionURL = "https://fhir.nhs.uk/England/StructureDefinition/Extension-England-ContentStability"
	// StabilitySystem is the code system inside the content stability
	// extension.
	StabilitySystem = "https://fhir.nhs.uk/England/CodeSystem/England-NRLContentStability"
	// RetrievalExtensionURL is the URL of the retrieval mechanism
	// extension on content[].
	RetrievalExtensionURL = "https://fhir.nhs.uk/England/StructureDefinition/Extension-England-NRLRetrievalMechanism"
	// RetrievalSystem is the code system inside the retrieval mechanism
	// extension, as the service's API specification names it.
	RetrievalSystem = "https://fhir.nhs.uk/England/CodeSystem/England-NRLRetrievalMechanism"
	// RetrievalValueSetSystem is the code system the later retrieval
	// mechanism value set uses for the same concept (with NDR and
	// Direct_InContext). Pointers using it are read, and accepted.
	RetrievalValueSetSystem = "https://fhir.nhs.uk/England/CodeSystem/England-RetrievalMechanismNRL"
	// ASIDSystem identifies a Spine accredited system (ASID) in
	// context.related: the provider an SSP request goes to.
	ASIDSystem = "https://fhir.nhs.uk/Id/nhsSpineASID"
	// RelatesToReplaces is the relatesTo code of a superseding pointer.
	RelatesToReplaces = "replaces"
)

// Format says whether the record a pointer leads to is a contact page, an
// unstructured document or structured data (content[].format).
type Format string

// Formats of the England-NRLFormatCode code system.
const (
	FormatContactDetails Format = "urn:nhs-ic:record-contact"
	FormatUnstructured   Format = "urn:nhs-ic:unstructured"
	FormatStructured     Format = "urn:nhs-ic:structured"
)

// formatDisplays are the code system's displays of the formats.
var formatDisplays = map[Format]string{
	FormatContactDetails: "Contact details (HTTP Unsecured)",
	FormatUnstructured:   "Unstructured Document",
	FormatStructured:     "Structured Document",
}

// Display returns the code system's display for f, or "" for an unknown
// format.
func (f Format) Display() string { return formatDisplays[f] }

// Valid reports whether f is a code of the format code system.
func (f Format) Valid() bool { return formatDisplays[f] != "" }

// Stability says whether a record is fixed once written (static) or built
// afresh on every retrieval (dynamic).
type Stability string

// Content stability codes.
const (
	StabilityStatic  Stability = "static"
	StabilityDynamic Stability = "dynamic"
)

// stabilityDisplays are the code system's displays of the stability codes.
var stabilityDisplays = map[Stability]string{StabilityStatic: "Static", StabilityDynamic: "Dynamic"}

// Display returns the code system's display for s ("Static", "Dynamic"),
// or "" for an unknown code.
func (s Stability) Display() string { return stabilityDisplays[s] }

// Valid reports whether s is a content stability code.
func (s Stability) Valid() bool { return stabilityDisplays[s] != "" }

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

// retrievalDisplays are the displays of the retrieval mechanisms.
var retrievalDisplays = map[RetrievalMechanism]string{
	RetrievalSSP:             "Spine Secure Proxy",
	RetrievalDirect:          "Direct",
	RetrievalLDR:             "Large Document Retrieval",
	RetrievalInContext:       "Direct using In-Context",
	RetrievalDirectInContext: "Direct using In-Context",
	RetrievalNDR:             "National Document Repository",
}

// Display returns the display of m, or "" for an unknown mechanism.
func (m RetrievalMechanism) Display() string { return retrievalDisplays[m] }

// system returns the code system a mechanism is written with.
func (m RetrievalMechanism) system() string {
	switch m {
	case RetrievalNDR, RetrievalDirectInContext:
		return RetrievalValueSetSystem
	}
	return RetrievalSystem
}

// Valid reports whether m is a known retrieval mechanism.
func (m RetrievalMechanism) Valid() bool { return retrievalDisplays[m] != "" }

// sameSystem compares code systems the way the service's own examples
// need: one published example writes the content stability system with a
// trailing comma.
func sameSystem(got, want string) bool {
	return got == want || strings.TrimRight(got, ", ") == want
}
