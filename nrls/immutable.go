package nrls

import (
	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/shcrkit/shcrkit/nrls/internal/immutable"
)

// checkImmutable reports, as a *ValidationError naming each field, every
// change from orig to updated of a field the service does not let an
// update change: masterIdentifier, id, identifier, status, type, subject,
// custodian, relatesTo and author.
func checkImmutable(orig immutable.Snapshot, updated *fhir.DocumentReference) error {
	var v ValidationError
	for _, name := range immutable.Changed(orig, updated) {
		v.add(name, "is immutable and cannot be changed by an update")
	}
	return v.err()
}
