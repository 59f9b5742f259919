package nrlstest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/nrls"
)

// searchParams are the parameters of a search, from a query string or a
// _search body.
type searchParams struct {
	subject, custodian, typ, category, summary string
	has                                        map[string]bool
}

var (
	subjectPattern   = regexp.MustCompile(`^https://fhir\.nhs\.uk/Id/nhs-number\|(\d+)$`)
	custodianPattern = regexp.MustCompile(`^https://fhir\.nhs\.uk/Id/ods-organization-code\|(\w+)$`)
)

// badParam is a search parameter the service refuses.
type badParam struct {
	status     int
	spine      string
	diagnostic string
	expression string
}

func (s *Server) searchGET(c *call) {
	q := c.r.URL.Query()
	var p searchParams
	p.has = map[string]bool{}
	for k, vs := range q {
		if len(vs) != 1 {
			fail(c.w, http.StatusBadRequest, "INVALID_PARAMETER", "Invalid query parameter: "+k+" given more than once", k)
			return
		}
		p.has[k] = true
		switch k {
		case "subject:identifier":
			p.subject = vs[0]
		case "custodian:identifier":
			p.custodian = vs[0]
		case "type":
			p.typ = vs[0]
		case "category":
			p.category = vs[0]
		case "_summary":
			p.summary = vs[0]
		default:
			fail(c.w, http.StatusBadRequest, "INVALID_PARAMETER", "Invalid query parameter: unexpected parameter "+k, k)
			return
		}
	}
	s.search(c, &p, "INVALID_PARAMETER")
}

func (s *Server) searchPOST(c *call) {
	body, _ := io.ReadAll(c.r.Body)
	if len(bytes.TrimSpace(body)) == 0 {
		fail(c.w, http.StatusBadRequest, "BAD_REQUEST", "Request body is required", "")
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		fail(c.w, http.StatusBadRequest, "MESSAGE_NOT_WELL_FORMED", "Request body could not be parsed", "")
		return
	}
	p := searchParams{has: map[string]bool{}}
	for k, raw := range m {
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			fail(c.w, http.StatusBadRequest, "MESSAGE_NOT_WELL_FORMED", "Request body could not be parsed: "+k+" must be a string", k)
			return
		}
		p.has[k] = true
		switch k {
		case "subject:identifier":
			p.subject = v
		case "custodian:identifier":
			p.custodian = v
		case "type":
			p.typ = v
		case "category":
			p.category = v
		case "_summary":
			p.summary = v
		default:
			fail(c.w, http.StatusBadRequest, "MESSAGE_NOT_WELL_FORMED", "Request body could not be parsed: unexpected field "+k, k)
			return
		}
	}
	s.search(c, &p, "MESSAGE_NOT_WELL_FORMED")
}

// search answers a search whose parameters have been read; formCode is the
// Spine code of a parameter that does not match its pattern (query strings
// and bodies are checked by different layers of the service).
func (s *Server) search(c *call, p *searchParams, formCode string) {
	f, nhs, bad := s.checkParams(c, p, formCode)
	if bad != nil {
		fail(c.w, bad.status, bad.spine, bad.diagnostic, bad.expression)
		return
	}
	s.mu.RLock()
	found := s.store.search(nhs, f)
	raws := make([][]byte, len(found))
	for i, e := range found {
		raws[i] = e.raw
	}
	s.mu.RUnlock()

	if len(raws) == 0 && s.cfg.emptyNotFound {
		fail(c.w, http.StatusNotFound, "NO_RECORD_FOUND", "No record found for the supplied search parameters", "")
		return
	}
	self := s.selfLink(c, nhs, f, p)
	var b bytes.Buffer
	b.Grow(256 + 3000*len(raws))
	b.WriteString(`{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":`)
	writeJSONString(&b, self)
	b.WriteString(`}],"total":`)
	b.WriteString(strconv.Itoa(len(raws)))
	if p.summary != "count" {
		b.WriteString(`,"entry":[`)
		for i, raw := range raws {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"resource":`)
			b.Write(raw)
			b.WriteByte('}')
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	writeBody(c.w, http.StatusOK, b.Bytes())
}

// checkParams validates the search parameters the way the service does
// and returns the filter they make.
func (s *Server) checkParams(c *call, p *searchParams, formCode string) (*filter, string, *badParam) {
	if !p.has["subject:identifier"] {
		return nil, "", &badParam{http.StatusBadRequest, formCode, "subject:identifier is required", "subject:identifier"}
	}
	m := subjectPattern.FindStringSubmatch(p.subject)
	if m == nil {
		return nil, "", &badParam{http.StatusBadRequest, formCode,
			"subject:identifier must be https://fhir.nhs.uk/Id/nhs-number|<NHS number>", "subject:identifier"}
	}
	nhs := m[1]
	if !shcrkit.NHSNumber(nhs).Valid() {
		return nil, "", &badParam{http.StatusBadRequest, "INVALID_NHS_NUMBER",
			"A valid NHS number is required to search for document references", "subject:identifier"}
	}
	f := &filter{}
	if p.has["custodian:identifier"] {
		if c.producer {
			return nil, "", &badParam{http.StatusBadRequest, formCode, "custodian:identifier is not a producer search parameter", "custodian:identifier"}
		}
		m := custodianPattern.FindStringSubmatch(p.custodian)
		if m == nil {
			return nil, "", &badParam{http.StatusBadRequest, formCode,
				"custodian:identifier must be https://fhir.nhs.uk/Id/ods-organization-code|<ODS code>", "custodian:identifier"}
		}
		f.custodian = m[1]
	}
	if c.producer {
		// A producer sees only the pointers it keeps.
		f.custodian = string(c.org)
	}
	allowed := s.cfg.consumerTypes[c.org]
	if c.producer {
		allowed = s.cfg.producerTypes[c.org]
	}
	if allowed != nil {
		f.allowed = allowed
	}
	if p.has["type"] {
		// The service checks a type against those the organisation may
		// use, so an unknown type and a type it may not use are answered
		// alike.
		set, bad := codeSet(p.typ, "type", formCode, func(code string) bool {
			_, ok := nrls.LookupType(code)
			return ok && (allowed == nil || allowed[codesystem.SNOMED+"|"+code])
		}, "Invalid query parameter (The provided type does not match the allowed types for this organisation)")
		if bad != nil {
			return nil, "", bad
		}
		f.types = set
	}
	if p.has["category"] {
		set, bad := codeSet(p.category, "category", formCode, isCategory,
			"Invalid query parameter (The provided category is not valid)")
		if bad != nil {
			return nil, "", bad
		}
		f.categories = set
	}
	if p.has["_summary"] && p.summary != "count" {
		return nil, "", &badParam{http.StatusBadRequest, formCode, "_summary supports only count", "_summary"}
	}
	return f, nhs, nil
}

// isCategory reports whether code is the SNOMED code of a record category.
func isCategory(code string) bool {
	code = strings.TrimSpace(code)
	return slices.ContainsFunc(nrls.Categories(), func(c nrls.Concept) bool { return c.Code == code })
}

// codeSet reads a comma-separated list of system|code tokens; a SNOMED
// code that known refuses is answered with 400 INVALID_CODE_SYSTEM and
// unknown, as the service answers it.
func codeSet(list, name, formCode string, known func(string) bool, unknown string) (map[string]bool, *badParam) {
	set := map[string]bool{}
	for _, tok := range strings.Split(list, ",") {
		system, code, ok := strings.Cut(strings.TrimSpace(tok), "|")
		if !ok || code == "" {
			return nil, &badParam{http.StatusBadRequest, formCode, name + " must be a list of system|code", name}
		}
		if system != codesystem.SNOMED {
			return nil, &badParam{http.StatusBadRequest, "INVALID_CODE_SYSTEM",
				"Invalid " + name + " (the system must be " + codesystem.SNOMED + ")", name}
		}
		if !known(code) {
			return nil, &badParam{http.StatusBadRequest, "INVALID_CODE_SYSTEM", unknown, name}
		}
		set[system+"|"+code] = true
	}
	return set, nil
}

func (s *Server) selfLink(c *call, nhs string, f *filter, p *searchParams) string {
	v := url.Values{"subject:identifier": {codesystem.NHSNumber + "|" + nhs}}
	if f.custodian != "" && !c.producer {
		v.Set("custodian:identifier", codesystem.ODS+"|"+f.custodian)
	}
	if p.typ != "" {
		v.Set("type", p.typ)
	}
	if p.category != "" {
		v.Set("category", p.category)
	}
	if p.summary != "" {
		v.Set("_summary", p.summary)
	}
	base := fake.CalledOrigin(c.r) + nrls.ConsumerPath
	if c.producer {
		base = fake.CalledOrigin(c.r) + nrls.ProducerPath
	}
	return base + "/DocumentReference?" + v.Encode()
}

// read answers GET /DocumentReference/{id}.
func (s *Server) read(c *call, id string) {
	s.mu.RLock()
	e := s.store.byID[id]
	var raw []byte
	var custodian, typ string
	if e != nil {
		raw, custodian, typ = e.raw, e.custodian, e.typ
	}
	s.mu.RUnlock()
	if e == nil {
		fail(c.w, http.StatusNotFound, "NO_RECORD_FOUND", "The requested DocumentReference could not be found", "")
		return
	}
	if c.producer {
		if custodian != string(c.org) {
			fail(c.w, http.StatusForbidden, "AUTHOR_CREDENTIALS_ERROR",
				"The requested document pointer cannot be read because it belongs to another organisation", "")
			return
		}
	} else if allowed := s.cfg.consumerTypes[c.org]; allowed != nil && !allowed[typ] {
		fail(c.w, http.StatusForbidden, "ACCESS DENIED",
			"The requested DocumentReference is not of a type that this organisation is allowed to access", "")
		return
	}
	writeBody(c.w, http.StatusOK, raw)
}

// writeBody answers with a FHIR JSON body of known length.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/fhir+json;version=1")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}
