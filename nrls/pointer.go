package nrls

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/textclip"
	"github.com/shcrkit/shcrkit/nrls/internal/immutable"
)

// Pointer is an NRL pointer: the FHIR DocumentReference as the service
// holds it, and a flat view of what a consumer acts on.
//
// The view is derived from Resource when the Pointer is made (by Search,
// Get, ParsePointer, PointerFrom or NewPointer). Writes send Resource;
// changing a view field does not change the pointer, so edit Resource and
// call PointerFrom again when the view must follow.
//
// Where a pointer has several content entries, the view describes the
// first.
type Pointer struct {
	// Resource is the pointer as a FHIR R4 DocumentReference.
	Resource fhir.DocumentReference `json:"resource"`

	// ID is the pointer's logical ID, "<custodian ODS>-<local ID>".
	ID string `json:"id"`
	// NHSNumber is the patient, from subject.identifier; zero when the
	// subject is not a valid NHS number.
	NHSNumber shcrkit.NHSNumber `json:"nhsNumber,omitempty"`
	// Custodian is the organisation that maintains the pointer and holds
	// the record (custodian.identifier).
	Custodian shcrkit.ODSCode `json:"custodian,omitempty"`
	// Author is the organisation responsible for the record's content
	// (author[0].identifier).
	Author shcrkit.ODSCode `json:"author,omitempty"`
	// Type is the record type (type.coding[0]).
	Type Concept `json:"type"`
	// Category is the record category (category[0].coding[0]).
	Category Concept `json:"category"`
	// URL is where the record is retrieved (content[0].attachment.url);
	// an ssp:// URL is retrieved through the Spine Secure Proxy.
	URL string `json:"url,omitempty"`
	// ContentType is the record's media type (attachment.contentType).
	ContentType string `json:"contentType,omitempty"`
	// Format is content[0].format.
	Format Format `json:"format,omitempty"`
	// Stability is the content stability extension's code, or "".
	Stability Stability `json:"stability,omitempty"`
	// Retrieval is the retrieval mechanism extension's code, or "" when
	// the pointer carries none (see IsSSP).
	Retrieval RetrievalMechanism `json:"retrieval,omitempty"`
	// PracticeSetting is context.practiceSetting.coding[0].
	PracticeSetting Concept `json:"practiceSetting"`
	// ProviderASID is the provider system's ASID from context.related, the
	// Ssp-To of an SSP retrieval.
	ProviderASID string `json:"providerAsid,omitempty"`
	// Date is when the pointer was made (date); zero when absent.
	Date time.Time `json:"date"`
	// Status is the pointer's status ("current").
	Status string `json:"status,omitempty"`
	// Confidentiality is the pointer's own confidentiality from
	// securityLabel (the most restrictive when there are several; a
	// confidentiality label with a code outside the code system counts as
	// very restricted); unrestricted when it carries none.
	Confidentiality shcrkit.Confidentiality `json:"confidentiality,omitempty"`
	// Replaces lists the IDs of the pointers this one supersedes
	// (relatesTo with code "replaces").
	Replaces []string `json:"replaces,omitempty"`
	// Title is content[0].attachment.title.
	Title string `json:"title,omitempty"`
	// Description is the pointer's description.
	Description string `json:"description,omitempty"`

	// snap records the fields the service keeps immutable, as read, so
	// that Update can refuse a change to them before a round trip.
	snap immutable.Snapshot
}

// ParsePointer decodes a FHIR R4 DocumentReference and returns it with its
// view. It is lenient: a pointer that breaks the service's rules still
// parses (use Validate to check it); only a body that is not a
// DocumentReference fails, with an error matching
// shcrkit.ErrMalformedResponse.
func ParsePointer(b []byte) (Pointer, error) {
	var probe struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return Pointer{}, malformed("not a JSON object: %s", fhirhttp.DescribeJSONError(err))
	}
	if probe.ResourceType != "DocumentReference" {
		return Pointer{}, malformed("resourceType is %q, want DocumentReference", textclip.Clip(probe.ResourceType, 40))
	}
	doc, err := decodeDocumentReference(b)
	if err != nil {
		return Pointer{}, malformed("%s", fhirhttp.DescribeJSONError(err))
	}
	return PointerFrom(doc), nil
}

// decodeDocumentReference decodes a pointer with the strict FHIR model,
// forgiving what stored pointers are known to carry: codes with stray
// white space, and a docStatus outside its value set (it says nothing a
// consumer acts on). An unknown status or relatesTo code still fails.
func decodeDocumentReference(b []byte) (fhir.DocumentReference, error) {
	var doc fhir.DocumentReference
	err := json.Unmarshal(b, &doc)
	if err == nil {
		return doc, nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return doc, err
	}
	repaired := false
	trim := func(obj map[string]any, key string) {
		if v, ok := obj[key].(string); ok && strings.TrimSpace(v) != v {
			obj[key] = strings.TrimSpace(v)
			repaired = true
		}
	}
	trim(m, "status")
	trim(m, "docStatus")
	if v, ok := m["docStatus"].(string); ok {
		switch v {
		case "preliminary", "final", "amended", "entered-in-error":
		default:
			delete(m, "docStatus")
			repaired = true
		}
	}
	if rels, ok := m["relatesTo"].([]any); ok {
		for _, r := range rels {
			if rm, ok := r.(map[string]any); ok {
				trim(rm, "code")
			}
		}
	}
	if !repaired {
		return doc, err
	}
	fixed, merr := json.Marshal(m)
	if merr != nil {
		return doc, err
	}
	doc = fhir.DocumentReference{}
	if err2 := json.Unmarshal(fixed, &doc); err2 != nil {
		return doc, err
	}
	return doc, nil
}

// malformedError describes a resource that could not be read as a pointer.
type malformedError struct{ msg string }

func (e *malformedError) Error() string { return "nrls: malformed pointer: " + e.msg }

func (e *malformedError) Is(target error) bool {
	return target == shcrkit.ErrMalformedResponse
}

func malformed(format string, args ...any) error {
	return &malformedError{msg: shcrkit.Redact(fmt.Sprintf(format, args...))}
}

// PointerFrom returns doc with its view.
func PointerFrom(doc fhir.DocumentReference) Pointer {
	p := Pointer{Resource: doc}
	p.fillView()
	p.snap = immutable.Take(&p.Resource)
	return p
}

func (p *Pointer) fillView() {
	d := &p.Resource
	p.ID = str(d.Id)
	p.Status = d.Status.Code()
	if d.Subject != nil && d.Subject.Identifier != nil && str(d.Subject.Identifier.System) == codesystem.NHSNumber {
		if v := str(d.Subject.Identifier.Value); shcrkit.NHSNumber(v).Valid() {
			p.NHSNumber = shcrkit.NHSNumber(v)
		}
	}
	if d.Custodian != nil {
		p.Custodian = odsOf(d.Custodian)
	}
	if len(d.Author) > 0 {
		p.Author = odsOf(&d.Author[0])
	}
	if d.Type != nil {
		p.Type = firstCoding(d.Type)
	}
	if len(d.Category) > 0 {
		p.Category = firstCoding(&d.Category[0])
	}
	if len(d.Content) > 0 {
		c := &d.Content[0]
		p.URL = str(c.Attachment.Url)
		p.ContentType = str(c.Attachment.ContentType)
		p.Title = str(c.Attachment.Title)
		if c.Format != nil {
			p.Format = Format(str(c.Format.Code))
		}
		for i := range c.Extension {
			e := &c.Extension[i]
			switch e.Url {
			case codesystem.NRLStabilityExtension:
				if p.Stability == "" {
					p.Stability = Stability(extensionCode(e))
				}
			case codesystem.NRLRetrievalExtension:
				if p.Retrieval == "" {
					p.Retrieval = RetrievalMechanism(extensionCode(e))
				}
			}
		}
	}
	if ctx := d.Context; ctx != nil {
		if ctx.PracticeSetting != nil {
			p.PracticeSetting = firstCoding(ctx.PracticeSetting)
		}
		for _, r := range ctx.Related {
			if r.Identifier != nil && str(r.Identifier.System) == codesystem.SpineASID {
				p.ProviderASID = str(r.Identifier.Value)
				break
			}
		}
	}
	p.Date = parseFHIRTime(str(d.Date))
	p.Confidentiality = confidentialityOf(d.SecurityLabel)
	for _, r := range d.RelatesTo {
		if r.Code != fhir.DocumentRelationshipTypeReplaces {
			continue
		}
		if id := referenceID(&r.Target); id != "" {
			p.Replaces = append(p.Replaces, id)
		}
	}
	p.Description = str(d.Description)
}

// IsSSP reports whether the record is retrieved through the Spine Secure
// Proxy: its URL is an ssp:// URL or the pointer says so.
func (p Pointer) IsSSP() bool {
	return p.Retrieval == RetrievalSSP || hasScheme(p.URL, "ssp")
}

func hasScheme(u, scheme string) bool {
	return len(u) > len(scheme)+3 && strings.EqualFold(u[:len(scheme)], scheme) && u[len(scheme):len(scheme)+3] == "://"
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func firstCoding(cc *fhir.CodeableConcept) Concept {
	if len(cc.Coding) == 0 {
		return Concept{}
	}
	return Concept{Code: str(cc.Coding[0].Code), Display: str(cc.Coding[0].Display)}
}

// odsOf reads an organisation reference by ODS identifier. Older pointers
// write the value as "Organization/<code>"; the code is what matters.
func odsOf(r *fhir.Reference) shcrkit.ODSCode {
	if r.Identifier == nil {
		return ""
	}
	v := str(r.Identifier.Value)
	if i := strings.LastIndexByte(v, '/'); i >= 0 {
		v = v[i+1:]
	}
	return shcrkit.ODSCode(v)
}

func extensionCode(e *fhir.Extension) string {
	if e.ValueCodeableConcept == nil || len(e.ValueCodeableConcept.Coding) == 0 {
		return ""
	}
	return str(e.ValueCodeableConcept.Coding[0].Code)
}

// referenceID is the pointer ID a relatesTo target names: its identifier
// value, or the last segment of a literal reference.
func referenceID(r *fhir.Reference) string {
	if r.Identifier != nil && str(r.Identifier.Value) != "" {
		return str(r.Identifier.Value)
	}
	ref := str(r.Reference)
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		ref = ref[i+1:]
	}
	return ref
}

// confidentialityOf reads a pointer's security labels the fail-closed
// way of shcrkit.ConfidentialityOf.
func confidentialityOf(labels []fhir.CodeableConcept) shcrkit.Confidentiality {
	var codings []fhir.Coding
	for i := range labels {
		codings = append(codings, labels[i].Coding...)
	}
	return shcrkit.ConfidentialityOf(codings...)
}

// parseFHIRTime reads a FHIR dateTime or instant; it returns the zero time
// for an empty or unreadable value.
func parseFHIRTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02", "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// validURL reports whether s is an absolute URL with a host.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}
