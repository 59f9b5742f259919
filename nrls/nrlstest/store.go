package nrlstest

import (
	"encoding/json"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/ptr"
	"github.com/shcrkit/shcrkit/nrls"
)

// entry is what a search of one NHS number may return: a stored pointer,
// or a raw resource injected by a test (an OperationOutcome, a pointer
// filed under the wrong patient, junk).
type entry struct {
	id        string // "" for an injected entry that is not a pointer
	nhs       string // the NHS number the entry is filed under
	custodian string
	typ       string // "system|code"
	category  string // "system|code"
	raw       []byte // the resource as JSON, resourceType included
	injected  bool
	doc       fhir.DocumentReference // decoded, for a stored pointer; read-only
}

// store holds the fake's pointers. It is not safe for concurrent use; the
// Server guards it.
type store struct {
	byID  map[string]*entry
	byNHS map[string][]*entry
	// bases are the current base URLs of the custodians' pointers.
	bases map[shcrkit.ODSCode]string
}

func newStore() *store {
	return &store{byID: map[string]*entry{}, byNHS: map[string][]*entry{}, bases: map[shcrkit.ODSCode]string{}}
}

// put files a pointer under its subject, replacing a pointer with the
// same ID.
func (s *store) put(p nrls.Pointer) error {
	raw, err := json.Marshal(p.Resource)
	if err != nil {
		return err
	}
	// Keep a copy of our own, so that the caller's later changes to the
	// pointer do not reach the store.
	own, err := nrls.ParsePointer(raw)
	if err != nil {
		return err
	}
	e := newEntry(own, raw)
	if old := s.byID[e.id]; old != nil {
		s.remove(e.id)
	}
	s.byID[e.id] = e
	s.byNHS[e.nhs] = append(s.byNHS[e.nhs], e)
	return nil
}

func newEntry(p nrls.Pointer, raw []byte) *entry {
	e := &entry{id: p.ID, custodian: string(p.Custodian), raw: raw, doc: p.Resource}
	if s := p.Resource.Subject; s != nil && s.Identifier != nil && s.Identifier.Value != nil {
		e.nhs = *s.Identifier.Value
	}
	e.typ, e.category = tokens(&p.Resource)
	return e
}

// tokens returns a pointer's type and category as "system|code".
func tokens(d *fhir.DocumentReference) (typ, category string) {
	tok := func(cc *fhir.CodeableConcept) string {
		if cc == nil || len(cc.Coding) == 0 {
			return ""
		}
		c := cc.Coding[0]
		return ptr.Deref(c.System) + "|" + ptr.Deref(c.Code)
	}
	typ = tok(d.Type)
	if len(d.Category) > 0 {
		category = tok(&d.Category[0])
	}
	return typ, category
}

// inject files a raw resource under nhs.
func (s *store) inject(nhs string, raw []byte) {
	e := &entry{nhs: nhs, raw: raw, injected: true}
	if p, err := nrls.ParsePointer(raw); err == nil {
		e.custodian = string(p.Custodian)
		e.typ, e.category = tokens(&p.Resource)
	}
	s.byNHS[nhs] = append(s.byNHS[nhs], e)
}

func (s *store) remove(id string) {
	e := s.byID[id]
	if e == nil {
		return
	}
	delete(s.byID, id)
	list := s.byNHS[e.nhs]
	for i, x := range list {
		if x == e {
			s.byNHS[e.nhs] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(s.byNHS[e.nhs]) == 0 {
		delete(s.byNHS, e.nhs)
	}
}

// filter says which entries a search returns.
type filter struct {
	custodian  string
	types      map[string]bool // nil: any
	categories map[string]bool // nil: any
	allowed    map[string]bool // types the organisation may see; nil: any
}

func (f *filter) match(e *entry) bool {
	if !e.injected || e.typ != "" {
		if f.custodian != "" && e.custodian != f.custodian {
			return false
		}
		if f.types != nil && !f.types[e.typ] {
			return false
		}
		if f.categories != nil && !f.categories[e.category] {
			return false
		}
		if f.allowed != nil && !f.allowed[e.typ] {
			return false
		}
	}
	return true
}

func (s *store) search(nhs string, f *filter) []*entry {
	var out []*entry
	for _, e := range s.byNHS[nhs] {
		if f.match(e) {
			out = append(out, e)
		}
	}
	return out
}

// rebase moves the URLs of custodian's pointers from its current base to
// base, ssp:// pointers included.
func (s *store) rebase(custodian shcrkit.ODSCode, base string) error {
	old := strings.TrimRight(s.bases[custodian], "/")
	base = strings.TrimRight(base, "/")
	s.bases[custodian] = base
	if old == "" || old == base {
		return nil
	}
	for _, e := range s.byID {
		if e.custodian != string(custodian) || len(e.doc.Content) == 0 {
			continue
		}
		changed := false
		content := append([]fhir.DocumentReferenceContent(nil), e.doc.Content...)
		for i := range content {
			u := ptr.Deref(content[i].Attachment.Url)
			if nu, ok := swapBase(u, old, base); ok {
				content[i].Attachment.Url = &nu
				changed = true
			}
		}
		if !changed {
			continue
		}
		doc := e.doc
		doc.Content = content
		p := nrls.PointerFrom(doc)
		raw, err := json.Marshal(p.Resource)
		if err != nil {
			return err
		}
		*e = *newEntry(p, raw)
	}
	return nil
}

// swapBase replaces the old base of u by base; an ssp:// URL is matched
// and rewritten without the bases' schemes.
func swapBase(u, old, base string) (string, bool) {
	if rest, ok := strings.CutPrefix(u, old); ok && (rest == "" || rest[0] == '/') {
		return base + rest, true
	}
	if sspRest, ok := strings.CutPrefix(u, "ssp://"); ok {
		oldHost, newHost := afterScheme(old), afterScheme(base)
		if rest, ok := strings.CutPrefix(sspRest, oldHost); ok && (rest == "" || rest[0] == '/') {
			return "ssp://" + newHost + rest, true
		}
	}
	return u, false
}

func afterScheme(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		return u[i+3:]
	}
	return u
}
