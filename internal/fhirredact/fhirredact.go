// Package fhirredact removes elements from FHIR JSON documents, as a
// decision's redaction obligation requires: the consumer (shcr) redacts
// what it hands back, the provider (shcr/provider) what it serves.
package fhirredact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shcrkit/shcrkit"
)

// fhirElement turns a policy's field name ("general-practitioner",
// "contacts") into the FHIR element it means ("generalPractitioner",
// "contact").
func fhirElement(field string) string {
	switch field {
	case "contacts":
		return "contact"
	case "identifiers":
		return "identifier"
	}
	parts := strings.Split(field, "-")
	for i := 1; i < len(parts); i++ {
		if p := parts[i]; p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}

// Elements removes the named elements (policy field names such as
// "address", "telecom", "contacts", "general-practitioner") from every
// resource in a FHIR JSON document: the resource itself, contained
// resources and a Bundle's entries. A resource that loses an element also
// loses its narrative (text), which would otherwise still show it. It fails with
// shcrkit.ErrMalformedResponse when body is not JSON.
func Elements(body []byte, fields []string) ([]byte, error) {
	if len(fields) == 0 {
		return body, nil
	}
	drop := make(map[string]bool, len(fields))
	for _, f := range fields {
		drop[fhirElement(f)] = true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: the record is not JSON, so it cannot be redacted", shcrkit.ErrMalformedResponse)
	}
	redactValue(doc, drop)
	return json.Marshal(doc)
}

func redactValue(v any, drop map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		if _, isResource := t["resourceType"]; isResource {
			removed := false
			for k := range drop {
				// A primitive element's extensions travel in "_<name>".
				for _, key := range []string{k, "_" + k} {
					if _, ok := t[key]; ok {
						delete(t, key)
						removed = true
					}
				}
			}
			if removed {
				// The narrative renders the structured data, removed
				// elements included, so it goes with them.
				delete(t, "text")
			}
		}
		for _, child := range t {
			redactValue(child, drop)
		}
	case []any:
		for _, child := range t {
			redactValue(child, drop)
		}
	}
}
