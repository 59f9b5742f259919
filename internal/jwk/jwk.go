// Package jwk reads JSON Web Keys (RFC 7517) as far as verifying
// signatures needs them: RSA keys of 2048 bits or more and EC keys on
// P-256, P-384 and P-521.
package jwk

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
)

// Key is one key of a JSON Web Key Set.
type Key struct {
	KeyType   string `json:"kty"`
	KeyID     string `json:"kid"`
	Use       string `json:"use,omitempty"`
	Algorithm string `json:"alg,omitempty"`
	// RSA.
	N string `json:"n,omitempty"`
	E string `json:"e,omitempty"`
	// EC.
	Curve string `json:"crv,omitempty"`
	X     string `json:"x,omitempty"`
	Y     string `json:"y,omitempty"`
	// D is the private part of either kind of key, which a published key
	// set must not carry.
	D string `json:"d,omitempty"`
}

// ForSignatures reports whether the key may verify signatures: its use
// is "sig" or not stated.
func (k Key) ForSignatures() bool { return k.Use == "" || k.Use == "sig" }

// PublicKey decodes the key. An RSA key must have a modulus of 2048 bits
// or more and an odd exponent from 3 to 2³¹-1; an EC key's point must be
// on its curve.
func (k Key) PublicKey() (crypto.PublicKey, error) {
	switch k.KeyType {
	case "RSA":
		return rsaKey(k.N, k.E)
	case "EC":
		return ecKey(k.Curve, k.X, k.Y)
	}
	return nil, fmt.Errorf("unsupported key type %q (RSA or EC)", k.KeyType)
}

func rsaKey(n64, e64 string) (*rsa.PublicKey, error) {
	nb, errN := base64.RawURLEncoding.DecodeString(n64)
	eb, errE := base64.RawURLEncoding.DecodeString(e64)
	if errN != nil || errE != nil || len(nb) == 0 || len(eb) == 0 {
		return nil, errors.New("n and e must be unpadded base64url")
	}
	n, e := new(big.Int).SetBytes(nb), new(big.Int).SetBytes(eb)
	if n.BitLen() < 2048 {
		return nil, fmt.Errorf("an RSA modulus of %d bits is too short (2048 at least)", n.BitLen())
	}
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
		return nil, errors.New("unusable RSA exponent")
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

func ecKey(crv, x64, y64 string) (*ecdsa.PublicKey, error) {
	var curve elliptic.Curve
	switch crv {
	case "P-256":
		curve = elliptic.P256()
	case "P-384":
		curve = elliptic.P384()
	case "P-521":
		curve = elliptic.P521()
	default:
		return nil, fmt.Errorf("unsupported curve %q", crv)
	}
	size := (curve.Params().BitSize + 7) / 8
	x, errX := base64.RawURLEncoding.DecodeString(x64)
	y, errY := base64.RawURLEncoding.DecodeString(y64)
	if errX != nil || errY != nil || len(x) != size || len(y) != size {
		return nil, fmt.Errorf("x and y must be base64url of %d bytes each", size)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
	if err != nil {
		return nil, errors.New("the point is not on the curve")
	}
	return pub, nil
}
