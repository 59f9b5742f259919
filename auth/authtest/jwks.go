package authtest

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/shcrkit/shcrkit/internal/jwk"
)

// ErrInvalidJWKS is matched by the error of RegisterJWKS given a key set
// it cannot use.
var ErrInvalidJWKS = errors.New("authtest: invalid JWKS")

// RegisterJWKS registers every public key of a JSON Web Key Set
// ({"keys":[...]}, as an application publishes it at its JWKS URL) for the
// application apiKey, each under its kid, and returns the kids. RSA keys
// and EC keys on P-256, P-384 and P-521 are taken; a key set with a
// private key, a key without kid, or a key of another kind is refused
// whole with an error matching ErrInvalidJWKS.
func (s *Server) RegisterJWKS(apiKey string, jwks []byte) ([]string, error) {
	if apiKey == "" {
		return nil, fmt.Errorf("%w: an API key is needed", ErrInvalidJWKS)
	}
	var set struct {
		Keys []jwk.Key `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, fmt.Errorf("%w: not a JSON key set", ErrInvalidJWKS)
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidJWKS)
	}
	keys := make(map[string]crypto.PublicKey, len(set.Keys))
	var kids []string
	for i, k := range set.Keys {
		if k.KeyID == "" {
			return nil, fmt.Errorf("%w: key %d has no kid", ErrInvalidJWKS, i)
		}
		if k.D != "" {
			return nil, fmt.Errorf("%w: key %q is a private key: publish only the public half", ErrInvalidJWKS, k.KeyID)
		}
		if !k.ForSignatures() {
			return nil, fmt.Errorf("%w: key %q is not for signatures (use %q)", ErrInvalidJWKS, k.KeyID, k.Use)
		}
		pub, err := k.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %v", ErrInvalidJWKS, k.KeyID, err)
		}
		if _, dup := keys[k.KeyID]; dup {
			return nil, fmt.Errorf("%w: kid %q appears twice", ErrInvalidJWKS, k.KeyID)
		}
		keys[k.KeyID] = pub
		kids = append(kids, k.KeyID)
	}
	for _, kid := range kids {
		if err := s.Register(apiKey, kid, keys[kid]); err != nil {
			return nil, err
		}
	}
	return kids, nil
}
