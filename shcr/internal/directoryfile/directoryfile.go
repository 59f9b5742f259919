// Package directoryfile holds a directory of remote ShCRs in the form the
// SDK checks and uses, whether it comes from shcr.DirectoryConfig or from
// a file (shcr.LoadDirectory): endpoints with their credentials, loaded
// from the files and environment variables the file names, and the Spine
// Secure Proxy. Its Endpoint, Identity and SSP have the fields of shcr's
// in their order, so that shcr converts between them field by field.
package directoryfile

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"go.yaml.in/yaml/v3"
	"golang.org/x/oauth2"
)

// File is a directory as read: shcr.DirectoryConfig's content, not yet
// checked (see CheckEndpoint and CheckSSP).
type File struct {
	Endpoints []Endpoint
	SSP       *SSP
}

// Endpoint is shcr.Endpoint's content.
type Endpoint struct {
	Name          string
	Custodians    []shcrkit.ODSCode
	BaseURL       string
	ContentHosts  []string
	TokenSource   oauth2.TokenSource
	Certificate   *tls.Certificate
	RootCAs       *x509.CertPool
	Audience      string
	Identity      Identity
	ASID          string
	Timeout       time.Duration
	Parallelism   int
	ReuseIdentity bool
	AuditURL      string
}

// Identity has shcr.Identity's fields in its order, so that one converts
// to the other, and the methods that check it and sign with it.
type Identity struct {
	Signing auth.Algorithm
	Key     crypto.Signer
	KeyID   string
	Header  string
}

// SSP has shcr.SSP's fields in its order, so that one converts to the
// other.
type SSP struct {
	ProxyURL      string
	ConsumerASID  string
	InteractionID string
	TokenSource   oauth2.TokenSource
	Certificate   *tls.Certificate
	RootCAs       *x509.CertPool
}

// maxDirectoryBytes bounds a directory file: a few hundred endpoints fit
// in far less.
const maxDirectoryBytes = 4 << 20

// The file form of a Directory. Paths to keys and certificates are taken
// relative to the file's folder. Secrets are never written in the file:
// a bearer token comes from an environment variable or a file.
type directoryFile struct {
	SSP       *sspFile       `json:"ssp" yaml:"ssp"`
	Endpoints []endpointFile `json:"endpoints" yaml:"endpoints"`
}

type sspFile struct {
	ProxyURL      string    `json:"proxyUrl" yaml:"proxyUrl"`
	ConsumerASID  string    `json:"consumerAsid" yaml:"consumerAsid"`
	InteractionID string    `json:"interactionId" yaml:"interactionId"`
	Auth          *authFile `json:"auth" yaml:"auth"`
	TLS           *tlsFile  `json:"tls" yaml:"tls"`
}

type endpointFile struct {
	Name          string        `json:"name" yaml:"name"`
	Custodians    []string      `json:"custodians" yaml:"custodians"`
	BaseURL       string        `json:"baseUrl" yaml:"baseUrl"`
	ContentHosts  []string      `json:"contentHosts" yaml:"contentHosts"`
	Audience      string        `json:"audience" yaml:"audience"`
	ASID          string        `json:"asid" yaml:"asid"`
	Timeout       string        `json:"timeout" yaml:"timeout"`
	Parallelism   int           `json:"parallelism" yaml:"parallelism"`
	ReuseIdentity bool          `json:"reuseIdentity" yaml:"reuseIdentity"`
	AuditURL      string        `json:"auditUrl" yaml:"auditUrl"`
	Auth          *authFile     `json:"auth" yaml:"auth"`
	TLS           *tlsFile      `json:"tls" yaml:"tls"`
	Identity      *identityFile `json:"identity" yaml:"identity"`
}

// authFile is how to get access tokens: type "none" (or absent),
// "bearer" (a static token from tokenEnv or tokenFile), or
// "client_credentials" (a signed JWT client assertion).
type authFile struct {
	Type       string   `json:"type" yaml:"type"`
	TokenEnv   string   `json:"tokenEnv" yaml:"tokenEnv"`
	TokenFile  string   `json:"tokenFile" yaml:"tokenFile"`
	TokenURL   string   `json:"tokenUrl" yaml:"tokenUrl"`
	ClientID   string   `json:"clientId" yaml:"clientId"`
	KeyID      string   `json:"keyId" yaml:"keyId"`
	PrivateKey string   `json:"privateKey" yaml:"privateKey"`
	Algorithm  string   `json:"algorithm" yaml:"algorithm"`
	Audience   string   `json:"audience" yaml:"audience"`
	Scopes     []string `json:"scopes" yaml:"scopes"`
}

type tlsFile struct {
	Certificate string `json:"certificate" yaml:"certificate"`
	Key         string `json:"key" yaml:"key"`
	CA          string `json:"ca" yaml:"ca"`
}

type identityFile struct {
	Signing    string `json:"signing" yaml:"signing"`
	PrivateKey string `json:"privateKey" yaml:"privateKey"`
	KeyID      string `json:"keyId" yaml:"keyId"`
	Header     string `json:"header" yaml:"header"`
}

// Load reads a directory file in JSON or YAML (by its extension: .json,
// or .yaml/.yml; otherwise by its first character).
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	format := ""
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		format = "json"
	case ".yaml", ".yml":
		format = "yaml"
	}
	return Parse(f, format, filepath.Dir(path))
}

// Parse reads a directory in format "json" or "yaml" ("" guesses from
// the first character) from r. Relative paths in it are taken relative to
// dir. Unknown fields are refused, so a misspelt setting is not silently
// ignored.
func Parse(r io.Reader, format, dir string) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxDirectoryBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading: %v", err)
	}
	if len(data) > maxDirectoryBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxDirectoryBytes)
	}
	if format == "" {
		format = "yaml"
		if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
			format = "json"
		}
	}
	var df directoryFile
	switch format {
	case "json":
		if err := checkJSONKeys(data); err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&df); err != nil {
			return nil, err
		}
	case "yaml":
		if err := checkYAMLExpansion(data); err != nil {
			return nil, err
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&df); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		// A second document would be silently ignored.
		var more yaml.Node
		if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
			return nil, errors.New("YAML: more than one document")
		}
	default:
		return nil, fmt.Errorf("unknown format %q (want json or yaml)", format)
	}
	return df.build(dir)
}

func (df *directoryFile) build(dir string) (*File, error) {
	var cfg File
	var errs []string
	for i, ef := range df.Endpoints {
		name := ef.Name
		if name == "" {
			name = fmt.Sprintf("endpoint %d", i+1)
		}
		e, err := ef.endpoint(dir)
		if err != nil {
			errs = append(errs, name+": "+err.Error())
			continue
		}
		cfg.Endpoints = append(cfg.Endpoints, e)
	}
	if df.SSP != nil {
		s := SSP{ProxyURL: df.SSP.ProxyURL, ConsumerASID: df.SSP.ConsumerASID, InteractionID: df.SSP.InteractionID}
		var err error
		if s.TokenSource, err = df.SSP.Auth.tokenSource(dir); err == nil {
			s.Certificate, s.RootCAs, err = df.SSP.TLS.load(dir)
		}
		if err != nil {
			errs = append(errs, "ssp: "+err.Error())
		}
		cfg.SSP = &s
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return &cfg, nil
}

func (ef endpointFile) endpoint(dir string) (Endpoint, error) {
	e := Endpoint{Name: ef.Name, BaseURL: ef.BaseURL, ContentHosts: ef.ContentHosts, Audience: ef.Audience, ASID: ef.ASID, AuditURL: ef.AuditURL}
	for _, c := range ef.Custodians {
		code, err := shcrkit.ParseODSCode(c)
		if err != nil {
			return e, err
		}
		e.Custodians = append(e.Custodians, code)
	}
	if ef.Timeout != "" {
		d, err := time.ParseDuration(ef.Timeout)
		if err != nil || d <= 0 {
			return e, fmt.Errorf("timeout %q is not a positive duration", clip(ef.Timeout))
		}
		e.Timeout = d
	}
	e.Parallelism, e.ReuseIdentity = ef.Parallelism, ef.ReuseIdentity
	var err error
	if e.TokenSource, err = ef.Auth.tokenSource(dir); err != nil {
		return e, err
	}
	if e.Certificate, e.RootCAs, err = ef.TLS.load(dir); err != nil {
		return e, err
	}
	if ef.Identity != nil {
		e.Identity = Identity{Signing: auth.Algorithm(strings.ToUpper(ef.Identity.Signing)), KeyID: ef.Identity.KeyID, Header: ef.Identity.Header}
		if strings.EqualFold(ef.Identity.Signing, "none") {
			e.Identity.Signing = ""
		}
		if ef.Identity.PrivateKey != "" {
			if e.Identity.Key, err = auth.LoadPrivateKeyFile(resolvePath(dir, ef.Identity.PrivateKey)); err != nil {
				return e, fmt.Errorf("identity key: %w", err)
			}
		}
	}
	return e, nil
}

func (af *authFile) tokenSource(dir string) (oauth2.TokenSource, error) {
	if af == nil {
		return nil, nil
	}
	switch strings.ToLower(af.Type) {
	case "", "none":
		return nil, nil
	case "bearer":
		var tok string
		switch {
		case af.TokenEnv != "" && af.TokenFile != "":
			return nil, errors.New("bearer auth takes tokenEnv or tokenFile, not both")
		case af.TokenEnv != "":
			tok = strings.TrimSpace(os.Getenv(af.TokenEnv))
			if tok == "" {
				return nil, fmt.Errorf("environment variable %s holds no token", af.TokenEnv)
			}
		case af.TokenFile != "":
			b, err := os.ReadFile(resolvePath(dir, af.TokenFile))
			if err != nil {
				return nil, fmt.Errorf("token file: %w", err)
			}
			if tok = strings.TrimSpace(string(b)); tok == "" {
				return nil, errors.New("token file is empty")
			}
		default:
			return nil, errors.New("bearer auth needs tokenEnv or tokenFile")
		}
		return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok}), nil
	case "client_credentials":
		if af.PrivateKey == "" {
			return nil, errors.New("client_credentials auth needs privateKey")
		}
		key, err := auth.LoadPrivateKeyFile(resolvePath(dir, af.PrivateKey))
		if err != nil {
			return nil, fmt.Errorf("client assertion key: %w", err)
		}
		return auth.NewSignedJWT(auth.SignedJWTConfig{
			APIKey: af.ClientID, TokenURL: af.TokenURL, KeyID: af.KeyID, PrivateKey: key,
			Algorithm: auth.Algorithm(strings.ToUpper(af.Algorithm)), Audience: af.Audience, Scopes: af.Scopes,
		})
	}
	return nil, fmt.Errorf("unknown auth type %q (want none, bearer or client_credentials)", clip(af.Type))
}

func (tf *tlsFile) load(dir string) (*tls.Certificate, *x509.CertPool, error) {
	if tf == nil {
		return nil, nil, nil
	}
	orEmpty := func(p string) string {
		if p == "" {
			return ""
		}
		return resolvePath(dir, p)
	}
	return auth.LoadClientTLS(orEmpty(tf.Certificate), orEmpty(tf.Key), orEmpty(tf.CA))
}

func resolvePath(dir, p string) string {
	if filepath.IsAbs(p) || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}
