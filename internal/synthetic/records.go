package synthetic

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
)

// Subject is a FHIR reference to the patient with this NHS number, with
// the NHS number as its identifier.
func Subject(n shcrkit.NHSNumber) map[string]any {
	return map[string]any{"reference": "Patient/" + string(n), "identifier": map[string]any{"system": codesystem.NHSNumber, "value": string(n)}}
}

// Coded is a FHIR CodeableConcept of one coding.
func Coded(system, code, display string) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": system, "code": code, "display": display}}}
}

// Resources returns the synthetic FHIR resources of resourceType
// (AllergyIntolerance, MedicationStatement or Condition) that a shared
// care record holds for the patient: two of each type for every patient of
// the population, none for anyone else or of another type.
func Resources(resourceType string, nhs shcrkit.NHSNumber) []map[string]any {
	if _, ok := Find[string](nhs); !ok {
		return nil
	}
	subject := Subject(nhs)
	id := func(n int) string {
		return strings.ToLower(resourceType[:1]) + "-" + string(nhs)[6:] + "-" + strconv.Itoa(n)
	}
	switch resourceType {
	case "AllergyIntolerance":
		return []map[string]any{
			{"resourceType": resourceType, "id": id(1), "patient": subject, "code": Coded(codesystem.SNOMED, "91936005", "Allergy to penicillin"),
				"clinicalStatus": Coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active")},
			{"resourceType": resourceType, "id": id(2), "patient": subject, "code": Coded(codesystem.SNOMED, "300913006", "Shellfish allergy"),
				"clinicalStatus": Coded("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active")},
		}
	case "MedicationStatement":
		return []map[string]any{
			{"resourceType": resourceType, "id": id(1), "subject": subject, "status": "active",
				"medicationCodeableConcept": map[string]any{"text": "Amlodipine 5mg tablets"}},
			{"resourceType": resourceType, "id": id(2), "subject": subject, "status": "active",
				"medicationCodeableConcept": map[string]any{"text": "Salbutamol 100micrograms/dose inhaler"}},
		}
	case "Condition":
		return []map[string]any{
			{"resourceType": resourceType, "id": id(1), "subject": subject, "code": Coded(codesystem.SNOMED, "38341003", "Hypertensive disorder"),
				"clinicalStatus": Coded("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")},
			{"resourceType": resourceType, "id": id(2), "subject": subject, "code": Coded(codesystem.SNOMED, "195967001", "Asthma"),
				"clinicalStatus": Coded("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")},
		}
	}
	return nil
}

// PDF returns a valid one-page PDF document showing a title and lines of
// text in Helvetica, with a correct cross-reference table.
func PDF(title string, lines ...string) []byte {
	var content bytes.Buffer
	content.WriteString("BT /F1 16 Tf 72 770 Td (" + pdfText(title) + ") Tj ET\n")
	content.WriteString("BT /F1 11 Tf 72 740 Td 14 TL\n")
	for _, l := range lines {
		content.WriteString("(" + pdfText(l) + ") Tj T*\n")
	}
	content.WriteString("ET\n")
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// pdfText escapes a string for a PDF literal, keeping it to printable
// ASCII.
func pdfText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 32 && r < 127:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
