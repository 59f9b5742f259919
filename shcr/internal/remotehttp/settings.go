package remotehttp

import (
	"fmt"
	"mime"

	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// DefaultContentTypes are the media types a Remote retrieves unless its
// configuration says otherwise.
var DefaultContentTypes = []string{
	fhirhttp.MediaFHIRJSON, fhirhttp.MediaJSON,
	"application/pdf", "text/html", "text/plain", "application/xml", "text/xml",
	"image/jpeg", "image/png", "image/tiff",
}

// Within checks that a setting is in lo..hi, with an error matching
// shcrkit.ErrInvalidOption naming what when it is not.
func Within(what string, n, lo, hi int) error {
	if n < lo || n > hi {
		return fmt.Errorf("%w: %s %d is outside %d..%d", fhirhttp.ErrInvalidOption, what, n, lo, hi)
	}
	return nil
}

// ContentTypes checks the media types that may be retrieved and returns
// them as a set; nil means DefaultContentTypes, and an empty list or a
// type that does not parse is an error matching shcrkit.ErrInvalidOption.
func ContentTypes(types []string) (map[string]bool, error) {
	if types == nil {
		types = DefaultContentTypes
	} else if len(types) == 0 {
		return nil, fmt.Errorf("%w: no content types", fhirhttp.ErrInvalidOption)
	}
	m := make(map[string]bool, len(types))
	for _, t := range types {
		mt, _, err := mime.ParseMediaType(t)
		if err != nil {
			return nil, fmt.Errorf("%w: content type %q", fhirhttp.ErrInvalidOption, t)
		}
		m[mt] = true
	}
	return m, nil
}
