package nrlstest

import "github.com/shcrkit/shcrkit"

// The seed data covers the synthetic population of the PDS fake (package
// pdstest): the same NHS numbers, the same regions, each region's shared
// care record the custodian of its patients' pointers. The lists are
// written out here rather than imported, since the fakes of peer services
// do not depend on each other; a test of the journey checks that the two
// agree.

// Well-known patients, by the same names and numbers as in pdstest.
const (
	// PatientNormal has pointers in three regions, one of them very
	// restricted, retrieved by SSP and directly.
	PatientNormal shcrkit.NHSNumber = "9490000019"
	// PatientRestricted has a restricted (R) pointer and an in-context
	// launch pointer.
	PatientRestricted shcrkit.NHSNumber = "9490000027"
	// PatientVeryRestricted has one very restricted (V) pointer.
	PatientVeryRestricted shcrkit.NHSNumber = "9490000035"
	// PatientDeceased has an end of life care coordination summary.
	PatientDeceased shcrkit.NHSNumber = "9490000043"
	// PatientSuperseded is a superseded NHS number that still has a
	// pointer filed under it.
	PatientSuperseded shcrkit.NHSNumber = "9490000051"
	// PatientSurviving replaced PatientSuperseded and has pointers of its
	// own.
	PatientSurviving shcrkit.NHSNumber = "9490000078"
	// PatientInvalidated has no pointers.
	PatientInvalidated shcrkit.NHSNumber = "9490000086"
	// PatientRedacted has no pointers.
	PatientRedacted shcrkit.NHSNumber = "9490000094"
	// PatientMinimal has no pointers: a search finds nothing.
	PatientMinimal shcrkit.NHSNumber = "9490000108"
	// PatientUnknown is a valid number nobody has.
	PatientUnknown shcrkit.NHSNumber = "9490010995"
)

// Custodians: the shared care records of the population's regions, the
// same ODS codes as pdstest's regions.
const (
	// CustodianNorth is the North Riding Care Record.
	CustodianNorth shcrkit.ODSCode = "RNR"
	// CustodianSouth is the Wessex Vale Shared Record.
	CustodianSouth shcrkit.ODSCode = "RWV"
	// CustodianEast is the Fenland Coast Care Record.
	CustodianEast shcrkit.ODSCode = "RFC"
	// CustodianWest is the Mercia Hills Integrated Record.
	CustodianWest shcrkit.ODSCode = "RMH"
)

// ConsumerODS is the end-user organisation of the consumer client
// Server.Client returns: an invented emergency department away from every
// patient's home region.
const ConsumerODS shcrkit.ODSCode = "Y90001"

// Custodian describes a shared care record that holds records and keeps
// their pointers.
type Custodian struct {
	// ODS is the shared care record's ODS code.
	ODS shcrkit.ODSCode
	// Name is its name.
	Name string
	// Region is the region it serves.
	Region string
	// BaseURL is where its seed pointers lead until a test rebases them
	// (see WithPointerURLBase and Server.Rebase): a placeholder under the
	// reserved .example domain. A pointer's URL is BaseURL followed by
	// "/records/<pointer ID>" (ssp:// instead of https:// for one
	// retrieved through the Spine Secure Proxy).
	BaseURL string
	// ASID is the 12-digit ASID of its system, the Ssp-To of its SSP
	// pointers.
	ASID string
}

// Custodians returns the seed custodians. Each call returns a fresh copy.
func Custodians() []Custodian {
	return []Custodian{
		{ODS: CustodianNorth, Name: "North Riding Care Record", Region: "North Riding",
			BaseURL: "https://north-riding.shcr.example/fhir", ASID: "900000000101"},
		{ODS: CustodianSouth, Name: "Wessex Vale Shared Record", Region: "Wessex Vale",
			BaseURL: "https://wessex-vale.shcr.example/fhir", ASID: "900000000102"},
		{ODS: CustodianEast, Name: "Fenland Coast Care Record", Region: "Fenland Coast",
			BaseURL: "https://fenland-coast.shcr.example/fhir", ASID: "900000000103"},
		{ODS: CustodianWest, Name: "Mercia Hills Integrated Record", Region: "Mercia Hills",
			BaseURL: "https://mercia-hills.shcr.example/fhir", ASID: "900000000104"},
	}
}

// custodianOf returns the seed custodian with this ODS code.
func custodianOf(ods shcrkit.ODSCode) (Custodian, bool) {
	for _, c := range Custodians() {
		if c.ODS == ods {
			return c, true
		}
	}
	return Custodian{}, false
}

// populationHomes lists the NHS numbers of pdstest's seed population, in
// its order, each with the custodian of its home region ("" for numbers
// with no record of their own: superseded, invalidated).
var populationHomes = []struct {
	nhs  shcrkit.NHSNumber
	home shcrkit.ODSCode
}{
	{PatientNormal, CustodianNorth}, {PatientRestricted, CustodianSouth}, {PatientVeryRestricted, CustodianEast},
	{PatientDeceased, CustodianWest}, {PatientSuperseded, ""}, {PatientSurviving, CustodianSouth},
	{PatientInvalidated, ""}, {PatientRedacted, CustodianWest}, {PatientMinimal, CustodianWest},
	{"9490000116", CustodianNorth}, {"9490000124", CustodianEast}, {"9490000132", CustodianWest},
	{"9490000140", CustodianSouth}, {"9490000159", CustodianEast}, {"9490000167", CustodianWest},
	{"9490000175", CustodianNorth},
	// The generated patients, their regions in turn North, South, East,
	// West.
	{"9490000183", CustodianNorth}, {"9490000191", CustodianSouth}, {"9490000205", CustodianEast},
	{"9490000213", CustodianWest}, {"9490000221", CustodianNorth}, {"9490000248", CustodianSouth},
	{"9490000256", CustodianEast}, {"9490000264", CustodianWest}, {"9490000272", CustodianNorth},
	{"9490000280", CustodianSouth}, {"9490000299", CustodianEast}, {"9490000302", CustodianWest},
	{"9490000310", CustodianNorth}, {"9490000329", CustodianSouth}, {"9490000337", CustodianEast},
	{"9490000345", CustodianWest}, {"9490000353", CustodianNorth}, {"9490000361", CustodianSouth},
	{"9490000388", CustodianEast}, {"9490000396", CustodianWest}, {"9490000418", CustodianNorth},
	{"9490000426", CustodianSouth}, {"9490000434", CustodianEast}, {"9490000442", CustodianWest},
	{"9490000450", CustodianNorth}, {"9490000469", CustodianSouth}, {"9490000477", CustodianEast},
	{"9490000485", CustodianWest}, {"9490000493", CustodianNorth}, {"9490000507", CustodianSouth},
	{"9490000515", CustodianEast}, {"9490000523", CustodianWest}, {"9490000531", CustodianNorth},
	{"9490000558", CustodianSouth}, {"9490000566", CustodianEast}, {"9490000574", CustodianWest},
	{"9490000582", CustodianNorth}, {"9490000590", CustodianSouth}, {"9490000604", CustodianEast},
	{"9490000612", CustodianWest}, {"9490000620", CustodianNorth}, {"9490000639", CustodianSouth},
}

// Population returns the NHS numbers of the seed population, the same as
// pdstest's, in the same order. Each call returns a fresh copy.
func Population() []shcrkit.NHSNumber {
	out := make([]shcrkit.NHSNumber, len(populationHomes))
	for i, p := range populationHomes {
		out[i] = p.nhs
	}
	return out
}
