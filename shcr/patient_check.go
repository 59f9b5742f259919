package shcr

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
)

// A remote ShCR's structured answer is checked for the patient it is
// about before it is handed back: a search's entries (checkSearchset) and
// a retrieved record, a Bundle's entries included (checkRecordPatient).
// What names a patient is a resource's patient and subject references
// and a Patient resource's NHS number identifiers; a reference by a
// local id alone cannot be checked and is taken.

// patientOf is what the checks read of one resource.
type patientOf struct {
	ResourceType string          `json:"resourceType"`
	Patient      json.RawMessage `json:"patient"`
	Subject      json.RawMessage `json:"subject"`
	// Identifier is read for a Patient only: an array there, a single
	// Identifier in some other resources (a Bundle's).
	Identifier json.RawMessage `json:"identifier"`
	Entry      []struct {
		Resource json.RawMessage `json:"resource"`
	} `json:"entry"`
}

type identifierOf struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// patientReference is the part of a FHIR Reference that names a patient.
type patientReference struct {
	Reference  string       `json:"reference"`
	Identifier identifierOf `json:"identifier"`
}

// maxBundleDepth bounds the Bundles within Bundles checkRecordPatient
// reads into.
const maxBundleDepth = 4

// checkRecordPatient checks that a retrieved structured record (a
// resource, or a Bundle of them) names no patient but nhs (or also, when
// set, another number of the same patient), failing with
// shcrkit.ErrMalformedResponse otherwise. Its errors quote neither the
// record nor the NHS numbers it names.
func checkRecordPatient(body []byte, nhs, also shcrkit.NHSNumber) error {
	return checkResourcePatient(body, patientNumbers{nhs, also}, 0)
}

// patientNumbers are the NHS numbers a record may name: the patient's,
// and, when set, another number of the same patient.
type patientNumbers [2]shcrkit.NHSNumber

func (ns patientNumbers) holds(n shcrkit.NHSNumber) bool {
	return n != "" && (n == ns[0] || n == ns[1])
}

func checkResourcePatient(raw json.RawMessage, nhs patientNumbers, depth int) error {
	var res patientOf
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("%w: the record does not decode as a FHIR resource", shcrkit.ErrMalformedResponse)
	}
	if !res.namesOnly(nhs) {
		return fmt.Errorf("%w: the record's %s is for another patient", shcrkit.ErrMalformedResponse, clip(shcrkit.Redact(res.ResourceType), 40))
	}
	if res.ResourceType != "Bundle" {
		return nil
	}
	if depth >= maxBundleDepth {
		return fmt.Errorf("%w: the record's Bundles nest more than %d deep", shcrkit.ErrMalformedResponse, maxBundleDepth)
	}
	for _, e := range res.Entry {
		if len(e.Resource) == 0 || string(e.Resource) == "null" {
			continue
		}
		if err := checkResourcePatient(e.Resource, nhs, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// namesOnly reports whether the resource names no patient but nhs: no
// NHS number identifier of a Patient, and no patient or subject
// reference by NHS number identifier or by a Patient/<id> whose id is an
// NHS number, other than nhs.
func (r *patientOf) namesOnly(nhs patientNumbers) bool {
	if r.ResourceType == "Patient" && len(r.Identifier) > 0 {
		var ids []identifierOf
		if err := json.Unmarshal(r.Identifier, &ids); err != nil {
			return false
		}
		for _, id := range ids {
			if !sameNHSNumber(id, nhs) {
				return false
			}
		}
	}
	return referencesOnly(r.Patient, nhs) && referencesOnly(r.Subject, nhs)
}

// sameNHSNumber reports whether id, if it is an NHS number identifier,
// is one of nhs.
func sameNHSNumber(id identifierOf, nhs patientNumbers) bool {
	if id.System != codesystem.NHSNumber {
		return true
	}
	n, err := shcrkit.ParseNHSNumber(id.Value)
	return err == nil && nhs.holds(n)
}

// referencesOnly reports whether a patient or subject element (a
// Reference, or a list of them) names no patient but nhs.
func referencesOnly(raw json.RawMessage, nhs patientNumbers) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	var refs []patientReference
	var one patientReference
	if err := json.Unmarshal(raw, &one); err == nil {
		refs = []patientReference{one}
	} else if err := json.Unmarshal(raw, &refs); err != nil {
		return false
	}
	for _, ref := range refs {
		if !sameNHSNumber(ref.Identifier, nhs) {
			return false
		}
		if i := strings.LastIndex(ref.Reference, "Patient/"); i >= 0 {
			id, _, _ := strings.Cut(ref.Reference[i+len("Patient/"):], "/")
			if n, err := shcrkit.ParseNHSNumber(id); err == nil && !nhs.holds(n) {
				return false
			}
		}
	}
	return true
}
