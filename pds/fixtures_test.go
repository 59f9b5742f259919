package pds_test

import (
	"fmt"
	"strings"
)

// patientJSON is a hand-written PDS Patient with every field the view
// reads, labelled conf at version.
func patientJSON(nhs, conf, version string) string {
	return fmt.Sprintf(`{
  "resourceType": "Patient",
  "id": %[1]q,
  "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": %[1]q}],
  "meta": {"versionId": %[3]q, "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": %[2]q}]},
  "name": [
    {"id": "N1", "use": "old", "given": ["Ada"], "family": "Quill"},
    {"id": "N2", "use": "usual", "prefix": ["Dr"], "given": ["Ada", "Mary"], "family": "Fernsby", "suffix": ["OBE"]}
  ],
  "gender": "female",
  "birthDate": "1961-06-30",
  "address": [
    {"id": "A1", "use": "temp", "text": "Holiday Home", "line": ["2 Shore Walk", "Sandwell Bay"], "postalCode": "PE31 1ZZ"},
    {"id": "A2", "use": "home", "line": ["7 Orchard Rise", "Lindley"], "postalCode": "SP1 2XY"}
  ],
  "telecom": [
    {"id": "T1", "system": "phone", "use": "home", "value": "01632 960555"},
    {"id": "T2", "system": "email", "use": "home", "value": "ada@example.com"}
  ],
  "generalPractitioner": [{"id": "G1", "type": "Organization", "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y20002"}}]
}`, nhs, conf, version)
}

// restrictedJSON is a restricted patient as PDS returns it: no address,
// telecom or GP.
func restrictedJSON(nhs, conf string) string {
	return fmt.Sprintf(`{"resourceType": "Patient", "id": %[1]q,
  "meta": {"versionId": "4", "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": %[2]q, "display": "restricted"}]},
  "name": [{"id": "N9", "use": "usual", "given": ["Kit"], "family": "Larch"}],
  "gender": "unknown", "birthDate": "2001-02-03"}`, nhs, conf)
}

// outcomeJSON is an OperationOutcome with one issue.
func outcomeJSON(issueType, code, diagnostics string) string {
	diag := ""
	if diagnostics != "" {
		diag = fmt.Sprintf(`, "diagnostics": %q`, diagnostics)
	}
	return fmt.Sprintf(`{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": %q,
  "details": {"coding": [{"system": "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode", "version": "1", "code": %q}]}%s}]}`,
		issueType, code, diag)
}

// searchsetJSON wraps patients with their scores in a searchset Bundle.
func searchsetJSON(entries ...string) string {
	return fmt.Sprintf(`{"resourceType": "Bundle", "type": "searchset", "timestamp": "2025-01-01T00:00:00+00:00", "total": %d, "entry": [%s]}`,
		len(entries), strings.Join(entries, ","))
}

func entryJSON(score string, resource string) string {
	return fmt.Sprintf(`{"fullUrl": "https://pds.example.test/Patient/x", "search": {"score": %s}, "resource": %s}`, score, resource)
}
