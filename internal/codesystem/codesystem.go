// Package codesystem holds the URIs of the code systems, identifier
// systems and extensions that the SDK's clients and fakes write and read,
// so that a pointer built by nrls and one served by a fake name them alike.
package codesystem

// Code and identifier systems.
const (
	// NHSNumber is the FHIR identifier system of NHS numbers.
	NHSNumber = "https://fhir.nhs.uk/Id/nhs-number"
	// ODS is the FHIR identifier system of ODS organisation codes.
	ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
	// Confidentiality is the HL7 v3 Confidentiality code system in which
	// PDS labels a patient (Patient.meta.security) and the NRL labels a
	// pointer (DocumentReference.securityLabel).
	Confidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	// ActReason is the HL7 v3 ActReason code system that purposes of use
	// are expressed in.
	ActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	// SNOMED is SNOMED CT: record types, categories, practice settings.
	SNOMED = "http://snomed.info/sct"
	// SpineASID identifies a Spine accredited system (ASID), such as the
	// provider an SSP request goes to.
	SpineASID = "https://fhir.nhs.uk/Id/nhsSpineASID"
	// NRLFormat is the code system of an NRL pointer's content[].format.
	NRLFormat = "https://fhir.nhs.uk/England/CodeSystem/England-NRLFormatCode"
	// NRLStability is the code system inside the content stability
	// extension.
	NRLStability = "https://fhir.nhs.uk/England/CodeSystem/England-NRLContentStability"
	// NRLRetrieval is the code system inside the retrieval mechanism
	// extension, as the NRL's API specification names it.
	NRLRetrieval = "https://fhir.nhs.uk/England/CodeSystem/England-NRLRetrievalMechanism"
	// NRLRetrievalValueSet is the code system the later retrieval
	// mechanism value set uses for the same concept (with NDR and
	// Direct_InContext).
	NRLRetrievalValueSet = "https://fhir.nhs.uk/England/CodeSystem/England-RetrievalMechanismNRL"
)

// Extensions of an NRL pointer's content[].
const (
	// NRLStabilityExtension is the content stability extension.
	NRLStabilityExtension = "https://fhir.nhs.uk/England/StructureDefinition/Extension-England-ContentStability"
	// NRLRetrievalExtension is the retrieval mechanism extension.
	NRLRetrievalExtension = "https://fhir.nhs.uk/England/StructureDefinition/Extension-England-NRLRetrievalMechanism"
)

// ActReasonDisplay is the ActReason code system's display of a purpose
// of use code (TREAT, ETREAT, BTG), as a FHIR coding carries it, or "".
func ActReasonDisplay(code string) string {
	switch code {
	case "TREAT":
		return "treatment"
	case "ETREAT":
		return "Emergency Treatment"
	case "BTG":
		return "break the glass"
	}
	return ""
}
