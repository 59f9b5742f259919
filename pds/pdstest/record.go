package pdstest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/ptr"
)

// FHIR systems and extension URLs the fake writes.
const (
	verificationStatusURL    = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
	verificationStatusSystem = "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus"
	deathNotificationURL     = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus"
	deathNotificationSystem  = "https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus"
	contactRelationSystem    = "http://terminology.hl7.org/CodeSystem/v2-0131"
	relationRoleSystem       = "https://fhir.nhs.uk/R4/CodeSystem/UKCore-AdditionalRelatedPersonRole"
	relationTypeSystem       = "http://hl7.org/fhir/ValueSet/relatedperson-relationshiptype"
)

// record is one patient as the fake holds it: the full resource, before
// any of the removals PDS makes when it answers.
type record struct {
	res     fhir.Patient
	version int
	conf    shcrkit.Confidentiality
	// redacted marks a record PDS would never return.
	redacted bool
	related  []fhir.RelatedPerson
	// rendered caches the answer to a get of the current version.
	rendered []byte
}

// objectID makes a stable object id like the ones PDS gives names,
// addresses and contact points.
func objectID(parts ...string) string {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%08X", h.Sum32())
}

// buildRecord turns a Person into the record PDS would hold.
func buildRecord(p Person) (*record, error) {
	if !p.NHSNumber.Valid() {
		return nil, fmt.Errorf("pdstest: person has an invalid NHS number")
	}
	conf := p.Confidentiality
	if !conf.Valid() {
		return nil, fmt.Errorf("pdstest: unknown confidentiality %d", uint8(conf))
	}
	nhs := p.NHSNumber.String()
	res := fhir.Patient{
		Id: ptr.To(nhs),
		Identifier: []fhir.Identifier{{
			System: ptr.To(codesystem.NHSNumber),
			Value:  ptr.To(nhs),
			Extension: []fhir.Extension{{
				Url: verificationStatusURL,
				ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{
					System: ptr.To(verificationStatusSystem), Version: ptr.To("1.0.0"), Code: ptr.To("01"),
					Display: ptr.To("Number present and verified"),
				}}},
			}},
		}},
	}
	addNames(&res, p, nhs)
	if err := addDemographics(&res, p); err != nil {
		return nil, err
	}
	addContacts(&res, p, nhs)
	if err := addOrganisations(&res, p, nhs); err != nil {
		return nil, err
	}
	rec := &record{res: res, version: 1, conf: conf, redacted: p.Redacted}
	for i, r := range p.Related {
		rp, err := buildRelated(p.NHSNumber, i, r)
		if err != nil {
			return nil, err
		}
		rec.related = append(rec.related, rp)
	}
	return rec, nil
}

// addNames adds the person's usual and previous names.
func addNames(res *fhir.Patient, p Person, nhs string) {
	if p.Family != "" || len(p.Given) > 0 {
		n := fhir.HumanName{Id: ptr.To(objectID(nhs, "name", "usual")), Use: ptr.To(fhir.NameUseUsual),
			Given: append([]string(nil), p.Given...), Period: &fhir.Period{Start: ptr.To(startDate(p.BirthDate))}}
		if p.Family != "" {
			n.Family = ptr.To(p.Family)
		}
		if p.Prefix != "" {
			n.Prefix = []string{p.Prefix}
		}
		res.Name = append(res.Name, n)
	}
	if p.PreviousFamily != "" {
		res.Name = append(res.Name, fhir.HumanName{Id: ptr.To(objectID(nhs, "name", "old")), Use: ptr.To(fhir.NameUseOld),
			Given: append([]string(nil), p.Given...), Family: ptr.To(p.PreviousFamily)})
	}
}

// addDemographics adds gender and the dates of birth and death.
func addDemographics(res *fhir.Patient, p Person) error {
	if p.Gender != "" {
		var g fhir.AdministrativeGender
		if err := g.UnmarshalJSON([]byte(`"` + string(p.Gender) + `"`)); err != nil {
			return fmt.Errorf("pdstest: unknown gender %q", string(p.Gender))
		}
		res.Gender = &g
	}
	if p.BirthDate != "" {
		if !validDate(p.BirthDate) {
			return fmt.Errorf("pdstest: birth date must be yyyy-mm-dd")
		}
		res.BirthDate = ptr.To(p.BirthDate)
	}
	if p.DeathDate != "" {
		if !validDate(p.DeathDate) {
			return fmt.Errorf("pdstest: death date must be yyyy-mm-dd")
		}
		res.DeceasedDateTime = ptr.To(p.DeathDate + "T00:00:00+00:00")
		res.Extension = append(res.Extension, fhir.Extension{Url: deathNotificationURL, Extension: []fhir.Extension{
			{Url: "deathNotificationStatus", ValueCodeableConcept: &fhir.CodeableConcept{Coding: []fhir.Coding{{
				System: ptr.To(deathNotificationSystem), Version: ptr.To("1.0.0"), Code: ptr.To("2"),
				Display: ptr.To("Formal - death notice received from Registrar of Deaths"),
			}}}},
			{Url: "systemEffectiveDate", ValueDateTime: ptr.To(p.DeathDate + "T00:00:00+00:00")},
		}})
	}
	return nil
}

// addContacts adds the home address, phone, email and emergency contact.
func addContacts(res *fhir.Patient, p Person, nhs string) {
	if len(p.AddressLines) > 0 || p.Postcode != "" {
		a := fhir.Address{Id: ptr.To(objectID(nhs, "address", "home")), Use: ptr.To(fhir.AddressUseHome),
			Line: append([]string(nil), p.AddressLines...), Period: &fhir.Period{Start: ptr.To(startDate(p.BirthDate))}}
		if p.Postcode != "" {
			a.PostalCode = ptr.To(p.Postcode)
		}
		res.Address = []fhir.Address{a}
	}
	if p.Phone != "" {
		res.Telecom = append(res.Telecom, fhir.ContactPoint{Id: ptr.To(objectID(nhs, "telecom", "phone")),
			System: ptr.To(fhir.ContactPointSystemPhone), Use: ptr.To(fhir.ContactPointUseHome), Value: ptr.To(p.Phone)})
	}
	if p.Email != "" {
		res.Telecom = append(res.Telecom, fhir.ContactPoint{Id: ptr.To(objectID(nhs, "telecom", "email")),
			System: ptr.To(fhir.ContactPointSystemEmail), Use: ptr.To(fhir.ContactPointUseHome), Value: ptr.To(p.Email)})
	}
	if p.EmergencyContact != "" {
		res.Contact = []fhir.PatientContact{{
			Id: ptr.To(objectID(nhs, "contact")),
			Relationship: []fhir.CodeableConcept{{Coding: []fhir.Coding{{
				System: ptr.To(contactRelationSystem), Code: ptr.To("C"), Display: ptr.To("Emergency Contact")}}}},
			Telecom: []fhir.ContactPoint{{System: ptr.To(fhir.ContactPointSystemPhone), Value: ptr.To(p.EmergencyContact)}},
		}}
	}
}

// addOrganisations adds the GP, the managing organisation and the
// multiple birth order.
func addOrganisations(res *fhir.Patient, p Person, nhs string) error {
	if p.GP != "" {
		if !p.GP.Valid() {
			return fmt.Errorf("pdstest: GP is not a valid ODS code")
		}
		res.GeneralPractitioner = []fhir.Reference{{
			Id: ptr.To(objectID(nhs, "gp")), Type: ptr.To("Organization"),
			Identifier: &fhir.Identifier{System: ptr.To(codesystem.ODS), Value: ptr.To(string(p.GP)),
				Period: &fhir.Period{Start: ptr.To(startDate(p.BirthDate))}},
		}}
	}
	if p.ManagingOrganization != "" {
		if !p.ManagingOrganization.Valid() {
			return fmt.Errorf("pdstest: managing organisation is not a valid ODS code")
		}
		res.ManagingOrganization = &fhir.Reference{Type: ptr.To("Organization"),
			Identifier: &fhir.Identifier{System: ptr.To(codesystem.ODS), Value: ptr.To(string(p.ManagingOrganization)),
				Period: &fhir.Period{Start: ptr.To(startDate(p.BirthDate))}}}
	}
	switch {
	case p.MultipleBirth < 0 || p.MultipleBirth > 9:
		return fmt.Errorf("pdstest: multiple birth order must be 1 to 9, or 0 for none")
	case p.MultipleBirth > 0:
		res.MultipleBirthInteger = ptr.To(p.MultipleBirth)
	}
	return nil
}

func buildRelated(nhs shcrkit.NHSNumber, i int, r Relation) (fhir.RelatedPerson, error) {
	if r.Relationship == "" {
		return fhir.RelatedPerson{}, fmt.Errorf("pdstest: relation %d has no relationship", i)
	}
	rp := fhir.RelatedPerson{Id: ptr.To(objectID(nhs.String(), "related", fmt.Sprint(i))), Active: ptr.To(true)}
	system := relationTypeSystem
	if r.Relationship == "Guardian" || r.Relationship == "Agent" || r.Relationship == "Personal" {
		system = relationRoleSystem
	}
	cc := fhir.CodeableConcept{Coding: []fhir.Coding{{System: ptr.To(system), Code: ptr.To(r.Relationship)}}}
	if r.NextOfKin {
		cc.Coding = append(cc.Coding, fhir.Coding{System: ptr.To(relationTypeSystem), Code: ptr.To("N"), Display: ptr.To("Next-of-Kin")})
	}
	rp.Relationship = []fhir.CodeableConcept{cc}
	if r.NHSNumber != "" {
		if !r.NHSNumber.Valid() {
			return fhir.RelatedPerson{}, fmt.Errorf("pdstest: relation %d has an invalid NHS number", i)
		}
		rp.Patient = fhir.Reference{Identifier: &fhir.Identifier{System: ptr.To(codesystem.NHSNumber), Value: ptr.To(r.NHSNumber.String())}}
	}
	if r.Family != "" || len(r.Given) > 0 {
		n := fhir.HumanName{Use: ptr.To(fhir.NameUseUsual), Given: append([]string(nil), r.Given...)}
		if r.Family != "" {
			n.Family = ptr.To(r.Family)
		}
		rp.Name = []fhir.HumanName{n}
	}
	if len(r.AddressLines) > 0 || r.Postcode != "" {
		a := fhir.Address{Use: ptr.To(fhir.AddressUseHome), Line: append([]string(nil), r.AddressLines...)}
		if r.Postcode != "" {
			a.PostalCode = ptr.To(r.Postcode)
		}
		rp.Address = []fhir.Address{a}
	}
	if r.Phone != "" {
		rp.Telecom = []fhir.ContactPoint{{System: ptr.To(fhir.ContactPointSystemPhone), Use: ptr.To(fhir.ContactPointUseHome), Value: ptr.To(r.Phone)}}
	}
	return rp, nil
}

// startDate is the period start the fake gives the data of a patient
// born on birth: their birth date, or a fixed date when unknown.
func startDate(birth string) string {
	if birth != "" {
		return birth
	}
	return "2000-01-01"
}

// view returns the patient as PDS returns it on a get: versioned, labelled
// and, unless unrestricted, without address, telecom, contacts, GP and
// managing organisation.
func (r *record) view() fhir.Patient {
	p := r.res
	p.Meta = &fhir.Meta{VersionId: ptr.To(fmt.Sprint(r.version)), Security: []fhir.Coding{r.conf.Coding()}}
	if r.conf.Restricted() {
		p.Address, p.Telecom, p.Contact, p.GeneralPractitioner, p.ManagingOrganization = nil, nil, nil, nil, nil
	}
	return p
}

// searchView is the part of the record a search returns: usual, nickname
// and temporary names, the home address, the death notification and no
// other extension; with the same removals as a get.
func (r *record) searchView() fhir.Patient {
	p := r.view()
	var names []fhir.HumanName
	for _, n := range p.Name {
		if n.Use == nil || *n.Use == fhir.NameUseUsual || *n.Use == fhir.NameUseNickname || *n.Use == fhir.NameUseTemp {
			names = append(names, n)
		}
	}
	p.Name = names
	var addrs []fhir.Address
	for _, a := range p.Address {
		if a.Use != nil && *a.Use == fhir.AddressUseHome {
			addrs = append(addrs, a)
		}
	}
	p.Address = addrs
	var exts []fhir.Extension
	for _, e := range p.Extension {
		if e.Url == deathNotificationURL {
			exts = append(exts, e)
		}
	}
	p.Extension = exts
	p.ManagingOrganization, p.Communication = nil, nil
	return p
}

// relatedView returns the related people, without the contact details of
// those of a patient whose location PDS hides.
func (r *record) relatedView() []fhir.RelatedPerson {
	out := make([]fhir.RelatedPerson, len(r.related))
	copy(out, r.related)
	if r.conf.Restricted() {
		for i := range out {
			out[i].Address, out[i].Telecom = nil, nil
		}
	}
	return out
}

// clonePatient deep-copies a resource through JSON, which is how the fake
// hands records out without sharing memory.
func clonePatient(p fhir.Patient) fhir.Patient {
	b, err := json.Marshal(p)
	if err != nil {
		return p
	}
	var out fhir.Patient
	if err := json.Unmarshal(b, &out); err != nil {
		return p
	}
	return out
}

func validDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	_, err := parseDate(s)
	return err == nil
}

// lower folds case for the fake's matching.
func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
