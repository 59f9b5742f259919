package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	// The hash implementations are registered by import: crypto.Hash.New
	// panics for an unregistered hash.
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// Algorithm names the JWS algorithm that signs a client assertion.
type Algorithm string

// The supported algorithms. The NHS API platform accepts only RS512;
// remote shared care records commonly ask for RS256 or ES256.
const (
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
	RS384 Algorithm = "RS384" // RSASSA-PKCS1-v1_5 with SHA-384
	RS512 Algorithm = "RS512" // RSASSA-PKCS1-v1_5 with SHA-512
	ES256 Algorithm = "ES256" // ECDSA on P-256 with SHA-256
	ES384 Algorithm = "ES384" // ECDSA on P-384 with SHA-384
	ES512 Algorithm = "ES512" // ECDSA on P-521 with SHA-512
)

// minRSABits is the smallest RSA modulus accepted for signing. The NHS API
// platform asks for 4096-bit keys; anything below 2048 bits is unsafe.
const minRSABits = 2048

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

// Valid reports whether a is one of the supported algorithms.
func (a Algorithm) Valid() bool { return a.hash() != 0 }

// checkKey reports whether pub can verify signatures made with a.
func (a Algorithm) checkKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if !a.isRSA() {
			return fmt.Errorf("algorithm %s needs an EC key, got an RSA key", a)
		}
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key has %d bits, at least %d are needed", k.N.BitLen(), minRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
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

// signJWS returns the compact serialisation of a JWS over the JSON
// encodings of header and claims, signed by key with alg. The key is used
// only through crypto.Signer, so keys held in a hardware module work too.
func signJWS(alg Algorithm, key crypto.Signer, header, claims any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("auth: encoding JWT header: %w", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("auth: encoding JWT claims: %w", err)
	}
	enc := base64.RawURLEncoding
	input := make([]byte, 0, enc.EncodedLen(len(h))+enc.EncodedLen(len(c))+1)
	input = enc.AppendEncode(input, h)
	input = append(input, '.')
	input = enc.AppendEncode(input, c)

	hf := alg.hash()
	if hf == 0 {
		return "", fmt.Errorf("auth: unsupported algorithm %q", alg)
	}
	d := hf.New()
	d.Write(input)
	sig, err := key.Sign(rand.Reader, d.Sum(nil), hf)
	if err != nil {
		return "", fmt.Errorf("auth: signing JWT with %s: %w", alg, err)
	}
	if c := alg.curve(); c != nil {
		// crypto.Signer gives ECDSA signatures in ASN.1; JWS wants the
		// fixed-size concatenation of r and s (RFC 7518 section 3.4).
		if sig, err = ecdsaRaw(sig, (c.Params().BitSize+7)/8); err != nil {
			return "", fmt.Errorf("auth: signing JWT with %s: %w", alg, err)
		}
	}
	out := append(input, '.')
	out = enc.AppendEncode(out, sig)
	return string(out), nil
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
