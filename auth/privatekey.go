package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shcrkit/shcrkit/internal/jws"
)

// Errors of the private key loader. Every error returned by ParsePrivateKey
// and LoadPrivateKeyFile matches ErrInvalidPrivateKey; an encrypted key
// matches ErrEncryptedPrivateKey as well. No error text contains key
// material.
var (
	// ErrInvalidPrivateKey: the input is not a usable private key.
	ErrInvalidPrivateKey = errors.New("auth: invalid private key")
	// ErrEncryptedPrivateKey: the key is protected by a passphrase;
	// decrypt it first (openssl pkey -in key.pem -out plain.pem).
	ErrEncryptedPrivateKey = errors.New("auth: private key is encrypted")
)

// keyError is a loader error. It matches ErrInvalidPrivateKey, and
// ErrEncryptedPrivateKey when the key is encrypted.
type keyError struct {
	msg       string
	encrypted bool
	err       error // the file system's error, if any
}

func (e *keyError) Error() string {
	if e.encrypted {
		return "auth: private key is encrypted (" + e.msg + "); decrypt it first"
	}
	return "auth: invalid private key: " + e.msg
}

func (e *keyError) Is(target error) bool {
	return target == ErrInvalidPrivateKey || (e.encrypted && target == ErrEncryptedPrivateKey)
}

func (e *keyError) Unwrap() error { return e.err }

func badKey(msg string) error { return &keyError{msg: msg} }

func encryptedKey(msg string) error { return &keyError{msg: msg, encrypted: true} }

// maxPEMBytes bounds what LoadPrivateKeyFile reads: a key file is a few
// kilobytes, so anything far larger is the wrong file.
const maxPEMBytes = 1 << 20

// ParsePrivateKey decodes the first private key in PEM-encoded data:
// an RSA key in PKCS#1 ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY") form,
// or an EC key in SEC 1 ("EC PRIVATE KEY") or PKCS#8 form. Blocks of other
// types (certificates, say) before the key are skipped. The result is an
// *rsa.PrivateKey or an *ecdsa.PrivateKey.
//
// RSA keys shorter than 2048 bits, Ed25519 keys and encrypted keys are
// refused with an error that says so.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	var seen []string
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY":
			if block.Headers["Proc-Type"] != "" || block.Headers["DEK-Info"] != "" {
				return nil, encryptedKey(fmt.Sprintf("legacy PEM encryption on the %q block", block.Type))
			}
			return parseKeyBlock(block)
		case "ENCRYPTED PRIVATE KEY":
			return nil, encryptedKey("PKCS#8 \"ENCRYPTED PRIVATE KEY\" block")
		default:
			seen = append(seen, block.Type)
		}
	}
	if len(seen) == 0 {
		return nil, badKey("no PEM block found")
	}
	return nil, badKey("no private key among PEM blocks of type " + strings.Join(quoteAll(seen), ", "))
}

// LoadPrivateKeyFile reads the file at path and parses it with
// ParsePrivateKey. Errors name the file but never its contents.
func LoadPrivateKeyFile(path string) (crypto.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &keyError{msg: err.Error(), err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPEMBytes+1))
	if err != nil {
		return nil, &keyError{msg: "reading " + path + ": " + err.Error(), err: err}
	}
	if len(data) > maxPEMBytes {
		return nil, badKey(fmt.Sprintf("%s is larger than %d bytes", path, maxPEMBytes))
	}
	k, err := ParsePrivateKey(data)
	var ke *keyError
	if errors.As(err, &ke) {
		return nil, &keyError{msg: path + ": " + ke.msg, encrypted: ke.encrypted}
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

func parseKeyBlock(block *pem.Block) (crypto.Signer, error) {
	var (
		key any
		err error
	)
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, badKey(fmt.Sprintf("the %q block does not parse: %s", block.Type, parseErrText(err)))
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if bits := k.N.BitLen(); bits < jws.MinRSABits {
			return nil, badKey(fmt.Sprintf("RSA key has %d bits, at least %d are needed", bits, jws.MinRSABits))
		}
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return nil, badKey("Ed25519 keys are not supported; use an RSA or EC key")
	default:
		return nil, badKey(fmt.Sprintf("unsupported key type %T", key))
	}
}

// parseErrText keeps x509's explanation, which describes structure only.
func parseErrText(err error) string {
	return strings.TrimPrefix(err.Error(), "x509: ")
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// LoadClientTLS reads what mutual TLS to a service needs from PEM files:
// a client certificate and its key (both or neither) and a file of
// certificate authorities to trust (or ""). The same files serve PDS and
// the NRL (in the transport of the *http.Client given to pds.WithHTTPClient
// or nrls.WithHTTPClient) as remote ShCRs (a directory file's tls
// section).
func LoadClientTLS(certFile, keyFile, caFile string) (*tls.Certificate, *x509.CertPool, error) {
	var cert *tls.Certificate
	switch {
	case certFile != "" && keyFile != "":
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("auth: client certificate: %w", err)
		}
		cert = &c
	case certFile != "" || keyFile != "":
		return nil, nil, errors.New("auth: mutual TLS needs both certificate and key")
	}
	var roots *x509.CertPool
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, nil, fmt.Errorf("auth: CA file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, nil, errors.New("auth: the CA file holds no PEM certificate")
		}
	}
	return cert, roots, nil
}
