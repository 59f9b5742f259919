// Package fhirbundle holds what following a FHIR Bundle's pages needs:
// the parts of a page that paging reads, its next link, and the merge of
// every page's entries into the first page.
package fhirbundle

import (
	"encoding/json"
	"mime"
	"net/http"

	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// Page is the part of a FHIR answer that paging needs; everything else is
// kept as it came.
type Page struct {
	ResourceType string            `json:"resourceType"`
	Link         []Link            `json:"link"`
	Entry        []json.RawMessage `json:"entry"`
}

// Link is one of a Bundle's links.
type Link struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// Next is the page's next link as written, or "" when it has none.
func (p *Page) Next() string {
	for _, l := range p.Link {
		if l.Relation == "next" && l.URL != "" {
			return l.URL
		}
	}
	return ""
}

// Merge is the first page with every page's entries and without its
// paging links (its self link is kept).
func Merge(first map[string]json.RawMessage, entries []json.RawMessage) ([]byte, error) {
	if len(entries) > 0 {
		b, err := json.Marshal(entries)
		if err != nil {
			return nil, err
		}
		first["entry"] = b
	} else {
		delete(first, "entry")
	}
	var links []Link
	if raw, ok := first["link"]; ok {
		_ = json.Unmarshal(raw, &links)
	}
	kept := links[:0]
	for _, l := range links {
		if l.Relation == "self" {
			kept = append(kept, l)
		}
	}
	if len(kept) > 0 {
		b, _ := json.Marshal(kept)
		first["link"] = b
	} else {
		delete(first, "link")
	}
	return json.Marshal(first)
}

// MediaType is the media type of an answer's Content-Type, FHIR JSON when
// it has none that parses.
func MediaType(h http.Header) string {
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil {
		return mt
	}
	return fhirhttp.MediaFHIRJSON
}
