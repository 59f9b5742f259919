package pds

import (
	"net/url"

	"github.com/shcrkit/shcrkit"
)

// ValidateSearch checks q as a healthcare worker's client does before
// sending it.
func ValidateSearch(q *SearchQuery) error { return q.validate(AccessHealthcareWorker) }

// ValidatePatch checks ops as Update does before sending them.
func ValidatePatch(ops ...PatchOp) error { return validatePatch(ops...) }

// EndUserOrganisation returns the client's default end-user organisation,
// or "".
func (c *Client) EndUserOrganisation() shcrkit.ODSCode { return c.http.Config().Identity.Organisation }

// SessionURID returns the client's default user role ID, or "".
func (c *Client) SessionURID() string { return c.http.Config().Identity.URID }

// BaseURL returns the service root the client sends requests to.
func (c *Client) BaseURL() *url.URL { return c.http.BaseURL() }
