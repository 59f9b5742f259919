package shcr

import (
	"crypto"

	"github.com/shcrkit/shcrkit/auth"
)

// Identity says how identity tokens are made for one endpoint. The token
// is a JWT in the GP Connect shape, made afresh for each request (or each
// journey, with Endpoint.ReuseIdentity): iss, sub, aud, iat, exp = iat +
// 5 minutes, jti, reason_for_request "directcare", requested_scope
// "patient/*.read conf/N" (or conf/R for restricted data),
// purpose_of_use, requesting_device, requesting_organization,
// requesting_practitioner and, when the requester has a role code,
// requesting_role.
type Identity struct {
	// Signing is the JWS algorithm of the tokens: auth.RS256 (what
	// regional ShCRs usually want), any other auth.Algorithm, or ""
	// (also "none") for unsigned tokens, as GP Connect sends them.
	Signing auth.Algorithm
	// Key signs the tokens: an RSA key (2048 bits or more) for the RS
	// algorithms, an ECDSA key on the algorithm's curve for the ES ones.
	// Any crypto.Signer will do, so the key may live in a hardware module.
	Key crypto.Signer
	// KeyID is sent as the kid header, when set.
	KeyID string
	// Header is the HTTP header the token travels in when the
	// Authorization header carries an OAuth2 access token; "" means
	// X-Identity-Token.
	Header string
}
