package fake

import "net/http"

// Capabilities describes what a fake serves, for its CapabilityStatement
// (GET <base>/metadata), which many FHIR clients fetch at start-up.
type Capabilities struct {
	// Name and Title name the statement; Description says what the fake
	// does and where it differs from the service.
	Name, Title, Description string
	// Software is the fake's name, e.g. "shcrkit pdstest".
	Software string
	// Version is the fake's version.
	Version string
	// Security says how requests authenticate.
	Security string
	// Resources are the resource types served.
	Resources []ResourceCapability
}

// ResourceCapability is what a fake serves of one resource type.
type ResourceCapability struct {
	// Type is the resource type, e.g. "Patient".
	Type string
	// Profile is the canonical URL of the profile served, if any.
	Profile string
	// Interactions are FHIR interaction codes: read, search-type, patch,
	// create, update, delete.
	Interactions []string
	// Search are the search parameters, name and FHIR type.
	Search []SearchParam
	// Documentation notes what is particular to the fake.
	Documentation string
	// Versioning is no-version, versioned or versioned-update; "" leaves it
	// out.
	Versioning string
}

// SearchParam is a search parameter a fake takes.
type SearchParam struct {
	Name, Type, Documentation string
}

// WriteCapabilities answers GET <base>/metadata with the CapabilityStatement
// of c, for a service root base; other methods get 405.
func WriteCapabilities(w http.ResponseWriter, r *http.Request, base string, c Capabilities, date string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		WriteOutcome(w, Outcome{Status: http.StatusMethodNotAllowed, IssueType: "not-supported", Code: "INVALID_METHOD",
			Diagnostics: "metadata is read with GET"})
		return
	}
	var resources []any
	for _, rc := range c.Resources {
		res := map[string]any{"type": rc.Type}
		if rc.Profile != "" {
			res["profile"] = rc.Profile
		}
		var ints []any
		for _, i := range rc.Interactions {
			ints = append(ints, map[string]any{"code": i})
		}
		if len(ints) > 0 {
			res["interaction"] = ints
		}
		var params []any
		for _, p := range rc.Search {
			sp := map[string]any{"name": p.Name, "type": p.Type}
			if p.Documentation != "" {
				sp["documentation"] = p.Documentation
			}
			params = append(params, sp)
		}
		if len(params) > 0 {
			res["searchParam"] = params
		}
		if rc.Documentation != "" {
			res["documentation"] = rc.Documentation
		}
		if rc.Versioning != "" {
			res["versioning"] = rc.Versioning
		}
		resources = append(resources, res)
	}
	rest := map[string]any{"mode": "server", "resource": resources}
	if c.Security != "" {
		rest["security"] = map[string]any{"description": c.Security}
	}
	WriteJSON(w, http.StatusOK, map[string]any{
		"resourceType": "CapabilityStatement",
		"name":         c.Name,
		"title":        c.Title,
		"status":       "active",
		"experimental": true,
		"date":         date,
		"publisher":    "shcrkit",
		"description":  c.Description,
		"kind":         "instance",
		"software":     map[string]any{"name": c.Software, "version": c.Version},
		"implementation": map[string]any{
			"description": c.Title,
			"url":         base,
		},
		"fhirVersion": "4.0.1",
		"format":      []string{"application/fhir+json", "application/json"},
		"rest":        []any{rest},
	})
}
