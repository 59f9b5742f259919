package shcrtest

import "crypto/x509"

// The package's own tests reach these unexported helpers under the names
// they had.
var (
	RecordFor           = documentFor
	SeedPointers        = seedPointers
	SearchResourceTypes = searchResourceTypes
	WithIdentityHeader  = withIdentityHeader
)

// DefaultPageSize is the page size without WithPageSize.
const DefaultPageSize = defaultPageSize

// CustodianKestrel is the world's fifth region, with no seed pointers.
const CustodianKestrel = custodianKestrel

// RecordURL returns the URL a pointer to the document should carry.
func (s *Server) RecordURL(pointerID string) string { return s.documentURL(pointerID) }

// AddRecord adds or replaces a document.
func (s *Server) AddRecord(d Document) error { return s.addDocument(d) }

// NewProxy starts a fake Spine Secure Proxy.
var NewProxy = newProxy

// Certificate returns the proxy's client certificate.
func (p *Proxy) Certificate() *x509.Certificate { return p.certificate() }

// AddProvider lets the proxy forward to s.
func (p *Proxy) AddProvider(s *Server) error { return p.addProvider(s) }

// ASID returns the provider ASID.
func (s *Server) ASID() string { return s.asid() }
