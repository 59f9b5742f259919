package nrlstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/shcrkit/shcrkit/internal/ptr"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/internal/immutable"
)

// producerURLPath is the path the service puts in a create's Location
// header: relative, without the API's host and /record-locator prefix.
const producerURLPath = "/producer/FHIR/R4/DocumentReference"

// readPointer decodes a create or update body, answering the request
// itself when the body is unusable.
func readPointer(c *call) (fhir.DocumentReference, bool) {
	body, _ := io.ReadAll(c.r.Body)
	if len(bytes.TrimSpace(body)) == 0 {
		fail(c.w, http.StatusBadRequest, "BAD_REQUEST", "Request body is required", "")
		return fhir.DocumentReference{}, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		fail(c.w, http.StatusBadRequest, "MESSAGE_NOT_WELL_FORMED", "Request body could not be parsed", "")
		return fhir.DocumentReference{}, false
	}
	var rt string
	if json.Unmarshal(fields["resourceType"], &rt) != nil || rt != "DocumentReference" {
		fail(c.w, http.StatusBadRequest, "MESSAGE_NOT_WELL_FORMED", "Request body could not be parsed: resourceType must be DocumentReference", "resourceType")
		return fhir.DocumentReference{}, false
	}
	// The strict model cannot tell an absent status from "current", so
	// the service's required-field check is made on the raw body.
	for _, f := range []string{"status", "subject", "custodian", "type", "category", "content", "author", "context"} {
		if _, ok := fields[f]; !ok {
			writeIssues(c.w, http.StatusBadRequest, issue{severity: "error", code: "required", spine: "INVALID_RESOURCE",
				diagnostics: "The required field '" + f + "' is missing", expression: f})
			return fhir.DocumentReference{}, false
		}
	}
	var doc fhir.DocumentReference
	if err := json.Unmarshal(body, &doc); err != nil {
		fail(c.w, http.StatusBadRequest, "INVALID_RESOURCE", "Failed to parse DocumentReference resource", "")
		return fhir.DocumentReference{}, false
	}
	return doc, true
}

// validationFailed answers with the rules doc breaks, if any.
func validationFailed(c *call, doc fhir.DocumentReference) bool {
	err := nrls.PointerFrom(doc).Validate()
	var v *nrls.ValidationError
	if errors.As(err, &v) {
		writeIssues(c.w, http.StatusBadRequest, validationIssues(v)...)
		return true
	}
	return false
}

// create answers POST /DocumentReference: a new pointer, or one that
// supersedes others.
func (s *Server) create(c *call) {
	doc, ok := readPointer(c)
	if !ok {
		return
	}
	// The service assigns the ID; one sent is ignored.
	doc.Id = nil
	if validationFailed(c, doc) {
		return
	}
	p := nrls.PointerFrom(doc)
	if p.Custodian != c.org {
		fail(c.w, http.StatusBadRequest, "BAD_REQUEST",
			"The custodian of the provided DocumentReference does not match the expected ODS code for this organisation",
			"custodian.identifier.value")
		return
	}
	typ, _ := tokens(&doc)
	if allowed := s.cfg.producerTypes[c.org]; allowed != nil && !allowed[typ] {
		fail(c.w, http.StatusForbidden, "AUTHOR_CREDENTIALS_ERROR",
			"The type of the provided DocumentReference is not in the list of allowed types for this organisation",
			"type.coding[0].code")
		return
	}
	now := s.cfg.Now().UTC().Format(time.RFC3339)
	doc.Id = ptr.To(string(c.org) + "-" + uuid.NewString())
	doc.Date = &now
	doc.Meta = &fhir.Meta{LastUpdated: &now}

	s.mu.Lock()
	defer s.mu.Unlock()
	var replaced []string
	for i, r := range doc.RelatesTo {
		if r.Code != fhir.DocumentRelationshipTypeReplaces {
			continue
		}
		field := fmt.Sprintf("relatesTo[%d].target.identifier.value", i)
		target := ""
		if r.Target.Identifier != nil {
			target = ptr.Deref(r.Target.Identifier.Value)
		}
		old := s.store.byID[target]
		switch {
		case !strings.HasPrefix(target, string(c.org)+"-"):
			fail(c.w, http.StatusBadRequest, "BAD_REQUEST",
				"The relatesTo target identifier value does not include the expected ODS code for this organisation", field)
			return
		case old == nil:
			fail(c.w, http.StatusBadRequest, "BAD_REQUEST", "The relatesTo target document does not exist", field)
			return
		case old.nhs != string(p.NHSNumber):
			fail(c.w, http.StatusBadRequest, "BAD_REQUEST",
				"The relatesTo target document NHS number does not match the NHS number in the request", field)
			return
		case old.typ != typ:
			fail(c.w, http.StatusBadRequest, "BAD_REQUEST",
				"The relatesTo target document type does not match the type in the request", field)
			return
		}
		replaced = append(replaced, target)
	}
	if err := s.store.put(nrls.PointerFrom(doc)); err != nil {
		fail(c.w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "The pointer could not be stored", "")
		return
	}
	for _, id := range replaced {
		s.store.remove(id)
	}
	c.w.Header().Set("Location", producerURLPath+"/"+ptr.Deref(doc.Id))
	if len(replaced) > 0 {
		inform(c.w, http.StatusCreated, "RESOURCE_SUPERSEDED", "The document has been superseded by a new version")
		return
	}
	inform(c.w, http.StatusCreated, "RESOURCE_CREATED", "The document has been created")
}

// update answers PUT /DocumentReference/{id}.
func (s *Server) update(c *call, id string) {
	doc, ok := readPointer(c)
	if !ok {
		return
	}
	if ptr.Deref(doc.Id) != id {
		fail(c.w, http.StatusBadRequest, "BAD_REQUEST", "The document id in the path does not match the document id in the body", "id")
		return
	}
	if validationFailed(c, doc) {
		return
	}
	if !strings.HasPrefix(id, string(c.org)+"-") {
		fail(c.w, http.StatusForbidden, "AUTHOR_CREDENTIALS_ERROR",
			"The id of the provided DocumentReference does not include the expected ODS code for this organisation", "id")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.store.byID[id]
	if old == nil {
		fail(c.w, http.StatusNotFound, "NO_RECORD_FOUND", "The requested DocumentReference could not be found", "")
		return
	}
	if changed := immutable.Changed(immutable.Take(&old.doc), &doc); len(changed) > 0 {
		field := changed[0]
		fail(c.w, http.StatusBadRequest, "BAD_REQUEST", "The field '"+field+"' is immutable and cannot be updated", field)
		return
	}
	// The date is the service's: it keeps the original.
	doc.Date = old.doc.Date
	now := s.cfg.Now().UTC().Format(time.RFC3339)
	doc.Meta = &fhir.Meta{LastUpdated: &now}
	if err := s.store.put(nrls.PointerFrom(doc)); err != nil {
		fail(c.w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "The pointer could not be stored", "")
		return
	}
	inform(c.w, http.StatusOK, "RESOURCE_UPDATED", "The DocumentReference has been updated")
}

// delete answers DELETE /DocumentReference/{id}.
func (s *Server) delete(c *call, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.store.byID[id]
	switch {
	case old == nil:
		fail(c.w, http.StatusNotFound, "NO_RECORD_FOUND", "The requested DocumentReference could not be found", "")
	case old.custodian != string(c.org):
		fail(c.w, http.StatusForbidden, "ACCESS_DENIED",
			"The requested document pointer cannot be deleted because it belongs to another organisation", "")
	default:
		s.store.remove(id)
		inform(c.w, http.StatusOK, "RESOURCE_REMOVED", "The requested DocumentReference has been deleted")
	}
}
