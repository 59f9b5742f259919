package shcr

import "github.com/shcrkit/shcrkit/shcr/internal/lrverify"

// RegisteredGP is the verifier of registered relationships that
// StandardVerifiers chains, for tests of it on its own.
func RegisteredGP(sites SiteLister) RelationshipVerifier {
	return fromInternal(lrverify.RegisteredGP(sites))
}

// ClaimedRelationships is the verifier of self-claimed and emergency
// relationships that StandardVerifiers chains.
func ClaimedRelationships() RelationshipVerifier {
	return fromInternal(lrverify.ClaimedRelationships())
}

// EvidenceVerifier is the verifier of referral, encounter and care-team
// relationships that StandardVerifiers chains.
func EvidenceVerifier(lookup EvidenceLookup, sites SiteLister) RelationshipVerifier {
	var l lrverify.Lookup
	if lookup != nil {
		l = evidenceAdapter{lookup}
	}
	return fromInternal(lrverify.EvidenceVerifier(l, sites))
}

// The names of the verifiers in a Verification.
const (
	VerifierRegistered = "registered"
	VerifierClaimed    = "claimed"
)

// RelationshipVerifierFunc adapts a function to RelationshipVerifier.
type RelationshipVerifierFunc = verifierFunc
