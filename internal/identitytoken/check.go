package identitytoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
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
	// Verified, when set, remembers the tokens that passed, so that a
	// token presented again (one a consumer reuses within a journey) is
	// not parsed and its signature not verified again: only its times
	// and audience are checked anew. A token that fails those is
	// verified in full, so the answer is the same as without it.
	Verified *Verified
}

// Verified holds tokens that passed Check.Verify with their claims, for
// Check.Verified. It is safe for concurrent use; the zero value is ready.
type Verified struct {
	mu     sync.RWMutex // the many requests of a journey read at once
	tokens map[verifiedKey]Claims
}

// maxVerified bounds the tokens a Verified holds; past it, it starts
// afresh.
const maxVerified = 4096

// verifiedKey is a token with what it was verified against.
type verifiedKey struct {
	token    string
	audience string
	signing  jws.Algorithm
	key      crypto.PublicKey
}

// key returns c's cache key for token, or false when c's key cannot be
// compared (only the public key types Check takes can).
func (c Check) key(token string) (verifiedKey, bool) {
	switch c.Key.(type) {
	case nil, *rsa.PublicKey, *ecdsa.PublicKey:
		return verifiedKey{token: token, audience: c.Audience, signing: c.Signing, key: c.Key}, true
	}
	return verifiedKey{}, false
}

func (v *Verified) get(k verifiedKey) (Claims, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	c, ok := v.tokens[k]
	return c, ok
}

func (v *Verified) put(k verifiedKey, c Claims) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tokens == nil || len(v.tokens) >= maxVerified {
		v.tokens = make(map[verifiedKey]Claims)
	}
	v.tokens[k] = c
}

// Verify parses token and checks its signature (or its absence), aud,
// iat, exp (at most Lifetime after iat) and the presence and shape
// of the GP Connect claims. Every violation is reported at once, joined,
// each matching ErrInvalid; the text never repeats the token.
func (c Check) Verify(token string) (Claims, error) {
	if c.Verified == nil {
		return c.verify(token)
	}
	k, cacheable := c.key(token)
	if !cacheable {
		return c.verify(token)
	}
	if claims, ok := c.Verified.get(k); ok && jwt.NewValidator(c.parserOptions()...).Validate(claims) == nil {
		return claims, nil
	}
	claims, err := c.verify(token)
	if err == nil {
		c.Verified.put(k, claims)
	}
	return claims, err
}

// parserOptions are the checks of the parser and its validator: the
// method, exp required and not passed, iat not in the future, aud.
func (c Check) parserOptions() []jwt.ParserOption {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{string(c.method())}),
		jwt.WithTimeFunc(now),
		jwt.WithLeeway(c.Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	}
	if c.Audience != "" {
		opts = append(opts, jwt.WithAudience(c.Audience))
	}
	return opts
}

// method is the method tokens must use.
func (c Check) method() jws.Algorithm {
	if c.Signing == "" {
		return jws.None
	}
	return c.Signing
}

// verify is Verify without Verified.
func (c Check) verify(token string) (Claims, error) {
	method := c.method()
	var claims Claims
	_, err := jwt.NewParser(c.parserOptions()...).ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
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
	switch {
	case c.IssuedAt == 0:
		out = append(out, "iat is missing")
	case c.IssuedAt < 0:
		out = append(out, "iat is before 1970")
	case c.ExpiresAt != 0 && c.ExpiresAt-c.IssuedAt > int64(Lifetime/time.Second):
		// iat > 0 here, so the difference cannot overflow into a
		// lifetime that looks short.
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
	} else if ods := org.IdentifierValue(codesystem.ODS); !shcrkit.ODSCode(ods).Valid() {
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
	if c.RequestingRole != nil {
		out = append(out, c.RequestingRole.problems()...)
	}
	return out
}

// problems checks a requesting_role claim. The national token (GP
// Connect's) has no such claim, so none is required; but a provider
// decides with the role it states, so a role that is there must be in the
// national formats: a role code Sxxxx:Gxxxx:Rxxxx (or a bare job role
// Rxxxx) and activity codes Bxxxx.
func (r *Role) problems() []string {
	var out []string
	parts := strings.Split(r.Code, ":")
	var ok bool
	switch len(parts) {
	case 1:
		ok = nationalCode(parts[0], 'R')
	case 3:
		ok = nationalCode(parts[0], 'S') && nationalCode(parts[1], 'G') && nationalCode(parts[2], 'R')
	}
	if !ok {
		out = append(out, "requesting_role.code is not a national role code (Sxxxx:Gxxxx:Rxxxx or Rxxxx)")
	}
	for _, a := range r.Activities {
		if !nationalCode(a, 'B') {
			out = append(out, "requesting_role.activities holds a code that is not an activity code (Bxxxx)")
			break
		}
	}
	if len(r.Name) > maxRoleName {
		out = append(out, "requesting_role.name is longer than "+strconv.Itoa(maxRoleName)+" characters")
	}
	return out
}

// maxRoleName bounds a role's display name, which goes into the
// provider's audit trail.
const maxRoleName = 200

// nationalCode reports whether s is a national RBAC code: the letter,
// then one to seven digits (today's codes have four; older ones vary).
func nationalCode(s string, letter byte) bool {
	if len(s) < 2 || len(s) > 8 || s[0] != letter {
		return false
	}
	return strings.Trim(s[1:], "0123456789") == ""
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
