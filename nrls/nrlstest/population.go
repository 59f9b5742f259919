package nrlstest

import (
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/synthetic"
)

// The seed data covers the synthetic population of the PDS fake (package
// pdstest, whose Patients name its well-known patients):
// the same NHS numbers, the same regions, each region's shared care record
// the custodian of its patients' pointers. Both fakes read the one
// population; neither keeps a copy.

// Custodians: the shared care records of the population's regions, the
// same ODS codes as the HomeShCR of pdstest's people. Each has a 12-digit
// ASID (the Ssp-To of its SSP pointers, as the pointers carry it), and its
// seed pointers lead to a placeholder base URL under the reserved
// .example domain, https://<name>.example, until Server.Rebase points
// them elsewhere.
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

// custodianOf returns the region whose shared care record has this ODS
// code: its name, ASID and the placeholder base URL of its seed pointers.
func custodianOf(ods shcrkit.ODSCode) (synthetic.Region, bool) {
	for _, r := range synthetic.Regions() {
		if r.ShCR == ods {
			return r, true
		}
	}
	return synthetic.Region{}, false
}
