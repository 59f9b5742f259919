package shcrtest

import (
	"bytes"
	"encoding/json"
	"html"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/synthetic"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

// Document is what the fake serves for one pointer: a FHIR resource, a
// document or a page (shcr.Record is what a client makes of it).
type Document struct {
	// PointerID is the ID of the NRL pointer that leads to the document;
	// it is served at <service root>/records/<PointerID>.
	PointerID string
	// NHSNumber is the patient the document is about.
	NHSNumber shcrkit.NHSNumber
	// ContentType is the media type served.
	ContentType string
	// Body is the content. A FHIR Bundle with more entries than the
	// server's page size is served in pages linked by next links.
	Body []byte
}

// people indexes the PDS fake's seed population by NHS number, so that
// records carry the same names and dates as the patients' PDS records.
// The population is the same every time, so it is built once; callers
// only read it.
var people = sync.OnceValue(func() map[shcrkit.NHSNumber]pdstest.Person {
	m := make(map[shcrkit.NHSNumber]pdstest.Person)
	for _, p := range pdstest.Population() {
		m[p.NHSNumber] = p
	}
	return m
})

// documentFor makes the document a pointer leads to, shaped by the
// pointer's content type: a FHIR Bundle (summaries) or CarePlan for
// structured content, a one-page PDF for documents, an HTML page
// otherwise. The content is invented and carries the patient's name and
// date of birth from the PDS fake's population when the patient is in it.
func documentFor(p nrls.Pointer) Document {
	person := people()[p.NHSNumber]
	r := Document{PointerID: p.ID, NHSNumber: p.NHSNumber, ContentType: p.ContentType}
	title := p.Title
	if title == "" {
		title = p.Type.Display
	}
	switch ct := strings.ToLower(p.ContentType); {
	case strings.HasPrefix(ct, "application/fhir+json"), strings.HasPrefix(ct, "application/json"):
		r.ContentType = "application/fhir+json"
		if p.Type.Code == nrls.TypeSummaryRecord || p.Type.Code == nrls.TypeClinicalSummary {
			r.Body = summaryBundle(p, person, title)
		} else {
			r.Body = carePlan(p, person, title)
		}
	case strings.HasPrefix(ct, "text/html"):
		r.ContentType = "text/html; charset=utf-8"
		r.Body = htmlPage(p, person, title)
	default:
		r.ContentType = "application/pdf"
		r.Body = synthetic.PDF(title, documentLines(p, person)...)
	}
	return r
}

func patientName(person pdstest.Person) string {
	n := strings.TrimSpace(strings.Join(append(append([]string{person.Prefix}, person.Given...), person.Family), " "))
	if n == "" {
		return "Name not recorded"
	}
	return n
}

func documentLines(p nrls.Pointer, person pdstest.Person) []string {
	return []string{
		"Patient: " + patientName(person),
		"Date of birth: " + orUnknown(person.BirthDate),
		"NHS number: " + p.NHSNumber.Format(),
		"Held by: " + string(p.Custodian),
		"Record: " + p.ID,
		"This document is synthetic test data.",
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "not recorded"
	}
	return s
}

func nhsIdentifier(n shcrkit.NHSNumber) []any {
	return []any{map[string]any{"system": codesystem.NHSNumber, "value": string(n)}}
}

func patientResource(p nrls.Pointer, person pdstest.Person) map[string]any {
	res := map[string]any{
		"resourceType": "Patient",
		"id":           string(p.NHSNumber),
		"identifier":   nhsIdentifier(p.NHSNumber),
	}
	if person.Family != "" || len(person.Given) > 0 {
		res["name"] = []any{map[string]any{"use": "usual", "family": person.Family, "given": person.Given}}
	}
	if person.BirthDate != "" {
		res["birthDate"] = person.BirthDate
	}
	if person.Gender != "" {
		res["gender"] = string(person.Gender)
	}
	if len(person.AddressLines) > 0 {
		res["address"] = []any{map[string]any{"use": "home", "line": person.AddressLines, "postalCode": person.Postcode}}
	}
	if person.Phone != "" {
		res["telecom"] = []any{map[string]any{"system": "phone", "value": person.Phone, "use": "home"}}
	}
	if person.GP != "" {
		res["generalPractitioner"] = []any{map[string]any{"identifier": map[string]any{"system": codesystem.ODS, "value": string(person.GP)}}}
	}
	if person.EmergencyContact != "" {
		res["contact"] = []any{map[string]any{"relationship": []any{map[string]any{"text": "Emergency contact"}},
			"telecom": []any{map[string]any{"system": "phone", "value": person.EmergencyContact}}}}
	}
	return res
}

// entryUUID is the stable urn:uuid of one resource of a record, so that
// the same record always carries the same fullUrls.
func entryUUID(pointerID, resourceID string) string {
	return "urn:uuid:" + uuid.NewSHA1(uuid.NameSpaceURL, []byte("shcrtest:"+pointerID+"/"+resourceID)).String()
}

// summaryBundle is a collection Bundle of a summary: the composition
// first, then the patient and the entries under its headings. Each entry's
// fullUrl is a urn:uuid, and references between them use those.
func summaryBundle(p nrls.Pointer, person pdstest.Person, title string) []byte {
	patient := patientResource(p, person)
	patientURL := entryUUID(p.ID, "patient")
	subject := map[string]any{"reference": patientURL,
		"identifier": map[string]any{"system": codesystem.NHSNumber, "value": string(p.NHSNumber)}}
	clinical := []map[string]any{
		{"resourceType": "Condition", "id": p.ID + "-c1", "subject": subject,
			"code": synthetic.Coded(codesystem.SNOMED, "38341003", "Hypertensive disorder"), "clinicalStatus": synthetic.Coded("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")},
		{"resourceType": "Condition", "id": p.ID + "-c2", "subject": subject,
			"code": synthetic.Coded(codesystem.SNOMED, "195967001", "Asthma"), "clinicalStatus": synthetic.Coded("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")},
		{"resourceType": "AllergyIntolerance", "id": p.ID + "-a1", "patient": subject,
			"code": synthetic.Coded(codesystem.SNOMED, "91936005", "Allergy to penicillin")},
		{"resourceType": "MedicationStatement", "id": p.ID + "-m1", "subject": subject, "status": "active",
			"medicationCodeableConcept": map[string]any{"text": "Amlodipine 5mg tablets"}},
		{"resourceType": "MedicationStatement", "id": p.ID + "-m2", "subject": subject, "status": "active",
			"medicationCodeableConcept": map[string]any{"text": "Salbutamol 100micrograms/dose inhaler"}},
	}
	sections := map[string][]any{}
	var order []string
	for _, e := range clinical {
		rt := e["resourceType"].(string)
		if _, seen := sections[rt]; !seen {
			order = append(order, rt)
		}
		sections[rt] = append(sections[rt], map[string]any{"reference": entryUUID(p.ID, e["id"].(string))})
	}
	headings := map[string]string{"Condition": "Problems", "AllergyIntolerance": "Allergies", "MedicationStatement": "Medications"}
	var section []any
	for _, rt := range order {
		section = append(section, map[string]any{"title": headings[rt], "entry": sections[rt]})
	}
	composition := map[string]any{"resourceType": "Composition", "id": p.ID + "-composition", "status": "final",
		"type": synthetic.Coded(codesystem.SNOMED, p.Type.Code, p.Type.Display), "subject": subject,
		"date": "2025-01-06T09:00:00Z", "title": title,
		"author":  []any{map[string]any{"identifier": map[string]any{"system": codesystem.ODS, "value": string(p.Custodian)}}},
		"section": section}
	es := []any{
		map[string]any{"fullUrl": entryUUID(p.ID, composition["id"].(string)), "resource": composition},
		map[string]any{"fullUrl": patientURL, "resource": patient},
	}
	for _, e := range clinical {
		es = append(es, map[string]any{"fullUrl": entryUUID(p.ID, e["id"].(string)), "resource": e})
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "id": p.ID, "type": "collection",
		"identifier": map[string]any{"system": "urn:ietf:rfc:3986", "value": entryUUID(p.ID, "bundle")},
		"timestamp":  "2025-01-06T09:00:00Z", "entry": es})
	return b
}

// carePlan is a FHIR CarePlan for a structured care plan.
func carePlan(p nrls.Pointer, person pdstest.Person, title string) []byte {
	b, _ := json.Marshal(map[string]any{
		"resourceType": "CarePlan", "id": p.ID, "status": "active", "intent": "plan", "title": title,
		"category":  []any{synthetic.Coded(codesystem.SNOMED, p.Type.Code, p.Type.Display)},
		"subject":   synthetic.Subject(p.NHSNumber),
		"contained": []any{patientResource(p, person)},
		"description": "Synthetic care plan for " + patientName(person) + ": what to do in a crisis, who to call, " +
			"and the wishes the patient has recorded.",
		"author": map[string]any{"identifier": map[string]any{"system": codesystem.ODS, "value": string(p.Custodian)}},
	})
	return b
}

func htmlPage(p nrls.Pointer, person pdstest.Person, title string) []byte {
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
	b.WriteString(html.EscapeString(title))
	b.WriteString("</title></head><body>\n<h1>")
	b.WriteString(html.EscapeString(title))
	b.WriteString("</h1>\n<ul>\n")
	for _, l := range documentLines(p, person) {
		b.WriteString("<li>" + html.EscapeString(l) + "</li>\n")
	}
	b.WriteString("</ul>\n</body></html>\n")
	return b.Bytes()
}
