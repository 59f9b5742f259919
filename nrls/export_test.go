package nrls

import (
	"slices"

	"github.com/shcrkit/shcrkit"

	"github.com/shcrkit/shcrkit/nrls/internal/immutable"
)

// FormatDisplay, StabilityDisplay and RetrievalDisplay give the display
// of a code, or "" for a code that is not valid.
var (
	FormatDisplay    = formats.display
	StabilityDisplay = stabilities.display
	RetrievalDisplay = retrievals.display
)

// LookupCategory returns the record category with this SNOMED code (or
// token).
var LookupCategory = lookupCategory

// ValidID reports whether id has the form of a pointer ID.
var ValidID = validID

// DisplayMatches reports whether d is a display the service accepts for t.
func DisplayMatches(t RecordType, d string) bool { return t.displayMatches(d) }

// CheckImmutable reports every change from original to updated of a
// field an update may not change, as Update does.
func CheckImmutable(original, updated Pointer) error {
	orig := original.snap
	if !orig.Taken() {
		orig = immutable.Take(&original.Resource)
	}
	return checkImmutable(orig, &updated.Resource)
}

// Fields returns the names of the fields at fault in v, in order, without
// repeats.
func Fields(v *ValidationError) []string {
	var out []string
	for _, fe := range v.Errors {
		if !slices.Contains(out, fe.Field) {
			out = append(out, fe.Field)
		}
	}
	return out
}

// EndUserOrganisation returns the client's default end-user organisation,
// or "".
func (c *Client) EndUserOrganisation() shcrkit.ODSCode { return c.http.Config().Identity.Organisation }

// BaseURL returns the service root the client talks to.
func (c *Client) BaseURL() string { return c.http.BaseURL().String() }
