package shcr

// The verifiers StandardVerifiers chains, for tests of each on its own.
var (
	RegisteredGP         = registeredGP
	ClaimedRelationships = claimedRelationships
	EvidenceVerifier     = evidenceVerifier
)

// The names of the verifiers in a Verification.
const (
	VerifierRegistered = "registered"
	VerifierClaimed    = "claimed"
)

// RelationshipVerifierFunc adapts a function to RelationshipVerifier.
type RelationshipVerifierFunc = verifierFunc
