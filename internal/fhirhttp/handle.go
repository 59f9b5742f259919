package fhirhttp

// Handle gives the SDK's own packages the Client a service client is
// built on. pds.Client and nrls.Client embed one under an unexported
// name, so that shcr reads their base URL and default identity through Of
// while the service clients export no getters for their configuration.
type Handle struct{ c *Client }

// NewHandle returns the handle of c.
func NewHandle(c *Client) Handle { return Handle{c} }

func (h Handle) fhirClient() *Client { return h.c }

// Service is a service client that embeds a Handle: only such a client
// has the unexported method, so Of takes nothing else.
type Service interface{ fhirClient() *Client }

// Of returns the Client s is built on.
func Of(s Service) *Client { return s.fhirClient() }
