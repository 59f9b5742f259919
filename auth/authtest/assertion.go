package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// authenticateAssertion checks the client assertion of form and returns
// the API key it authenticates, in the order the platform makes its
// checks.
func (s *Server) authenticateAssertion(form url.Values, rec *Request, now time.Time) (string, *oauthError) {
	a, oe := s.readAssertion(form, rec)
	if oe != nil {
		return "", oe
	}
	if oe := s.verifyAssertion(a); oe != nil {
		return "", oe
	}
	jti, expiry, oe := s.checkAssertionClaims(a, rec, now)
	if oe != nil {
		return "", oe
	}
	if oe := s.useJTI(a.iss, jti, expiry, now); oe != nil {
		return "", oe
	}
	return a.iss, nil
}

// assertion is a client assertion read but not yet verified.
type assertion struct {
	raw           string
	claims        jwt.MapClaims
	kid, alg, iss string
}

// readAssertion reads the client assertion of form and checks its type,
// its headers and that its iss and sub claims agree.
func (s *Server) readAssertion(form url.Values, rec *Request) (assertion, *oauthError) {
	if form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return assertion{}, badRequest("missing or invalid client_assertion_type: must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	}
	raw := form.Get("client_assertion")
	if raw == "" {
		return assertion{}, badRequest("client_assertion is missing")
	}
	claims := jwt.MapClaims{}
	unverified, _, err := jwt.NewParser(jwt.WithJSONNumber()).ParseUnverified(raw, claims)
	if err != nil {
		return assertion{}, badRequest("client_assertion is not a well-formed JWT")
	}
	kid, _ := unverified.Header["kid"].(string)
	alg, _ := unverified.Header["alg"].(string)
	rec.KeyID, rec.Algorithm = kid, alg
	if kid == "" {
		return assertion{}, badRequest("client_assertion has no 'kid' header")
	}
	if !s.cfg.algs[alg] {
		return assertion{}, badRequest("client_assertion 'alg' header " + quote(alg) + " is not accepted: must be " + s.algList())
	}
	if typ, _ := unverified.Header["typ"].(string); typ != "JWT" {
		return assertion{}, badRequest("client_assertion 'typ' header must be 'JWT'")
	}
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	rec.APIKey = iss
	if iss == "" || iss != sub {
		return assertion{}, badRequest("client_assertion 'iss' and 'sub' claims are missing or differ")
	}
	return assertion{raw: raw, claims: claims, kid: kid, alg: alg, iss: iss}, nil
}

// verifyAssertion finds the registered application and public key the
// assertion names and verifies its signature with the key.
func (s *Server) verifyAssertion(a assertion) *oauthError {
	s.mu.Lock()
	var pub crypto.PublicKey
	c := s.clients[a.iss]
	if c != nil {
		pub = c.keys[a.kid]
	}
	s.mu.Unlock()
	if c == nil {
		return unauthorized("client_assertion 'iss'/'sub' claims name no registered application")
	}
	if pub == nil {
		return unauthorized("client_assertion 'kid' header names no registered public key")
	}
	if !keyFits(a.alg, pub) {
		return unauthorized("client_assertion 'alg' header does not fit the registered public key")
	}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{a.alg}), jwt.WithoutClaimsValidation(), jwt.WithJSONNumber()).
		Parse(a.raw, func(*jwt.Token) (any, error) { return pub, nil })
	if err != nil {
		return unauthorized("client_assertion signature does not verify with the registered public key")
	}
	return nil
}

// checkAssertionClaims checks the jti, aud and exp claims of a verified
// assertion, and returns its jti and expiry.
func (s *Server) checkAssertionClaims(a assertion, rec *Request, now time.Time) (string, time.Time, *oauthError) {
	claims := a.claims
	jti, isString := claims["jti"].(string)
	if _, present := claims["jti"]; !present {
		return "", time.Time{}, badRequest("client_assertion has no 'jti' claim")
	}
	if !isString || jti == "" {
		return "", time.Time{}, badRequest("client_assertion 'jti' claim must be a non-empty unique string, such as a UUID")
	}
	rec.JTI = jti
	if !audienceIs(claims["aud"], s.TokenURL()) && (rec.calledURL == "" || !audienceIs(claims["aud"], rec.calledURL)) {
		return "", time.Time{}, unauthorized("client_assertion 'aud' claim is missing or is not the token URL")
	}
	expRaw, present := claims["exp"]
	if !present {
		return "", time.Time{}, badRequest("client_assertion has no 'exp' claim")
	}
	expNum, ok := expRaw.(json.Number)
	if !ok {
		return "", time.Time{}, badRequest("client_assertion 'exp' claim must be an integer")
	}
	exp, err := expNum.Int64()
	if err != nil {
		return "", time.Time{}, badRequest("client_assertion 'exp' claim must be an integer")
	}
	expiry := time.Unix(exp, 0)
	switch {
	case !now.Before(expiry):
		return "", time.Time{}, badRequest("client_assertion has expired")
	case expiry.After(now.Add(maxAssertionLifetime)):
		return "", time.Time{}, badRequest("client_assertion 'exp' claim is more than 5 minutes in the future")
	}
	return jti, expiry, nil
}

// useJTI refuses a jti the application has used before, and remembers it
// until expiry.
func (s *Server) useJTI(iss, jti string, expiry, now time.Time) *oauthError {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.jtis {
		if !now.Before(e) {
			// An expired assertion is refused anyway: its jti can go.
			delete(s.jtis, k)
		}
	}
	key := iss + "\x00" + jti
	if _, seen := s.jtis[key]; seen {
		return badRequest("client_assertion 'jti' claim has been used before")
	}
	s.jtis[key] = expiry
	return nil
}

// checkSubjectToken checks an ID token's shape, iss, aud and exp, then the
// verifier of WithIDTokenVerifier, and returns its sub.
func (s *Server) checkSubjectToken(token string, now time.Time) (string, *oauthError) {
	if token == "" {
		return "", badRequest("subject_token is missing")
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser(jwt.WithJSONNumber()).ParseUnverified(token, claims); err != nil {
		return "", badRequest("subject_token is not a well-formed JWT")
	}
	if iss, _ := claims["iss"].(string); iss == "" {
		return "", badRequest("subject_token has no 'iss' claim")
	}
	if claims["aud"] == nil {
		return "", badRequest("subject_token has no 'aud' claim")
	}
	expNum, ok := claims["exp"].(json.Number)
	if !ok {
		return "", badRequest("subject_token has no integer 'exp' claim")
	}
	exp, err := expNum.Int64()
	if err != nil {
		return "", badRequest("subject_token has no integer 'exp' claim")
	}
	if !now.Before(time.Unix(exp, 0)) {
		return "", &oauthError{status: http.StatusBadRequest, code: "invalid_grant", descr: "subject_token has expired"}
	}
	if s.cfg.idTokenCheck != nil {
		if err := s.cfg.idTokenCheck(token); err != nil {
			return "", &oauthError{status: http.StatusBadRequest, code: "invalid_grant", descr: "subject_token was refused"}
		}
	}
	sub, _ := claims["sub"].(string)
	return sub, nil
}

func audienceIs(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, v := range a {
			if v == want {
				return true
			}
		}
	}
	return false
}

func keyFits(alg string, pub crypto.PublicKey) bool {
	switch pub.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS")
	case *ecdsa.PublicKey:
		return strings.HasPrefix(alg, "ES")
	}
	return false
}

func (s *Server) algList() string {
	var out []string
	for _, a := range []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"} {
		if s.cfg.algs[a] {
			out = append(out, "'"+a+"'")
		}
	}
	return strings.Join(out, " or ")
}

func quote(s string) string {
	if len(s) > 20 {
		s = s[:20] + "..."
	}
	return "'" + s + "'"
}
