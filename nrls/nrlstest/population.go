package nrlstest

import (
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/synthetic"
)

// The seed data covers the synthetic population of the PDS fake (package
// pdstest, whose PatientNormal and other well-known patients name it):
// the same NHS numbers, the same regions, each region's shared care record
// the custodian of its patients' pointers. Both fakes read the one
// population; neither keeps a copy.

// Custodians: the shared care records of the population's regions, the
// same ODS codes as the HomeShCR of pdstest's people.
const (
	// CustodianNorth is the North Riding Care Record.
	CustodianNorth = synthetic.ShCRNorth
	// CustodianSouth is the Wessex Vale Shared Record.
	CustodianSouth = synthetic.ShCRSouth
	// CustodianEast is the Fenland Coast Care Record.
	CustodianEast = synthetic.ShCREast
	// CustodianWest is the Mercia Hills Integrated Record.
	CustodianWest = synthetic.ShCRWest
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
	// (see Server.Rebase): a placeholder under the reserved .example
	// domain. A pointer's URL is BaseURL followed by
	// "/records/<pointer ID>" (ssp:// instead of https:// for one
	// retrieved through the Spine Secure Proxy).
	BaseURL string
	// ASID is the 12-digit ASID of its system, the Ssp-To of its SSP
	// pointers.
	ASID string
}

// Custodians returns the seed custodians. Each call returns a fresh copy.
func Custodians() []Custodian {
	var out []Custodian
	for _, r := range synthetic.Regions() {
		out = append(out, Custodian{ODS: r.ShCR, Name: r.ShCRName, Region: r.Name, BaseURL: r.ShCRBaseURL, ASID: r.ShCRASID})
	}
	return out
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
