package shcrtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/synthetic"
)

// searchResourceTypes are the FHIR resource types the fake answers a
// search for at <service root>/<type>.
var searchResourceTypes = map[string]bool{"AllergyIntolerance": true, "MedicationStatement": true, "Condition": true}

// searchable are the parameters a search may carry besides the patient.
var searchable = map[string]bool{"_count": true, "page": true, "clinical-status": true, "status": true}

// serveSearch answers a search of resourceType by patient.identifier
// (system|NHS number) with a searchset Bundle, paged by _count (default
// the server's page size) through next links.
func (s *Server) serveSearch(w http.ResponseWriter, r *http.Request, resourceType string) {
	bad := func(diag string) {
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusBadRequest, Code: "INVALID_PARAMETER", Diagnostics: diag})
	}
	q := r.URL.Query()
	var ident string
	for k := range q {
		switch {
		case k == "patient.identifier" || k == "patient:identifier" || k == "subject:identifier":
			ident = q.Get(k)
		case !searchable[k]:
			bad("unsupported search parameter " + k)
			return
		}
	}
	system, value, ok := strings.Cut(ident, "|")
	nhs, err := shcrkit.ParseNHSNumber(value)
	if !ok || system != codesystem.NHSNumber || err != nil {
		bad("the search must name the patient by patient.identifier=" + codesystem.NHSNumber + "|<NHS number>")
		return
	}
	size := s.cfg.pageSize
	if v := q.Get("_count"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 {
			bad("_count must be a positive number")
			return
		}
	}
	page := 1
	if v := q.Get("page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 1 {
			bad("no such page")
			return
		}
	}
	all := synthetic.Resources(resourceType, nhs)
	// Worked out so that no _count or page, however large, overflows.
	lo := len(all)
	if page-1 <= len(all)/size {
		lo = min((page-1)*size, len(all))
	}
	hi := lo + min(size, len(all)-lo)
	base := s.audience(r) + "/" + resourceType
	link := func(rel string, n int) map[string]string {
		v := url.Values{"patient.identifier": {ident}, "_count": {strconv.Itoa(size)}, "page": {strconv.Itoa(n)}}
		return map[string]string{"relation": rel, "url": base + "?" + v.Encode()}
	}
	links := []map[string]string{link("self", page)}
	if hi < len(all) {
		links = append(links, link("next", page+1))
	}
	entries := make([]any, 0, hi-lo)
	for _, res := range all[lo:hi] {
		entries = append(entries, map[string]any{"fullUrl": base + "/" + res["id"].(string), "resource": res,
			"search": map[string]any{"mode": "match"}})
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "searchset", "total": len(all), "link": links, "entry": entries})
	w.Header().Set("Content-Type", "application/fhir+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// serveRead answers a read of one of the resources a search returns, at
// the fullUrl the search gave it.
func serveRead(w http.ResponseWriter, resourceType, id string) {
	for nhs := range people() {
		if !strings.HasSuffix(id, "-"+string(nhs)[6:]+"-1") && !strings.HasSuffix(id, "-"+string(nhs)[6:]+"-2") {
			continue
		}
		for _, res := range synthetic.Resources(resourceType, nhs) {
			if res["id"] == id {
				fake.WriteJSON(w, http.StatusOK, res)
				return
			}
		}
	}
	fake.WriteOutcome(w, fake.Outcome{Status: http.StatusNotFound, Code: "NO_RECORD_FOUND", Diagnostics: "no such resource"})
}
