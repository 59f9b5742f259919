package nrls

import (
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// immutableFields are the fields an update may not change, in the order
// the service checks them.
var immutableFields = [...]string{
	"masterIdentifier", "id", "identifier", "status", "type", "subject", "custodian", "relatesTo", "author",
}

// snapshot is a compact record of a pointer's immutable fields: each
// field's canonical text, one after another in one string, with the end of
// each. The zero snapshot means "not read from the service".
type snapshot struct {
	text string
	ends [len(immutableFields)]uint32
	ok   bool
}

func (s snapshot) taken() bool { return s.ok }

func (s snapshot) field(i int) string {
	start := uint32(0)
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.text[start:s.ends[i]]
}

func takeSnapshot(d *fhir.DocumentReference) snapshot {
	var b strings.Builder
	b.Grow(256)
	s := snapshot{ok: true}
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

// CheckImmutable reports, as a *ValidationError naming each field, every
// change from original to updated of a field the service does not let an
// update change: masterIdentifier, id, identifier, status, type, subject,
// custodian, relatesTo and author.
func CheckImmutable(original, updated Pointer) error {
	orig := original.snap
	if !orig.taken() {
		orig = takeSnapshot(&original.Resource)
	}
	return checkImmutable(orig, &updated.Resource)
}

func checkImmutable(orig snapshot, updated *fhir.DocumentReference) error {
	now := takeSnapshot(updated)
	var v ValidationError
	for i, name := range immutableFields {
		if orig.field(i) != now.field(i) {
			v.add(name, "is immutable and cannot be changed by an update")
		}
	}
	return v.err()
}
