// Package fhirredact removes elements from FHIR JSON documents, as a
// decision's redaction obligation requires: the consumer (shcr) redacts
// what it hands back, the provider (shcr/provider) what it serves.
package fhirredact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

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
// "address", "telecom", "contacts", "general-practitioner") from a FHIR
// JSON resource, wherever they occur in it: in the resource itself, in
// its backbone elements (a Patient's contacts, an Organization's), in
// contained resources and a Bundle's entries, whatever the case of the
// name, as a choice element ("deceased" takes deceasedDateTime), with a
// primitive's extensions ("_address"), and, for address and telecom, as
// any element of that type (an extension's valueAddress). An object that
// loses an element also loses its narrative (text), and so does every
// object around it, as would otherwise still show it; in a document
// Bundle every narrative goes. It fails with shcrkit.ErrMalformedResponse,
// handing nothing back, when body is not one JSON object with a
// resourceType.
func Elements(body []byte, fields []string) ([]byte, error) {
	if len(fields) == 0 {
		return body, nil
	}
	d := newDropper(fields)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: the record is not a JSON object, so it cannot be redacted", shcrkit.ErrMalformedResponse)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: the record has more after its JSON object, so it cannot be redacted", shcrkit.ErrMalformedResponse)
	}
	rt, ok := doc["resourceType"].(string)
	if !ok || rt == "" {
		return nil, fmt.Errorf("%w: the record is not a FHIR resource, so it cannot be redacted", shcrkit.ErrMalformedResponse)
	}
	if d.redact(doc) && rt == "Bundle" && doc["type"] == "document" {
		// A document's narratives (its Composition's sections) render
		// the other entries, the redacted ones included.
		dropNarratives(doc)
	}
	return json.Marshal(doc)
}

// dropper knows which keys a redaction removes.
type dropper struct {
	names []string // FHIR element names: "address", "generalPractitioner"
	types []string // data types whose choice elements go: "Address"
}

// fieldTypes are the FHIR data types of policy fields that name one.
var fieldTypes = map[string]string{"address": "Address", "telecom": "ContactPoint"}

func newDropper(fields []string) *dropper {
	d := &dropper{}
	for _, f := range fields {
		d.names = append(d.names, fhirElement(f))
		if t, ok := fieldTypes[f]; ok {
			d.types = append(d.types, t)
		}
	}
	return d
}

// drops reports whether key goes: a named element in any case, its
// choice elements (the name then an upper-case letter), its primitive
// extensions ("_" first) and any "<prefix><Type>" element of a dropped type.
func (d *dropper) drops(key string) bool {
	key = strings.TrimPrefix(key, "_")
	for _, n := range d.names {
		if len(key) >= len(n) && strings.EqualFold(key[:len(n)], n) &&
			(len(key) == len(n) || unicode.IsUpper(rune(key[len(n)]))) {
			return true
		}
	}
	for _, t := range d.types {
		if len(key) > len(t) && strings.EqualFold(key[len(key)-len(t):], t) {
			return true
		}
	}
	return false
}

// redact removes the dropped keys from v and everything in it, and
// reports whether it removed any; an object that lost something, itself
// or within, loses its narrative too.
func (d *dropper) redact(v any) bool {
	removed := false
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if d.drops(k) {
				delete(t, k)
				removed = true
				continue
			}
			removed = d.redact(child) || removed
		}
		if _, isNarrative := t["text"].(map[string]any); removed && isNarrative {
			// The narrative renders the structured data, removed
			// elements included, so it goes with them.
			delete(t, "text")
		}
	case []any:
		for _, child := range t {
			removed = d.redact(child) || removed
		}
	}
	return removed
}

// dropNarratives removes every narrative (a "text" object) in v.
func dropNarratives(v any) {
	switch t := v.(type) {
	case map[string]any:
		if _, isNarrative := t["text"].(map[string]any); isNarrative {
			delete(t, "text")
		}
		for _, child := range t {
			dropNarratives(child)
		}
	case []any:
		for _, child := range t {
			dropNarratives(child)
		}
	}
}
