package pdstest

import (
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/synthetic"
	"github.com/shcrkit/shcrkit/pds"
)

// Patients are the well-known patients of the seed population, for tests
// and examples that need a particular kind of record: pdstest.Patients.Normal
// and so on. All numbers are synthetic, from SyntheticNHSNumber. The NRL
// fake (nrls/nrlstest) files its seed pointers under the same numbers.
// Read it; never assign to it.
var Patients = struct {
	// Normal is an unrestricted, living patient with a full record:
	// home address, phone, email, GP, an emergency contact and two related
	// people. Amelia Hartley, born 1984-03-14, registered at Y10001 in
	// North Riding. Her pointers are in three regions, one of them very
	// restricted, retrieved by SSP and directly.
	Normal shcrkit.NHSNumber
	// Restricted is labelled restricted (R): PDS returns no
	// address, telecom, contacts or GP. It has a restricted pointer and an
	// in-context launch pointer.
	Restricted shcrkit.NHSNumber
	// VeryRestricted is labelled very restricted (V), and so is its
	// one pointer.
	VeryRestricted shcrkit.NHSNumber
	// Deceased has a date of death and a formal death notification,
	// and an end of life care coordination summary.
	Deceased shcrkit.NHSNumber
	// Superseded is a superseded number: getting it returns the
	// record of Surviving. A pointer is still filed under it.
	Superseded shcrkit.NHSNumber
	// Surviving is the record that replaced Superseded, with
	// pointers of its own.
	Surviving shcrkit.NHSNumber
	// Invalidated was invalidated and not superseded: 404
	// INVALIDATED_RESOURCE. It has no pointers.
	Invalidated shcrkit.NHSNumber
	// Redacted is a record labelled REDACTED, which PDS never
	// returns: 404 RESOURCE_NOT_FOUND, and never found by a search. It has
	// no pointers.
	Redacted shcrkit.NHSNumber
	// Minimal has almost no data: a record of poor quality, and no
	// pointers.
	Minimal shcrkit.NHSNumber
	// Unknown is a valid NHS number that no record has: 404
	// RESOURCE_NOT_FOUND, and no pointers.
	Unknown shcrkit.NHSNumber
}{
	Normal: synthetic.PatientNormal, Restricted: synthetic.PatientRestricted, VeryRestricted: synthetic.PatientVeryRestricted,
	Deceased: synthetic.PatientDeceased, Superseded: synthetic.PatientSuperseded, Surviving: synthetic.PatientSurviving,
	Invalidated: synthetic.PatientInvalidated, Redacted: synthetic.PatientRedacted, Minimal: synthetic.PatientMinimal,
	Unknown: synthetic.PatientUnknown,
}

// SharedSurname is the family name several patients share (Patients.Normal
// among them), three of them born on the same day, so that a search on it
// can return several matches or too many.
const SharedSurname = synthetic.SharedSurname

// SyntheticNHSNumber returns the n-th (from 1) valid NHS number of the
// range the fake uses, 949 000 001x upwards: the seed population takes the
// first ones, in order. It returns zero for n < 1 or n > 999999.
func SyntheticNHSNumber(n int) shcrkit.NHSNumber { return synthetic.NHSNumber(n) }

// Person is a synthetic patient, the plain description the fake builds a
// PDS record from. Only NHSNumber is required; the rest may be empty.
type Person struct {
	// NHSNumber is the patient's NHS number.
	NHSNumber shcrkit.NHSNumber
	// Prefix is a title ("Mrs").
	Prefix string
	// Given are the given names, first name first.
	Given []string
	// Family is the family name.
	Family string
	// PreviousFamily is an earlier family name, recorded as an old name
	// that history and fuzzy searches find.
	PreviousFamily string
	// Gender is the recorded gender.
	Gender pds.Gender
	// BirthDate is the date of birth, yyyy-mm-dd.
	BirthDate string
	// DeathDate is the date of death, yyyy-mm-dd, or "" while alive.
	DeathDate string
	// AddressLines and Postcode make the home address.
	AddressLines []string
	Postcode     string
	// Phone and Email are home contact points.
	Phone string
	Email string
	// GP is the registered GP practice.
	GP shcrkit.ODSCode
	// Region names the home region and HomeShCR is the ODS
	// code of its shared care record: where the patient's records live.
	Region   string
	HomeShCR shcrkit.ODSCode
	// Confidentiality is the record's label.
	Confidentiality shcrkit.Confidentiality
	// Redacted labels the record REDACTED, which PDS never returns: a get
	// answers 404 INVALIDATED_RESOURCE and a search does not find it.
	Redacted bool
	// SupersededBy, when set, makes this number a superseded one that
	// resolves to the surviving record with that number; the other fields
	// are then ignored.
	SupersededBy shcrkit.NHSNumber
	// Invalidated makes the number invalidated and not superseded.
	Invalidated bool
	// EmergencyContact is a phone number recorded as the patient's
	// emergency contact.
	EmergencyContact string
	// ManagingOrganization is the organisation managing the record
	// (Patient.managingOrganization), in PDS the GP practice; "" for none.
	ManagingOrganization shcrkit.ODSCode
	// MultipleBirth is the patient's place in a multiple birth (1 for the
	// first-born twin), Patient.multipleBirthInteger; 0 when not recorded.
	MultipleBirth int
	// Related are the patient's related people.
	Related []Relation
}

// Relation is a person related to a patient.
type Relation struct {
	// Relationship is the relationship code, e.g. "SPS" (spouse), "MTH"
	// (mother), "Guardian", "Carer".
	Relationship string
	// NextOfKin marks the next of kin.
	NextOfKin bool
	// NHSNumber links the related person's own patient record, if any.
	NHSNumber shcrkit.NHSNumber
	// Given, Family, AddressLines, Postcode and Phone describe a related
	// person with no linked record.
	Given        []string
	Family       string
	AddressLines []string
	Postcode     string
	Phone        string
}

// Population returns the seed population: at least 50 synthetic patients
// spread over four invented regions, each with its GP practices and shared
// care record (Person.HomeShCR), including every well-known patient
// (Patients). Each call returns a fresh copy.
func Population() []Person {
	pop := synthetic.Population()
	out := make([]Person, len(pop))
	for i, p := range pop {
		out[i] = fromSynthetic(p)
	}
	return out
}

// fromSynthetic converts a person of the synthetic population.
func fromSynthetic(p synthetic.Person) Person {
	out := Person{
		NHSNumber: p.NHSNumber, Prefix: p.Prefix, Given: p.Given, Family: p.Family, PreviousFamily: p.PreviousFamily,
		Gender: pds.Gender(p.Gender), BirthDate: p.BirthDate, DeathDate: p.DeathDate, AddressLines: p.AddressLines,
		Postcode: p.Postcode, Phone: p.Phone, Email: p.Email, GP: p.GP, Region: p.Region, HomeShCR: p.HomeShCR,
		Confidentiality: p.Confidentiality, Redacted: p.Redacted, SupersededBy: p.SupersededBy, Invalidated: p.Invalidated,
		EmergencyContact: p.EmergencyContact, ManagingOrganization: p.ManagingOrganization, MultipleBirth: p.MultipleBirth,
	}
	for _, r := range p.Related {
		out.Related = append(out.Related, Relation(r))
	}
	return out
}
