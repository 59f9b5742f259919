// Package jws is the SDK's one JWS signer: client assertions (auth) and
// identity tokens (shcr) are both signed here, on golang-jwt, with one
// algorithm type.
package jws

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"reflect"

	// The hash implementations are registered by import: crypto.Hash.New
	// panics for an unregistered hash.
	_ "crypto/sha256"
	_ "crypto/sha512"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithm names a JWS algorithm ("alg").
type Algorithm string

// The supported algorithms. None makes an unsigned token (GP Connect's
// identity tokens); it is never a valid algorithm for a client assertion.
const (
	None  Algorithm = "none"
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
	RS384 Algorithm = "RS384" // RSASSA-PKCS1-v1_5 with SHA-384
	RS512 Algorithm = "RS512" // RSASSA-PKCS1-v1_5 with SHA-512
	ES256 Algorithm = "ES256" // ECDSA on P-256 with SHA-256
	ES384 Algorithm = "ES384" // ECDSA on P-384 with SHA-384
	ES512 Algorithm = "ES512" // ECDSA on P-521 with SHA-512
)

// MinRSABits is the smallest RSA modulus accepted for signing.
const MinRSABits = 2048

func (a Algorithm) hash() crypto.Hash {
	switch a {
	case RS256, ES256:
		return crypto.SHA256
	case RS384, ES384:
		return crypto.SHA384
	case RS512, ES512:
		return crypto.SHA512
	}
	return 0
}

func (a Algorithm) curve() elliptic.Curve {
	switch a {
	case ES256:
		return elliptic.P256()
	case ES384:
		return elliptic.P384()
	case ES512:
		return elliptic.P521()
	}
	return nil
}

func (a Algorithm) isRSA() bool { return a == RS256 || a == RS384 || a == RS512 }

// Valid reports whether a is one of the supported signing algorithms
// (None is not one).
func (a Algorithm) Valid() bool { return a.hash() != 0 }

// CheckKey reports whether pub can verify signatures made with a: an RSA
// key of MinRSABits or more for the RS algorithms, an ECDSA key on the
// matching curve for the ES ones.
func (a Algorithm) CheckKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return errors.New("the RSA key has no modulus")
		}
		if c := a.curve(); c != nil {
			return fmt.Errorf("algorithm %s needs an EC key on curve %s, got an RSA key", a, c.Params().Name)
		}
		if !a.isRSA() {
			return fmt.Errorf("algorithm %q takes no key", string(a))
		}
		if k.N.BitLen() < MinRSABits {
			return fmt.Errorf("RSA key has %d bits, at least %d are needed", k.N.BitLen(), MinRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		//lint:ignore SA1019 the coordinates are only looked at to see they are set: Bytes dereferences them and panics when they are not.
		if k == nil || k.Curve == nil || k.X == nil || k.Y == nil {
			return errors.New("the EC key has no curve or point")
		}
		c := a.curve()
		if c == nil {
			return fmt.Errorf("algorithm %s needs an RSA key, got an EC key", a)
		}
		if k.Curve != c {
			return fmt.Errorf("algorithm %s needs a key on curve %s, got %s", a, c.Params().Name, k.Curve.Params().Name)
		}
		return nil
	case nil:
		return errors.New("no public key")
	default:
		return fmt.Errorf("unsupported key type %T", pub)
	}
}

// CheckSigner reports whether key can sign with a: CheckKey of its
// public key, for a key that is there at all. A nil key, a nil pointer in
// the interface and a zero *rsa.PrivateKey or *ecdsa.PrivateKey are
// refused rather than left to panic (Public dereferences the pointer,
// CheckKey the modulus or curve, and ECDSA signing a missing private
// scalar).
func (a Algorithm) CheckSigner(key crypto.Signer) error {
	if key == nil {
		return errors.New("no key")
	}
	if v := reflect.ValueOf(key); v.Kind() == reflect.Pointer && v.IsNil() {
		return errors.New("no key (a nil pointer)")
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.D == nil || k.N == nil {
			return errors.New("the RSA key has no private part")
		}
	case *ecdsa.PrivateKey:
		//lint:ignore SA1019 the scalar is only looked at to see it is set: Bytes and signing dereference it and panic when it is not.
		if k.D == nil || k.Curve == nil {
			return errors.New("the EC key has no private part")
		}
	}
	return a.CheckKey(key.Public())
}

// Sign returns the compact serialisation of a JWT with claims, signed by
// key with alg (or unsigned, with alg None and a nil key). header adds to
// the JOSE header (kid, typ); alg is always alg. golang-jwt's own methods
// sign with an *rsa.PrivateKey or *ecdsa.PrivateKey; any other
// crypto.Signer (a key in a hardware module) signs through the same
// golang-jwt token with an adapter method.
func Sign(alg Algorithm, key crypto.Signer, header map[string]any, claims jwt.Claims) (string, error) {
	var (
		m       jwt.SigningMethod
		signKey any = key
	)
	switch {
	case alg == None:
		if key != nil {
			return "", errors.New("an unsigned token takes no key")
		}
		m, signKey = jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType
	case !alg.Valid():
		return "", fmt.Errorf("unsupported algorithm %q", string(alg))
	case key == nil:
		return "", fmt.Errorf("%s needs a key", alg)
	default:
		if err := alg.CheckSigner(key); err != nil {
			return "", err
		}
		m = methodFor(alg, key)
	}
	t := jwt.NewWithClaims(m, claims)
	for k, v := range header {
		if k != "alg" {
			t.Header[k] = v
		}
	}
	s, err := t.SignedString(signKey)
	if err != nil {
		return "", fmt.Errorf("signing with %s: %w", alg, err)
	}
	return s, nil
}

// methodFor picks golang-jwt's method for the concrete key types, and the
// crypto.Signer adapter for any other.
func methodFor(alg Algorithm, key crypto.Signer) jwt.SigningMethod {
	switch key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
		return jwt.GetSigningMethod(string(alg))
	}
	return &signerMethod{alg: alg}
}

// signerMethod is a jwt.SigningMethod over any crypto.Signer.
type signerMethod struct{ alg Algorithm }

func (m *signerMethod) Alg() string { return string(m.alg) }

func (m *signerMethod) Verify(string, []byte, any) error {
	return errors.New("jws: the crypto.Signer method only signs")
}

func (m *signerMethod) Sign(signingString string, key any) ([]byte, error) {
	s, ok := key.(crypto.Signer)
	if !ok || s == nil {
		return nil, errors.New("key is not a crypto.Signer")
	}
	hf := m.alg.hash()
	h := hf.New()
	h.Write([]byte(signingString))
	sig, err := s.Sign(rand.Reader, h.Sum(nil), hf)
	if err != nil {
		return nil, err
	}
	if c := m.alg.curve(); c != nil {
		// crypto.Signer gives ECDSA signatures in ASN.1; JWS wants the
		// fixed-size concatenation of r and s (RFC 7518 section 3.4).
		return ecdsaRaw(sig, (c.Params().BitSize+7)/8)
	}
	return sig, nil
}

func ecdsaRaw(der []byte, size int) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &rs)
	if err != nil || len(rest) != 0 || rs.R == nil || rs.S == nil {
		return nil, errors.New("signer returned a malformed ECDSA signature")
	}
	if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 || rs.R.BitLen() > size*8 || rs.S.BitLen() > size*8 {
		return nil, errors.New("signer returned an ECDSA signature out of range")
	}
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}
