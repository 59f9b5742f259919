// Package synthetic is the one synthetic population every fake serves:
// the patients of the PDS fake (pds/pdstest), whose NHS numbers and home
// regions the NRL fake (nrls/nrlstest) files pointers under, and the
// regions whose shared care records hold those pointers' records.
package synthetic

import (
	"fmt"
	"strings"

	"github.com/shcrkit/shcrkit"
)

// Well-known patients of the seed population, for tests and examples that
// need a particular kind of record. All numbers are synthetic, from
// NHSNumber.
const (
	// female, male and unknown are the PDS genders the population uses.
	female, male, unknown = "female", "male", "unknown"
)

const (
	// PatientNormal is an unrestricted, living patient with a full record:
	// home address, phone, email, GP, an emergency contact and two related
	// people. Amelia Hartley, born 1984-03-14, registered at Y10001 in
	// North Riding.
	PatientNormal shcrkit.NHSNumber = "9490000019"
	// PatientRestricted is labelled restricted (R): PDS returns no
	// address, telecom, contacts or GP.
	PatientRestricted shcrkit.NHSNumber = "9490000027"
	// PatientVeryRestricted is labelled very restricted (V).
	PatientVeryRestricted shcrkit.NHSNumber = "9490000035"
	// PatientDeceased has a date of death and a formal death notification.
	PatientDeceased shcrkit.NHSNumber = "9490000043"
	// PatientSuperseded is a superseded number: getting it returns the
	// record of PatientSurviving.
	PatientSuperseded shcrkit.NHSNumber = "9490000051"
	// PatientSurviving is the record that replaced PatientSuperseded.
	PatientSurviving shcrkit.NHSNumber = "9490000078"
	// PatientInvalidated was invalidated and not superseded: 404
	// INVALIDATED_RESOURCE.
	PatientInvalidated shcrkit.NHSNumber = "9490000086"
	// PatientRedacted is a record labelled REDACTED, which PDS never
	// returns: 404 RESOURCE_NOT_FOUND, and never found by a search.
	PatientRedacted shcrkit.NHSNumber = "9490000094"
	// PatientMinimal has almost no data: a record of poor quality.
	PatientMinimal shcrkit.NHSNumber = "9490000108"
	// PatientUnknown is a valid NHS number that no record has: 404
	// RESOURCE_NOT_FOUND.
	PatientUnknown shcrkit.NHSNumber = "9490010995"
)

// The ODS codes of the regions' shared care records.
const (
	// ShCRNorth is the North Riding Care Record.
	ShCRNorth shcrkit.ODSCode = "RNR"
	// ShCRSouth is the Wessex Vale Shared Record.
	ShCRSouth shcrkit.ODSCode = "RWV"
	// ShCREast is the Fenland Coast Care Record.
	ShCREast shcrkit.ODSCode = "RFC"
	// ShCRWest is the Mercia Hills Integrated Record.
	ShCRWest shcrkit.ODSCode = "RMH"
)

// SharedSurname is the family name several patients share (PatientNormal
// among them), three of them born on the same day, so that a search on it
// can return several matches or too many.
const SharedSurname = "Hartley"

// NHSNumber returns the n-th (from 1) valid NHS number of the
// range the fake uses, 949 000 001x upwards: the seed population takes the
// first ones, in order. It returns zero for n < 1 or n > 999999.
func NHSNumber(n int) shcrkit.NHSNumber {
	if n < 1 {
		return ""
	}
	for seq := 1; seq <= 999999; seq++ {
		nine := fmt.Sprintf("949%06d", seq)
		// At most one check digit makes the number valid; none does when
		// the modulus-11 check would be 10.
		for d := byte('0'); d <= '9'; d++ {
			if s := nine + string(d); shcrkit.NHSNumber(s).Valid() {
				if n--; n == 0 {
					return shcrkit.NHSNumber(s)
				}
				break
			}
		}
	}
	return ""
}

// Region is an invented area of England with its own shared care record
// and GP practices.
type Region struct {
	// Name is the region's name.
	Name string
	// ShCR is the ODS code of the region's shared care record.
	ShCR shcrkit.ODSCode
	// ShCRName is the shared care record's name.
	ShCRName string
	// ShCRBaseURL is where the NRL fake's seed pointers to the shared
	// care record's records lead until a test rebases them: a placeholder
	// under the reserved .example domain.
	ShCRBaseURL string
	// ShCRASID is the 12-digit ASID of the shared care record's system,
	// the Ssp-To of its pointers retrieved through the Spine Secure Proxy.
	ShCRASID string
	// Practices are the GP practices in the region.
	Practices []Practice

	postcodeArea string
	towns        []string
	streets      []string
}

// Practice is a GP practice.
type Practice struct {
	// ODS is the practice's ODS code.
	ODS shcrkit.ODSCode
	// Name is the practice's name.
	Name string
}

// Regions returns the invented regions of the seed population.
func Regions() []Region {
	return []Region{
		{Name: "North Riding", ShCR: ShCRNorth, ShCRName: "North Riding Care Record",
			ShCRBaseURL: "https://north-riding.shcr.example/fhir", ShCRASID: "900000000101", postcodeArea: "YO",
			Practices: []Practice{{"Y10001", "Moorside Surgery"}, {"Y10002", "Abbey Lane Medical Practice"}, {"Y10003", "Ryedale Health Centre"}},
			towns:     []string{"Kirkby Moor", "Thornbeck", "Helmsby"}, streets: []string{"Moor Lane", "Church Row", "Beck Side"}},
		{Name: "Wessex Vale", ShCR: ShCRSouth, ShCRName: "Wessex Vale Shared Record",
			ShCRBaseURL: "https://wessex-vale.shcr.example/fhir", ShCRASID: "900000000102", postcodeArea: "SP",
			Practices: []Practice{{"Y20001", "Downland Practice"}, {"Y20002", "Avonmere Surgery"}, {"Y20003", "Chalkwell Medical Centre"}},
			towns:     []string{"Avonmere", "Chalkbury", "Wyle Cross"}, streets: []string{"Mill Street", "Downs Road", "Water Lane"}},
		{Name: "Fenland Coast", ShCR: ShCREast, ShCRName: "Fenland Coast Care Record",
			ShCRBaseURL: "https://fenland-coast.shcr.example/fhir", ShCRASID: "900000000103", postcodeArea: "PE",
			Practices: []Practice{{"Y30001", "Saltmarsh Surgery"}, {"Y30002", "Harbour View Practice"}, {"Y30003", "Dykeside Health Centre"}},
			towns:     []string{"Saltfleet Market", "Marshby", "Wendle"}, streets: []string{"Sea Bank", "Drove Road", "Quay Street"}},
		{Name: "Mercia Hills", ShCR: ShCRWest, ShCRName: "Mercia Hills Integrated Record",
			ShCRBaseURL: "https://mercia-hills.shcr.example/fhir", ShCRASID: "900000000104", postcodeArea: "ST",
			Practices: []Practice{{"Y40001", "Hillcrest Surgery"}, {"Y40002", "Potters Row Medical Practice"}, {"Y40003", "Edgemoor Health Centre"}},
			towns:     []string{"Kilnbury", "Edgemoor", "Stonecross"}, streets: []string{"Kiln Street", "Ridge Road", "Canal Side"}},
	}
}

// Person is a synthetic patient, the plain description the fake builds a
// PDS record from. Only NHSNumber is required; the rest may be empty.
type Person[G ~string] struct {
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
	// Gender is the recorded gender, a PDS gender code: G is the type a
	// fake holds genders in.
	Gender G
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
	// Region names the home region (see Regions) and HomeShCR is the ODS
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
// spread over the regions of Regions, including every well-known patient
// (PatientNormal, PatientRestricted, ...). Each call returns a fresh copy.
func Population[G ~string]() []Person[G] {
	regions := Regions()
	nr, wv, fc, mh := regions[0], regions[1], regions[2], regions[3]
	home := func(p *Person[G], r Region, practice int) {
		p.Region, p.HomeShCR, p.GP = r.Name, r.ShCR, r.Practices[practice].ODS
		p.ManagingOrganization = p.GP
	}
	var out []Person[G]
	add := func(p Person[G], r Region, practice int) {
		if p.SupersededBy == "" && !p.Invalidated {
			home(&p, r, practice)
		}
		out = append(out, p)
	}

	add(Person[G]{NHSNumber: PatientNormal, Prefix: "Mrs", Given: []string{"Amelia", "Rose"}, Family: SharedSurname,
		PreviousFamily: "Calloway", Gender: female, BirthDate: "1984-03-14",
		AddressLines: []string{"12 Moor Lane", "Kirkby Moor"}, Postcode: "YO62 4QT",
		Phone: "01632 960101", Email: "amelia.hartley@example.com", EmergencyContact: "01632 960102", MultipleBirth: 1,
		Related: []Relation{
			{Relationship: "SPS", NextOfKin: true, NHSNumber: NHSNumber(10)},
			{Relationship: "MTH", Given: []string{"Margaret"}, Family: "Calloway",
				AddressLines: []string{"3 Beck Side", "Thornbeck"}, Postcode: "YO18 7LP", Phone: "01632 960103"},
		}}, nr, 0)
	add(Person[G]{NHSNumber: PatientRestricted, Prefix: "Mx", Given: []string{"Rowan"}, Family: "Ashdown",
		Gender: unknown, BirthDate: "1991-09-05", AddressLines: []string{"4 Mill Street", "Avonmere"},
		Postcode: "SP4 7RD", Phone: "01632 960111", Email: "r.ashdown@example.org", Confidentiality: shcrkit.ConfidentialityRestricted,
		Related: []Relation{{Relationship: "Guardian", Given: []string{"Helen"}, Family: "Ashdown",
			AddressLines: []string{"4 Mill Street", "Avonmere"}, Postcode: "SP4 7RD", Phone: "01632 960112"}}}, wv, 1)
	add(Person[G]{NHSNumber: PatientVeryRestricted, Prefix: "Ms", Given: []string{"Sasha"}, Family: "Kenning",
		Gender: female, BirthDate: "1979-12-21", AddressLines: []string{"9 Sea Bank", "Marshby"},
		Postcode: "PE24 5HJ", Phone: "01632 960121", Confidentiality: shcrkit.ConfidentialityVeryRestricted}, fc, 2)
	add(Person[G]{NHSNumber: PatientDeceased, Prefix: "Mr", Given: []string{"Walter", "James"}, Family: "Pembury",
		Gender: male, BirthDate: "1931-05-02", DeathDate: "2023-02-11",
		AddressLines: []string{"27 Kiln Street", "Kilnbury"}, Postcode: "ST7 2NW"}, mh, 0)
	add(Person[G]{NHSNumber: PatientSuperseded, SupersededBy: PatientSurviving}, nr, 0)
	add(Person[G]{NHSNumber: PatientSurviving, Prefix: "Miss", Given: []string{"Edith"}, Family: "Marlow",
		Gender: female, BirthDate: "1968-08-19", AddressLines: []string{"6 Downs Road", "Chalkbury"},
		Postcode: "SP3 6AX", Phone: "01632 960131"}, wv, 2)
	add(Person[G]{NHSNumber: PatientInvalidated, Invalidated: true}, fc, 0)
	add(Person[G]{NHSNumber: PatientRedacted, Given: []string{"Peter"}, Family: "Voss", Gender: male,
		BirthDate: "1975-01-30", Redacted: true}, mh, 1)
	add(Person[G]{NHSNumber: PatientMinimal}, mh, 2)
	// The spouse of PatientNormal, sharing her surname and birthday.
	add(Person[G]{NHSNumber: NHSNumber(10), Prefix: "Mr", Given: []string{"Thomas"}, Family: SharedSurname,
		Gender: male, BirthDate: "1984-03-14", AddressLines: []string{"12 Moor Lane", "Kirkby Moor"},
		Postcode: "YO62 4QT", Phone: "01632 960104", Email: "tom.hartley@example.com"}, nr, 0)
	add(Person[G]{NHSNumber: NHSNumber(11), Given: []string{"Oliver"}, Family: SharedSurname,
		Gender: male, BirthDate: "1984-03-14", AddressLines: []string{"2 Quay Street", "Wendle"},
		Postcode: "PE13 9DS", Phone: "01632 960141"}, fc, 1)
	add(Person[G]{NHSNumber: NHSNumber(12), Given: []string{"Grace"}, Family: SharedSurname,
		Gender: female, BirthDate: "1990-07-02", AddressLines: []string{"41 Ridge Road", "Edgemoor"},
		Postcode: "ST13 8PU", Email: "grace.h@example.net"}, mh, 2)
	add(Person[G]{NHSNumber: NHSNumber(13), Prefix: "Mrs", Given: []string{"Harriet"}, Family: SharedSurname,
		Gender: female, BirthDate: "1958-11-30", AddressLines: []string{"8 Water Lane", "Wyle Cross"},
		Postcode: "SP2 0LE"}, wv, 0)
	// A homophone of the shared surname, for fuzzy searches.
	add(Person[G]{NHSNumber: NHSNumber(14), Given: []string{"Amelia"}, Family: "Hartly",
		Gender: female, BirthDate: "1984-03-14", AddressLines: []string{"19 Drove Road", "Marshby"},
		Postcode: "PE24 5QA"}, fc, 0)
	// Known by an earlier surname, for history searches.
	add(Person[G]{NHSNumber: NHSNumber(15), Given: []string{"Isla"}, Family: "Brennan", PreviousFamily: SharedSurname,
		Gender: female, BirthDate: "1996-04-09", AddressLines: []string{"5 Canal Side", "Stonecross"},
		Postcode: "ST15 0BE"}, mh, 0)
	// Given and family names that read either way, for transposition.
	add(Person[G]{NHSNumber: NHSNumber(16), Given: []string{"Owen"}, Family: "Morgan",
		Gender: male, BirthDate: "1973-10-17", AddressLines: []string{"33 Church Row", "Helmsby"},
		Postcode: "YO61 3RR"}, nr, 2)

	addGenerated(regions, add)
	return out
}

// addGenerated adds the 42 ordinary patients after the well-known ones,
// spread over the regions, each registered with one of its practices.
func addGenerated[G ~string](regions []Region, add func(p Person[G], r Region, practice int)) {
	givens := []struct {
		name   string
		gender G
	}{
		{"Alice", female}, {"Benjamin", male}, {"Chloe", female}, {"Daniel", male},
		{"Eleanor", female}, {"Finlay", male}, {"Georgia", female}, {"Harvey", male},
		{"Imogen", female}, {"Jacob", male}, {"Keira", female}, {"Lewis", male},
		{"Maisie", female}, {"Nathan", male}, {"Olivia", female}, {"Patrick", male},
		{"Ruby", female}, {"Samuel", male}, {"Tilly", female}, {"Victor", male},
	}
	families := []string{"Ainsworth", "Barraclough", "Cheetham", "Dunmore", "Etherington", "Fairbairn", "Gledhill",
		"Holroyd", "Illingworth", "Jowett", "Kershaw", "Lumb", "Mellor", "Nuttall", "Ormerod", "Pickles", "Quarmby",
		"Ramsden", "Sutcliffe", "Tattersall", "Uttley", "Varley", "Whiteley", "Yeadon"}
	for i := 0; i < 42; i++ {
		n := 17 + i
		g := givens[(i*7)%len(givens)]
		r := regions[i%len(regions)]
		p := Person[G]{
			NHSNumber: NHSNumber(n),
			Given:     []string{g.name},
			Family:    families[i%len(families)],
			Gender:    g.gender,
			BirthDate: fmt.Sprintf("%04d-%02d-%02d", 1935+(i*13)%85, 1+(i*5)%12, 1+(i*11)%28),
			AddressLines: []string{fmt.Sprintf("%d %s", 1+(i*17)%90, r.streets[i%len(r.streets)]),
				r.towns[(i/4)%len(r.towns)]},
			Postcode: fmt.Sprintf("%s%d %d%c%c", r.postcodeArea, 1+i%20, i%10, 'A'+rune(i%26), 'B'+rune((i*3)%24)),
		}
		if i%3 == 0 {
			p.Phone = fmt.Sprintf("01632 960%03d", 200+i)
		}
		if i%4 == 1 {
			p.Email = strings.ToLower(g.name+"."+p.Family) + "@example.org"
		}
		add(p, r, i%len(r.Practices))
	}
}

// Find returns the person of the seed population with NHS number
// nhs.
func Find[G ~string](nhs shcrkit.NHSNumber) (Person[G], bool) {
	for _, p := range Population[G]() {
		if p.NHSNumber == nhs {
			return p, true
		}
	}
	return Person[G]{}, false
}

// Numbers returns the NHS numbers of Population, in its order.
func Numbers() []shcrkit.NHSNumber {
	pop := Population[string]()
	out := make([]shcrkit.NHSNumber, len(pop))
	for i, p := range pop {
		out[i] = p.NHSNumber
	}
	return out
}
