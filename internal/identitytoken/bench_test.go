package identitytoken_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/internal/jws"
)

// BenchmarkVerify is what a provider spends checking one identity token
// by signing method: verified in full (first), or presented again with a
// Verified holding it (reused), which checks only its times and audience.
func BenchmarkVerify(b *testing.B) {
	issued := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return issued.Add(time.Minute) }
	aud := "https://north.example/fhir"
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		alg  jws.Algorithm
		priv crypto.Signer
		pub  crypto.PublicKey
	}{{auth.RS256, rk, &rk.PublicKey}, {auth.ES256, ek, &ek.PublicKey}, {jws.None, nil, nil}} {
		tok, err := identitytoken.Sign(tc.alg, tc.priv, "", identitytoken.New(testRequester(), shcrkit.PurposeDirectCare, aud, "", false, issued))
		if err != nil {
			b.Fatal(err)
		}
		check := identitytoken.Check{Audience: aud, Signing: tc.alg, Key: tc.pub, Now: now}
		b.Run(string(tc.alg)+"/first", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := check.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(tc.alg)+"/reused", func(b *testing.B) {
			cached := check
			cached.Verified = &identitytoken.Verified{}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := cached.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
