package shcr

import (
	"crypto"
	"errors"
	"fmt"
	"net/textproto"
	"strings"

	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/internal/jws"
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

func (id Identity) method() auth.Algorithm {
	if id.Signing == "" {
		return jws.None
	}
	return id.Signing
}

func (id Identity) check() error {
	if id.Header != "" && (strings.ContainsAny(id.Header, " \r\n:") ||
		strings.EqualFold(textproto.CanonicalMIMEHeaderKey(id.Header), "Authorization")) {
		return fmt.Errorf("identity header %q is not a usable header name", id.Header)
	}
	m := id.method()
	switch {
	case m == jws.None:
		if id.Key != nil {
			return errors.New("an unsigned identity token takes no key")
		}
		return nil
	case !m.Valid():
		return fmt.Errorf("unknown signing method %q (want none, RS256, RS384, RS512, ES256, ES384 or ES512)", string(id.Signing))
	case id.Key == nil:
		return fmt.Errorf("%s identity tokens need a key", m)
	}
	if err := m.CheckKey(id.Key.Public()); err != nil {
		return fmt.Errorf("%s identity tokens: %w", m, err)
	}
	return nil
}

func (id Identity) header() string {
	if id.Header == "" {
		return identitytoken.DefaultHeader
	}
	return id.Header
}

// sign encodes the claims as a JWT in the way id says.
func (id Identity) sign(c identitytoken.Claims) (string, error) {
	return identitytoken.Sign(id.method(), id.Key, id.KeyID, c)
}
