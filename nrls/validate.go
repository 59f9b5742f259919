package nrls

import (
	"errors"
	"fmt"
	"mime"
	"regexp"
	"slices"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/textclip"
)

// ErrInvalidPointer is matched by every *ValidationError: the pointer
// breaks a rule of the service. Such errors match shcrkit.ErrInvalidRequest
// too.
var ErrInvalidPointer = errors.New("nrls: invalid pointer")

// FieldError is one broken rule: the field, named as the service names it
// in an OperationOutcome's expression (e.g. "type.coding[0].display"), and
// what is wrong with it.
type FieldError struct {
	Field   string
	Problem string
}

// ValidationError lists every rule a pointer breaks, so that a producer
// can fix them all at once.
type ValidationError struct {
	Errors []FieldError
}

// Error names each field and its problem; it never repeats an NHS number.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("nrls: invalid pointer: ")
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(fe.Field + ": " + fe.Problem)
	}
	return shcrkit.Redact(b.String())
}

// Is matches ErrInvalidPointer and shcrkit.ErrInvalidRequest.
func (e *ValidationError) Is(target error) bool {
	return target == ErrInvalidPointer || target == shcrkit.ErrInvalidRequest
}

func (e *ValidationError) add(field, format string, args ...any) {
	e.Errors = append(e.Errors, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
}

func (e *ValidationError) err() error {
	if len(e.Errors) == 0 {
		return nil
	}
	return e
}

// idPattern is the service's pattern for a pointer ID.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9.]+-[A-Za-z0-9]+[A-Za-z0-9_\-]*$`)

var asidPattern = regexp.MustCompile(`^\d{12}$`)

// validID reports whether id has the form of a pointer ID: at most 64
// characters, "<ODS code>-<local ID>".
func validID(id string) bool { return len(id) <= 64 && idPattern.MatchString(id) }

// Validate checks p.Resource against the rules the service applies to a
// pointer it is asked to create or update, and returns a *ValidationError
// listing every broken rule, or nil.
//
// The rules: status current; subject an NHS-number identifier with a valid
// number; custodian and exactly one author, each an ODS identifier; an ID,
// when set, of the service's form and prefixed with the custodian's ODS
// code; exactly one type coding, a known SNOMED record type with its
// display; exactly one category coding, the type's own category with its
// display; at least one content, each with an absolute URL free of the
// patient's NHS number, a media type
// suited to its format, a known format, exactly one content stability
// extension and at most one retrieval mechanism extension (SSP exactly
// when the URL is ssp://); an ssp:// URL needs exactly one 12-digit ASID
// in context.related; context.practiceSetting with one SNOMED coding;
// relatesTo targets named by an ID of the same custodian; securityLabel
// codes from v3 Confidentiality; date a FHIR dateTime.
func (p Pointer) Validate() error {
	var v ValidationError
	validateResource(&v, &p.Resource)
	return v.err()
}

func validateResource(v *ValidationError, d *fhir.DocumentReference) {
	if d.Status != fhir.DocumentReferenceStatusCurrent {
		v.add("status", "must be %q, not %q", "current", d.Status.Code())
	}
	validateSubject(v, d.Subject)
	custodian := validateOrg(v, "custodian", d.Custodian)
	switch {
	case len(d.Author) == 0:
		v.add("author", "is required (one organisation, by ODS code)")
	case len(d.Author) > 1:
		v.add("author", "must hold exactly one organisation, not %d", len(d.Author))
	default:
		validateOrg(v, "author[0]", &d.Author[0])
	}
	if id := str(d.Id); id != "" {
		switch {
		case !validID(id):
			v.add("id", "must be \"<ODS code>-<local ID>\" of letters, digits, '.', '_' and '-', at most 64 characters")
		case custodian != "" && !strings.HasPrefix(id, string(custodian)+"-"):
			v.add("id", "must begin with the custodian's ODS code %q and a hyphen", custodian)
		}
	}
	rt, typeOK := validateType(v, d.Type)
	validateCategory(v, d.Category, rt, typeOK)
	ssp := validateContent(v, d.Content, subjectNumber(d.Subject))
	validateContext(v, d.Context, ssp)
	validateRelatesTo(v, d.RelatesTo, custodian, str(d.Id))
	validateSecurityLabel(v, d.SecurityLabel)
	if s := str(d.Date); s != "" && parseFHIRTime(s).IsZero() {
		v.add("date", "must be a FHIR dateTime (e.g. 2025-01-31T09:30:00Z)")
	}
}

func validateSubject(v *ValidationError, s *fhir.Reference) {
	switch {
	case s == nil:
		v.add("subject", "is required (the patient, by NHS number)")
	case s.Identifier == nil:
		v.add("subject.identifier", "is required")
	default:
		if str(s.Identifier.System) != codesystem.NHSNumber {
			v.add("subject.identifier.system", "must be %q", codesystem.NHSNumber)
		}
		if val := str(s.Identifier.Value); val == "" {
			v.add("subject.identifier.value", "is required")
		} else if !shcrkit.NHSNumber(val).Valid() {
			v.add("subject.identifier.value", "must be a valid NHS number (10 digits, modulus-11 check)")
		}
	}
}

// subjectNumber returns the subject's NHS number when it is a valid one.
func subjectNumber(s *fhir.Reference) string {
	if s == nil || s.Identifier == nil {
		return ""
	}
	if v := str(s.Identifier.Value); shcrkit.NHSNumber(v).Valid() {
		return v
	}
	return ""
}

// validateOrg checks an organisation reference by ODS code and returns the
// code when it is well formed.
func validateOrg(v *ValidationError, field string, r *fhir.Reference) shcrkit.ODSCode {
	switch {
	case r == nil:
		v.add(field, "is required (an organisation, by ODS code)")
		return ""
	case r.Identifier == nil:
		v.add(field+".identifier", "is required")
		return ""
	}
	if str(r.Identifier.System) != codesystem.ODS {
		v.add(field+".identifier.system", "must be %q", codesystem.ODS)
	}
	val := str(r.Identifier.Value)
	code, err := shcrkit.ParseODSCode(val)
	if val == "" {
		v.add(field+".identifier.value", "is required")
		return ""
	}
	if err != nil || string(code) != val {
		v.add(field+".identifier.value", "must be an upper-case ODS code of 3 to 12 letters and digits")
		return ""
	}
	return code
}

func validateType(v *ValidationError, t *fhir.CodeableConcept) (RecordType, bool) {
	switch {
	case t == nil:
		v.add("type", "is required (a SNOMED record type)")
		return RecordType{}, false
	case len(t.Coding) != 1:
		v.add("type.coding", "must hold exactly one coding, not %d", len(t.Coding))
		return RecordType{}, false
	}
	c := t.Coding[0]
	if str(c.System) != codesystem.SNOMED {
		v.add("type.coding[0].system", "must be %q", codesystem.SNOMED)
		return RecordType{}, false
	}
	rt, ok := LookupType(str(c.Code))
	if !ok {
		v.add("type.coding[0].code", "%q is not a record type of the NRL", textclip.Clip(str(c.Code), 40))
		return RecordType{}, false
	}
	if !rt.displayMatches(str(c.Display)) {
		v.add("type.coding[0].display", "must be %q for record type %s", rt.Display, rt.Code)
	}
	return rt, true
}

func validateCategory(v *ValidationError, cats []fhir.CodeableConcept, rt RecordType, typeOK bool) {
	switch {
	case len(cats) == 0:
		v.add("category", "is required (the record type's SNOMED category)")
		return
	case len(cats) > 1:
		v.add("category", "must hold exactly one category, not %d", len(cats))
		return
	case len(cats[0].Coding) != 1:
		v.add("category[0].coding", "must hold exactly one coding, not %d", len(cats[0].Coding))
		return
	}
	c := cats[0].Coding[0]
	if str(c.System) != codesystem.SNOMED {
		v.add("category[0].coding[0].system", "must be %q", codesystem.SNOMED)
		return
	}
	cat, ok := lookupCategory(str(c.Code))
	if !ok {
		v.add("category[0].coding[0].code", "%q is not a record category of the NRL", textclip.Clip(str(c.Code), 40))
		return
	}
	if str(c.Display) != cat.Display {
		v.add("category[0].coding[0].display", "must be %q for category %s", cat.Display, cat.Code)
	}
	if typeOK && rt.Category.Code != cat.Code {
		v.add("category[0].coding[0].code", "must be %s (%s), the category of record type %s",
			rt.Category.Code, rt.Category.Display, rt.Code)
	}
}

// validateContent checks every content entry and reports whether any is
// retrieved through the Spine Secure Proxy.
func validateContent(v *ValidationError, content []fhir.DocumentReferenceContent, nhs string) (ssp bool) {
	if len(content) == 0 {
		v.add("content", "must hold at least one entry")
		return false
	}
	for i := range content {
		c := &content[i]
		at := fmt.Sprintf("content[%d]", i)
		u := str(c.Attachment.Url)
		isSSP := hasScheme(u, "ssp")
		ssp = ssp || isSSP
		switch {
		case u == "":
			v.add(at+".attachment.url", "is required")
		case !validURL(u):
			v.add(at+".attachment.url", "must be an absolute URL")
		case nhs != "" && strings.Contains(u, nhs):
			// The URL is logged and shown on the way to the record; the
			// specification forbids patient identifiers in it.
			v.add(at+".attachment.url", "must not contain the patient's NHS number")
		}
		format := validateFormat(v, at, c.Format)
		validateContentType(v, at, str(c.Attachment.ContentType), format)
		validateExtensions(v, at, c.Extension, u, isSSP)
	}
	return ssp
}

func validateFormat(v *ValidationError, at string, f *fhir.Coding) Format {
	if f == nil {
		v.add(at+".format", "is required (%s)", codesystem.NRLFormat)
		return ""
	}
	if str(f.System) != codesystem.NRLFormat {
		v.add(at+".format.system", "must be %q", codesystem.NRLFormat)
	}
	code := Format(str(f.Code))
	if !formats.valid(code) {
		v.add(at+".format.code", "must be %s, %s or %s", FormatContactDetails, FormatUnstructured, FormatStructured)
		return ""
	}
	if !strings.EqualFold(str(f.Display), formats.display(code)) {
		v.add(at+".format.display", "must be %q for %s", formats.display(code), code)
	}
	return code
}

// validateContentType checks that the media type is one and suits the
// format: contact details are a web page, an unstructured document is not
// JSON data, structured data is FHIR or JSON (or the web application of an
// in-context launch).
func validateContentType(v *ValidationError, at, ct string, f Format) {
	field := at + ".attachment.contentType"
	if ct == "" {
		v.add(field, "is required (a MIME type such as application/pdf)")
		return
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(mt, "/") {
		v.add(field, "must be a valid MIME type")
		return
	}
	isJSON := mt == "application/json" || mt == "application/fhir+json" || strings.HasSuffix(mt, "+json")
	switch f {
	case FormatContactDetails:
		if mt != "text/html" {
			v.add(field, "must be text/html for format %s", f)
		}
	case FormatUnstructured:
		if isJSON {
			v.add(field, "must not be a JSON type for format %s", f)
		}
	case FormatStructured:
		if !isJSON && mt != "text/html" {
			v.add(field, "must be application/fhir+json, application/json or text/html for format %s", f)
		}
	}
}

func validateExtensions(v *ValidationError, at string, exts []fhir.Extension, url string, isSSP bool) {
	stability, retrieval := 0, 0
	for j := range exts {
		e := &exts[j]
		ef := fmt.Sprintf("%s.extension[%d]", at, j)
		switch e.Url {
		case codesystem.NRLStabilityExtension:
			stability++
			code, ok := extensionCoding(v, ef, e, func(s string) bool { return sameSystem(s, codesystem.NRLStability) }, codesystem.NRLStability)
			if !ok {
				continue
			}
			st := Stability(code.code)
			if !stabilities.valid(st) {
				v.add(ef+".valueCodeableConcept.coding[0].code", "must be %q or %q", StabilityStatic, StabilityDynamic)
				continue
			}
			if !strings.EqualFold(code.display, string(st)) {
				v.add(ef+".valueCodeableConcept.coding[0].display", "must be %q", stabilities.display(st))
			}
		case codesystem.NRLRetrievalExtension:
			retrieval++
			code, ok := extensionCoding(v, ef, e, func(s string) bool {
				return s == codesystem.NRLRetrieval || s == codesystem.NRLRetrievalValueSet
			}, codesystem.NRLRetrieval)
			if !ok {
				continue
			}
			m := RetrievalMechanism(code.code)
			if !retrievals.valid(m) {
				v.add(ef+".valueCodeableConcept.coding[0].code", "must be one of SSP, Direct, LDR, InContext, NDR, Direct_InContext")
				continue
			}
			if code.display != retrievals.display(m) {
				v.add(ef+".valueCodeableConcept.coding[0].display", "must be %q for %s", retrievals.display(m), m)
			}
			switch {
			case m == RetrievalSSP && !isSSP && url != "":
				v.add(at+".attachment.url", "must begin with ssp:// when the retrieval mechanism is SSP")
			case m != RetrievalSSP && isSSP:
				v.add(ef+".valueCodeableConcept.coding[0].code", "must be SSP for an ssp:// URL")
			}
		default:
			v.add(ef+".url", "must be the content stability or retrieval mechanism extension")
		}
	}
	switch {
	case stability == 0:
		v.add(at+".extension", "must include exactly one content stability extension (%s)", codesystem.NRLStabilityExtension)
	case stability > 1:
		v.add(at+".extension", "must include exactly one content stability extension, not %d", stability)
	}
	if retrieval > 1 {
		v.add(at+".extension", "must include at most one retrieval mechanism extension, not %d", retrieval)
	}
}

type codeDisplay struct{ code, display string }

// extensionCoding checks that an extension holds exactly one coding of the
// right system and returns it.
func extensionCoding(v *ValidationError, ef string, e *fhir.Extension, systemOK func(string) bool, system string) (codeDisplay, bool) {
	if e.ValueCodeableConcept == nil {
		v.add(ef+".valueCodeableConcept", "is required")
		return codeDisplay{}, false
	}
	if n := len(e.ValueCodeableConcept.Coding); n != 1 {
		v.add(ef+".valueCodeableConcept.coding", "must hold exactly one coding, not %d", n)
		return codeDisplay{}, false
	}
	c := e.ValueCodeableConcept.Coding[0]
	if !systemOK(str(c.System)) {
		v.add(ef+".valueCodeableConcept.coding[0].system", "must be %q", system)
		return codeDisplay{}, false
	}
	return codeDisplay{code: str(c.Code), display: str(c.Display)}, true
}

func validateContext(v *ValidationError, ctx *fhir.DocumentReferenceContext, ssp bool) {
	if ctx == nil {
		v.add("context", "is required (with practiceSetting)")
		return
	}
	switch ps := ctx.PracticeSetting; {
	case ps == nil:
		v.add("context.practiceSetting", "is required")
	case len(ps.Coding) != 1:
		v.add("context.practiceSetting.coding", "must hold exactly one coding, not %d", len(ps.Coding))
	default:
		c := ps.Coding[0]
		if str(c.System) != codesystem.SNOMED {
			v.add("context.practiceSetting.coding[0].system", "must be %q", codesystem.SNOMED)
		}
		if str(c.Code) == "" {
			v.add("context.practiceSetting.coding[0].code", "is required")
		}
		if str(c.Display) == "" {
			v.add("context.practiceSetting.coding[0].display", "is required")
		}
	}
	var asids []int
	for i, r := range ctx.Related {
		if r.Identifier != nil && str(r.Identifier.System) == codesystem.SpineASID {
			asids = append(asids, i)
		}
	}
	switch {
	case len(asids) > 1:
		v.add("context.related", "must hold a single ASID identifier, not %d", len(asids))
	case len(asids) == 1:
		i := asids[0]
		if !asidPattern.MatchString(str(ctx.Related[i].Identifier.Value)) {
			v.add(fmt.Sprintf("context.related[%d].identifier.value", i), "must be an ASID of 12 digits")
		}
	case ssp && len(ctx.Related) == 0:
		v.add("context.related", "is required with the provider's ASID when content has an ssp:// URL")
	case ssp:
		v.add("context.related", "must hold an ASID identifier (%s) when content has an ssp:// URL", codesystem.SpineASID)
	}
}

func validateRelatesTo(v *ValidationError, rels []fhir.DocumentReferenceRelatesTo, custodian shcrkit.ODSCode, id string) {
	for i := range rels {
		r := &rels[i]
		if r.Code != fhir.DocumentRelationshipTypeReplaces {
			continue
		}
		field := fmt.Sprintf("relatesTo[%d].target.identifier.value", i)
		target := ""
		if r.Target.Identifier != nil {
			target = str(r.Target.Identifier.Value)
		}
		switch {
		case target == "":
			v.add(field, "is required: the ID of the pointer replaced")
		case !validID(target):
			v.add(field, "must be a pointer ID, \"<ODS code>-<local ID>\"")
		case custodian != "" && !strings.HasPrefix(target, string(custodian)+"-"):
			v.add(field, "must be a pointer of the same custodian %q", custodian)
		case target == id:
			v.add(field, "must not be the pointer itself")
		}
	}
}

func validateSecurityLabel(v *ValidationError, labels []fhir.CodeableConcept) {
	for i := range labels {
		for j, c := range labels[i].Coding {
			if str(c.System) != codesystem.Confidentiality {
				continue
			}
			if !slices.Contains(confidentialityCodes, str(c.Code)) {
				v.add(fmt.Sprintf("securityLabel[%d].coding[%d].code", i, j), "must be a v3 Confidentiality code (U, L, M, N, R or V)")
			}
		}
	}
}

// confidentialityCodes are the codes of the v3 Confidentiality code system,
// as a label must carry them.
var confidentialityCodes = []string{"U", "L", "M", "N", "R", "V"}
