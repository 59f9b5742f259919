package authtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// ErrInvalidJWKS is matched by the error of RegisterJWKS given a key set
// it cannot use.
var ErrInvalidJWKS = errors.New("authtest: invalid JWKS")

// jwk is one JSON Web Key (RFC 7517) of the kinds the platform takes.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
}

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
		Keys []jwk `json:"keys"`
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
		if k.Kid == "" {
			return nil, fmt.Errorf("%w: key %d has no kid", ErrInvalidJWKS, i)
		}
		if k.D != "" {
			return nil, fmt.Errorf("%w: key %q is a private key: publish only the public half", ErrInvalidJWKS, k.Kid)
		}
		if k.Use != "" && k.Use != "sig" {
			return nil, fmt.Errorf("%w: key %q is not for signatures (use %q)", ErrInvalidJWKS, k.Kid, k.Use)
		}
		pub, err := k.public()
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %v", ErrInvalidJWKS, k.Kid, err)
		}
		if _, dup := keys[k.Kid]; dup {
			return nil, fmt.Errorf("%w: kid %q appears twice", ErrInvalidJWKS, k.Kid)
		}
		keys[k.Kid] = pub
		kids = append(kids, k.Kid)
	}
	for _, kid := range kids {
		if err := s.Register(apiKey, kid, keys[kid]); err != nil {
			return nil, err
		}
	}
	return kids, nil
}

func (k jwk) public() (crypto.PublicKey, error) {
	switch k.Kty {
	case "RSA":
		n, err := b64Int(k.N)
		if err != nil {
			return nil, fmt.Errorf("n: %v", err)
		}
		e, err := b64Int(k.E)
		if err != nil {
			return nil, fmt.Errorf("e: %v", err)
		}
		if n.BitLen() < 2048 {
			return nil, fmt.Errorf("an RSA modulus of %d bits is too short (2048 at least)", n.BitLen())
		}
		if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
			return nil, errors.New("unusable RSA exponent")
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, fmt.Errorf("unsupported curve %q", k.Crv)
		}
		size := (curve.Params().BitSize + 7) / 8
		x, errX := base64.RawURLEncoding.DecodeString(k.X)
		y, errY := base64.RawURLEncoding.DecodeString(k.Y)
		if errX != nil || errY != nil || len(x) != size || len(y) != size {
			return nil, fmt.Errorf("x and y must be base64url of %d bytes each", size)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, errors.New("the point is not on the curve")
		}
		return pub, nil
	default:
		return nil, fmt.Errorf("unsupported key type %q (RSA or EC)", k.Kty)
	}
}

func b64Int(s string) (*big.Int, error) {
	if s == "" {
		return nil, errors.New("missing")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not base64url")
	}
	return new(big.Int).SetBytes(b), nil
}
