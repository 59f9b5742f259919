package pds

import (
	"log/slog"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/ptr"
)

// Patient is a patient record as PDS returned it, with accessors for what
// callers most often need. Resource is the record itself; the accessors
// only ever report what is in it, so data PDS removed (for a restricted
// patient, say) is absent, never made up.
//
// A Patient is not safe for concurrent modification of Resource.
type Patient struct {
	// Resource is the FHIR Patient as received.
	Resource fhir.Patient

	nhs        shcrkit.NHSNumber
	superseded shcrkit.NHSNumber
	version    string
	conf       shcrkit.Confidentiality
}

// newPatient builds the view of res. etag is the ETag header of the
// answer, if any; asked is the NHS number requested, if any.
func newPatient(res fhir.Patient, etag string, asked shcrkit.NHSNumber) *Patient {
	p := &Patient{Resource: res}
	p.nhs = nhsNumberOf(&res)
	if asked != "" && p.nhs != "" && asked != p.nhs {
		p.superseded = asked
	}
	if v, ok := parseETag(etag); ok {
		p.version = v
	} else if res.Meta != nil && res.Meta.VersionId != nil && isDigits(*res.Meta.VersionId) {
		p.version = *res.Meta.VersionId
	}
	p.conf = confidentialityOf(res.Meta)
	return p
}

// nhsNumberOf takes the NHS number from the id, or from the NHS number
// identifier when the id is not one.
func nhsNumberOf(res *fhir.Patient) shcrkit.NHSNumber {
	if res.Id != nil && shcrkit.NHSNumber(*res.Id).Valid() {
		return shcrkit.NHSNumber(*res.Id)
	}
	for _, id := range res.Identifier {
		if id.System != nil && *id.System == codesystem.NHSNumber && id.Value != nil && shcrkit.NHSNumber(*id.Value).Valid() {
			return shcrkit.NHSNumber(*id.Value)
		}
	}
	return ""
}

// confidentialityOf reads the record's label the fail-closed way of
// shcrkit.ConfidentialityOf: PDS sends at most one, and should there be
// more, the most restrictive wins.
func confidentialityOf(m *fhir.Meta) shcrkit.Confidentiality {
	if m == nil {
		return shcrkit.ConfidentialityUnrestricted
	}
	return shcrkit.ConfidentialityOf(m.Security...)
}

// NHSNumber returns the patient's NHS number: the record's id, which for a
// superseded number is the surviving one. It is zero when the record
// carries no valid NHS number (only ever seen in sandbox data).
func (p *Patient) NHSNumber() shcrkit.NHSNumber { return p.nhs }

// Superseded returns the NHS number that was asked for when PDS answered
// with a different, surviving record: that number is superseded and must
// be replaced by NHSNumber() in the caller's records. It is zero otherwise.
func (p *Patient) Superseded() shcrkit.NHSNumber { return p.superseded }

// Version returns the record's version ("2"), from the ETag header or
// meta.versionId, or "" when unknown; pass it to Update.
func (p *Patient) Version() string { return p.version }

// Confidentiality returns the record's confidentiality label: a record
// without one is unrestricted, one whose label cannot be read very
// restricted. A restricted or very restricted record
// (Confidentiality().Restricted()) must be handled as sensitive: PDS has
// removed its address, telecom, contacts and registered GP.
func (p *Patient) Confidentiality() shcrkit.Confidentiality { return p.conf }

// Gender returns the administrative gender ("male", "female", "other",
// "unknown"), or "" when not recorded.
func (p *Patient) Gender() string {
	if p.Resource.Gender == nil {
		return ""
	}
	return p.Resource.Gender.Code()
}

// BirthDate returns the date of birth as recorded (yyyy-mm-dd, or less
// precise), or "".
func (p *Patient) BirthDate() string { return ptr.Deref(p.Resource.BirthDate) }

// Deceased reports whether the record says the patient has died and
// gives the date of death (yyyy-mm-dd) as recorded, or "" when none is.
func (p *Patient) Deceased() (date string, ok bool) {
	d := ptr.Deref(p.Resource.DeceasedDateTime)
	if i := strings.IndexByte(d, 'T'); i >= 0 {
		d = d[:i]
	}
	return d, p.Resource.DeceasedDateTime != nil || (p.Resource.DeceasedBoolean != nil && *p.Resource.DeceasedBoolean)
}

// UsualName returns the patient's usual name. A record whose names carry
// no use at all yields the first of them; otherwise ok is false when there
// is no usual name.
func (p *Patient) UsualName() (Name, bool) {
	return usualName(p.Resource.Name)
}

// Names returns every name on the record (a search returns only the usual,
// nickname and temporary ones).
func (p *Patient) Names() []Name {
	out := make([]Name, 0, len(p.Resource.Name))
	for _, n := range p.Resource.Name {
		out = append(out, nameOf(n))
	}
	return out
}

// HomeAddress returns the home address, absent for a restricted patient.
func (p *Patient) HomeAddress() (Address, bool) {
	for _, a := range p.Resource.Address {
		if a.Use != nil && *a.Use == fhir.AddressUseHome {
			return addressOf(a), true
		}
	}
	return Address{}, false
}

// Addresses returns every address on the record.
func (p *Patient) Addresses() []Address {
	out := make([]Address, 0, len(p.Resource.Address))
	for _, a := range p.Resource.Address {
		out = append(out, addressOf(a))
	}
	return out
}

// Telecom returns the patient's phone numbers, email addresses and other
// contact points.
func (p *Patient) Telecom() []ContactPoint {
	return contactPoints(p.Resource.Telecom)
}

// GPPractice returns the ODS code of the registered GP practice, zero when
// there is none or it was removed.
func (p *Patient) GPPractice() shcrkit.ODSCode {
	for _, r := range p.Resource.GeneralPractitioner {
		if r.Identifier == nil || r.Identifier.Value == nil {
			continue
		}
		if s := r.Identifier.System; s != nil && *s != codesystem.ODS {
			continue
		}
		if c, err := shcrkit.ParseODSCode(*r.Identifier.Value); err == nil {
			return c
		}
	}
	return ""
}

// LogValue keeps a patient out of logs: only the masked NHS number and the
// confidentiality label are shown.
func (p *Patient) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("nhs_number", p.nhs), slog.String("confidentiality", p.conf.String()))
}

// Name is a person's name.
type Name struct {
	// ID is the name's object id, which an update must quote.
	ID string
	// Use is "usual", "nickname", "temp", "old" and so on.
	Use    string
	Prefix []string
	Given  []string
	Family string
	Suffix []string
}

// String returns the given names and family name, "Jane Anne Smith".
func (n Name) String() string {
	parts := append(append([]string(nil), n.Given...), n.Family)
	return strings.TrimSpace(strings.Join(strings.Fields(strings.Join(parts, " ")), " "))
}

// LogValue keeps names out of logs.
func (n Name) LogValue() slog.Value { return slog.StringValue("[name]") }

func nameOf(h fhir.HumanName) Name {
	n := Name{ID: ptr.Deref(h.Id), Prefix: h.Prefix, Given: h.Given, Family: ptr.Deref(h.Family), Suffix: h.Suffix}
	if h.Use != nil {
		n.Use = h.Use.Code()
	}
	return n
}

func usualName(names []fhir.HumanName) (Name, bool) {
	anyUse := false
	for _, h := range names {
		if h.Use != nil {
			anyUse = true
			if *h.Use == fhir.NameUseUsual {
				return nameOf(h), true
			}
		}
	}
	if !anyUse && len(names) > 0 {
		return nameOf(names[0]), true
	}
	return Name{}, false
}

// Address is a postal address.
type Address struct {
	// ID is the address's object id, which an update must quote.
	ID string
	// Use is "home", "temp", "billing" or "work".
	Use string
	// Text describes a temporary address ("Student Accommodation").
	Text       string
	Lines      []string
	PostalCode string
}

// LogValue keeps addresses out of logs.
func (a Address) LogValue() slog.Value { return slog.StringValue("[address]") }

func addressOf(a fhir.Address) Address {
	out := Address{ID: ptr.Deref(a.Id), Text: ptr.Deref(a.Text), Lines: a.Line, PostalCode: ptr.Deref(a.PostalCode)}
	if a.Use != nil {
		out.Use = a.Use.Code()
	}
	return out
}

// ContactPoint is a phone number, email address or other means of
// contact.
type ContactPoint struct {
	// ID is the contact point's object id, which an update must quote.
	ID string
	// System is "phone", "email", "other" and so on.
	System string
	// Use is "home", "work", "mobile" or "temp".
	Use   string
	Value string
}

// LogValue keeps contact details out of logs.
func (c ContactPoint) LogValue() slog.Value { return slog.StringValue("[" + c.System + "]") }

func contactPoints(cps []fhir.ContactPoint) []ContactPoint {
	out := make([]ContactPoint, 0, len(cps))
	for _, c := range cps {
		cp := ContactPoint{ID: ptr.Deref(c.Id), Value: ptr.Deref(c.Value)}
		if c.System != nil {
			cp.System = c.System.Code()
		}
		if c.Use != nil {
			cp.Use = c.Use.Code()
		}
		out = append(out, cp)
	}
	return out
}

// parseETag extracts the version from W/"n" (or a bare "n" or n).
func parseETag(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if !isDigits(s) {
		return "", false
	}
	return s, true
}

func isDigits(s string) bool {
	if s == "" || len(s) > 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
