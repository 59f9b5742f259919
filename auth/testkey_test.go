package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"sync"
)

// sharedRSAKey is one 2048-bit key for the tests that do not care whose
// key it is; generating one per test would make the suite slow.
var sharedRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("generating the shared test key: " + err.Error())
	}
	return k
})
