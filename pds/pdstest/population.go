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
// PDS record from. Only NHSNumber is required; the rest may be empty:
// Prefix, Given and Family names (and a PreviousFamily that history and
// fuzzy searches find), Gender, BirthDate and DeathDate (yyyy-mm-dd), the
// home address (AddressLines, Postcode), Phone and Email, the GP practice,
// the home Region and its shared care record (HomeShCR), the record's
// Confidentiality, its state (Redacted, which PDS never returns;
// SupersededBy another number; Invalidated), an EmergencyContact phone
// number, the ManagingOrganization, the place in a MultipleBirth, and the
// Related people.
type Person = synthetic.Person[pds.Gender]

// Relation is a person related to a patient: the Relationship code ("SPS"
// spouse, "MTH" mother, "Guardian", "Carer"), NextOfKin, and either the
// NHSNumber of the related person's own record or their Given and Family
// names, AddressLines, Postcode and Phone.
type Relation = synthetic.Relation

// Population returns the seed population: at least 50 synthetic patients
// spread over four invented regions, each with its GP practices and shared
// care record (Person.HomeShCR), including every well-known patient
// (Patients). Each call returns a fresh copy.
func Population() []Person { return synthetic.Population[pds.Gender]() }
