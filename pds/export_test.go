package pds

// ValidateSearch checks q as a healthcare worker's client does before
// sending it.
func ValidateSearch(q *SearchQuery) error { return q.validate(AccessHealthcareWorker) }

// ValidatePatch checks ops as Update does before sending them.
func ValidatePatch(ops ...PatchOp) error { return validatePatch(ops...) }
