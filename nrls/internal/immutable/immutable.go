// Package immutable records the fields of an NRL pointer that an update
// may not change, so that the client (before sending an update) and the
// fake NRL (on receiving one) apply the same rule.
package immutable

import (
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// immutableFields are the fields an update may not change, in the order
// the service checks them.
var immutableFields = [...]string{
	"masterIdentifier", "id", "identifier", "status", "type", "subject", "custodian", "relatesTo", "author",
}

// Snapshot is a compact record of a pointer's immutable fields: each
// field's canonical text, one after another in one string, with the end of
// each. The zero snapshot means "not read from the service".
type Snapshot struct {
	text string
	ends [len(immutableFields)]uint32
	ok   bool
}

// Taken reports whether s was taken (the zero Snapshot was not).
func (s Snapshot) Taken() bool { return s.ok }

func (s Snapshot) field(i int) string {
	start := uint32(0)
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.text[start:s.ends[i]]
}

// Take records the immutable fields of d.
func Take(d *fhir.DocumentReference) Snapshot {
	var b strings.Builder
	b.Grow(256)
	s := Snapshot{ok: true}
	for i := range immutableFields {
		writeImmutable(&b, d, i)
		s.ends[i] = uint32(b.Len())
	}
	s.text = b.String()
	return s
}

func writeImmutable(b *strings.Builder, d *fhir.DocumentReference, field int) {
	sep := func() { b.WriteByte(0x1f) }
	ident := func(id *fhir.Identifier) {
		if id == nil {
			return
		}
		b.WriteString(str(id.System))
		b.WriteByte('|')
		b.WriteString(str(id.Value))
		sep()
	}
	ref := func(r *fhir.Reference) {
		if r == nil {
			return
		}
		b.WriteString(str(r.Reference))
		b.WriteByte('>')
		ident(r.Identifier)
	}
	switch immutableFields[field] {
	case "masterIdentifier":
		ident(d.MasterIdentifier)
	case "id":
		b.WriteString(str(d.Id))
	case "identifier":
		for i := range d.Identifier {
			ident(&d.Identifier[i])
		}
	case "status":
		b.WriteString(d.Status.Code())
	case "type":
		if d.Type != nil {
			for _, c := range d.Type.Coding {
				b.WriteString(str(c.System))
				b.WriteByte('|')
				b.WriteString(str(c.Code))
				b.WriteByte('|')
				b.WriteString(str(c.Display))
				sep()
			}
		}
	case "subject":
		ref(d.Subject)
	case "custodian":
		ref(d.Custodian)
	case "relatesTo":
		for i := range d.RelatesTo {
			b.WriteString(d.RelatesTo[i].Code.Code())
			b.WriteByte('>')
			ref(&d.RelatesTo[i].Target)
		}
	case "author":
		for i := range d.Author {
			ref(&d.Author[i])
		}
	}
}

// Changed returns the immutable fields, in the service's order, whose
// value in updated differs from the one orig recorded.
func Changed(orig Snapshot, updated *fhir.DocumentReference) []string {
	now := Take(updated)
	var out []string
	for i, name := range immutableFields {
		if orig.field(i) != now.field(i) {
			out = append(out, name)
		}
	}
	return out
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
