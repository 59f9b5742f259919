package auth

import "github.com/shcrkit/shcrkit/internal/jws"

// Algorithm names the JWS algorithm that signs a client assertion. It is
// the SDK's one algorithm type: shcr.Identity signs identity tokens with
// it too, and both are signed by the same golang-jwt signer.
// Valid reports whether an Algorithm is one of the constants below.
type Algorithm = jws.Algorithm

// The supported algorithms. The NHS API platform accepts only RS512;
// remote shared care records commonly ask for RS256 or ES256.
const (
	RS256 = jws.RS256 // RSASSA-PKCS1-v1_5 with SHA-256
	RS384 = jws.RS384 // RSASSA-PKCS1-v1_5 with SHA-384
	RS512 = jws.RS512 // RSASSA-PKCS1-v1_5 with SHA-512
	ES256 = jws.ES256 // ECDSA on P-256 with SHA-256
	ES384 = jws.ES384 // ECDSA on P-384 with SHA-384
	ES512 = jws.ES512 // ECDSA on P-521 with SHA-512
)
