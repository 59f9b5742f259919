package identitytoken

import (
	"crypto"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/jws"
)

// Check is what a provider checks of an identity token: shcr/provider's
// Guard and the fake remote ShCRs use it.
type Check struct {
	// Audience is the aud the token must carry: the provider's service
	// root.
	Audience string
	// Signing is the method the token must use; "" means unsigned.
	Signing jws.Algorithm
	// Key verifies signed tokens: an *rsa.PublicKey or *ecdsa.PublicKey.
	Key crypto.PublicKey
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Leeway allows for clock skew when checking iat and exp.
	Leeway time.Duration
}

// Verify parses token and checks its signature (or its absence), aud,
// iat, exp (at most Lifetime after iat) and the presence and shape
// of the GP Connect claims. Every violation is reported at once, joined,
// each matching ErrInvalid; the text never repeats the token.
func (c Check) Verify(token string) (Claims, error) {
	method := c.Signing
	if method == "" {
		method = jws.None
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{string(method)}),
		jwt.WithTimeFunc(now),
		jwt.WithLeeway(c.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	}
	if c.Audience != "" {
		opts = append(opts, jwt.WithAudience(c.Audience))
	}
	var claims Claims
	_, err := jwt.NewParser(opts...).ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		if method == jws.None {
			return jwt.UnsafeAllowNoneSignatureType, nil
		}
		if c.Key == nil {
			return nil, errors.New("no verification key configured")
		}
		return c.Key, nil
	})
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...))
	}
	if err != nil {
		bad("%s", describeJWTError(err))
		if errors.Is(err, jwt.ErrTokenMalformed) || errors.Is(err, jwt.ErrTokenSignatureInvalid) ||
			errors.Is(err, jwt.ErrTokenUnverifiable) {
			return Claims{}, errors.Join(errs...)
		}
	}
	for _, p := range claims.problems() {
		bad("%s", p)
	}
	if len(errs) > 0 {
		return claims, errors.Join(errs...)
	}
	return claims, nil
}

// problems lists what is missing or malformed in the claims themselves.
func (c Claims) problems() []string {
	var out []string
	if c.Issuer == "" {
		out = append(out, "iss is missing")
	}
	if c.Subject == "" {
		out = append(out, "sub is missing")
	}
	if c.Audience == "" {
		out = append(out, "aud is missing")
	}
	if c.IssuedAt == 0 {
		out = append(out, "iat is missing")
	}
	if c.IssuedAt != 0 && c.ExpiresAt != 0 && c.ExpiresAt-c.IssuedAt > int64(Lifetime/time.Second) {
		out = append(out, "exp is more than 5 minutes after iat")
	}
	if c.ReasonForRequest != "directcare" {
		out = append(out, "reason_for_request must be directcare")
	}
	if c.RequestedScope != ScopeNormal && c.RequestedScope != ScopeRestricted && c.RequestedScope != "patient/*.read" {
		out = append(out, "requested_scope must be patient/*.read with conf/N or conf/R")
	}
	if c.RequestingDevice.ResourceType != "Device" {
		out = append(out, "requesting_device must be a Device")
	} else if c.RequestingDevice.Model == "" && len(c.RequestingDevice.Identifier) == 0 {
		out = append(out, "requesting_device names no system")
	}
	org := c.RequestingOrganization
	if org.ResourceType != "Organization" {
		out = append(out, "requesting_organization must be an Organization")
	} else if ods := org.IdentifierValue(shcrkit.ODSSystem); !shcrkit.ODSCode(ods).Valid() {
		out = append(out, "requesting_organization has no valid ODS code")
	}
	p := c.RequestingPractitioner
	switch {
	case p.ResourceType != "Practitioner":
		out = append(out, "requesting_practitioner must be a Practitioner")
	case p.IdentifierValue(SDSUserIDSystem) == "":
		out = append(out, "requesting_practitioner has no SDS user ID")
	case p.IdentifierValue(SDSRoleProfileIDSystem) == "":
		out = append(out, "requesting_practitioner has no SDS role profile ID")
	case c.Subject != "" && p.ID != c.Subject:
		out = append(out, "sub differs from requesting_practitioner.id")
	}
	return out
}

// describeJWTError says what golang-jwt found wrong, without the token.
func describeJWTError(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "token is malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "signature is invalid or the signing method is not the expected one"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "token cannot be verified"
	}
	var parts []string
	if errors.Is(err, jwt.ErrTokenExpired) {
		parts = append(parts, "token has expired")
	}
	if errors.Is(err, jwt.ErrTokenRequiredClaimMissing) {
		parts = append(parts, "exp is missing")
	}
	if errors.Is(err, jwt.ErrTokenUsedBeforeIssued) {
		parts = append(parts, "iat is in the future")
	}
	if errors.Is(err, jwt.ErrTokenInvalidAudience) {
		parts = append(parts, "aud is not this provider")
	}
	if errors.Is(err, jwt.ErrTokenInvalidClaims) && len(parts) == 0 {
		parts = append(parts, "claims are invalid")
	}
	if len(parts) == 0 {
		return "token is invalid"
	}
	return strings.Join(parts, ", ")
}
