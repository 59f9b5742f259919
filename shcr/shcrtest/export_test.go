package shcrtest

// The package's own tests reach these unexported helpers under the names
// they had.
var (
	RecordFor           = documentFor
	SeedPointers        = seedPointers
	SearchResourceTypes = searchResourceTypes
	WithIdentityHeader  = withIdentityHeader
	WithName            = withName
)

// DefaultPageSize is the page size without WithPageSize.
const DefaultPageSize = defaultPageSize

// CustodianKestrel is the world's fifth region, with no seed pointers.
const CustodianKestrel = custodianKestrel

// RecordURL returns the URL a pointer to the document should carry.
func (s *Server) RecordURL(pointerID string) string { return s.documentURL(pointerID) }

// AddRecord adds or replaces a document.
func (s *Server) AddRecord(d Document) error { return s.addDocument(d) }

// ASID returns the provider ASID.
func (s *Server) ASID() string { return s.asid() }
