package pds

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// JSON Patch (RFC 6902) operations the service supports.
const (
	opAdd     = "add"
	opReplace = "replace"
	opRemove  = "remove"
	opTest    = "test"
)

// PatchOp is one JSON Patch (RFC 6902) operation on a patient record.
// Paths are JSON pointers into the Patient resource ("/gender",
// "/address/0/line/1"); "-" as the last segment appends to a list, as in
// PatchOp{Op: "add", Path: "/name/-", Value: fhir.HumanName{...}}.
// RemoveItem builds the pair of operations that removes a list item.
type PatchOp struct {
	// Op is "add" (value at path; to append to a list, end the path
	// with "-"), "replace" (the value at path), "remove" (the value at
	// path; removing a list item needs a test immediately before it, see
	// RemoveItem) or "test" (the whole update fails unless the value at
	// path equals Value).
	Op string `json:"op"`
	// Path is the JSON pointer of the value to change.
	Path string `json:"path"`
	// Value is the new (or, for a test, the expected) value: anything
	// that encodes to JSON, such as a string, a fhir.Address or a
	// json.RawMessage. It must be nil for a removal.
	Value any `json:"value,omitempty"`
}

// RemoveItem removes item index of the list at listPath ("/name"), after
// testing that the item's id is id, as the service requires.
func RemoveItem(listPath string, index int, id string) []PatchOp {
	item := listPath + "/" + strconv.Itoa(index)
	return []PatchOp{{Op: opTest, Path: item + "/id", Value: id}, {Op: opRemove, Path: item}}
}

// patchBody is the body of an update: {"patches": [...]}, the service's
// wrapping of a JSON Patch document.
type patchBody struct {
	Patches []PatchOp `json:"patches"`
}

// validatePatch checks operations as the service would: known
// operations, well-formed JSON pointers, a value exactly when one is
// needed, "-" (never an index) to add an item to a top-level list, a test
// immediately before every removal of a list item, on the item, its id or
// its url, and, before any change to part of an item of name, address,
// telecom or contact (e.g. /address/0/postalCode), a test (or an add or
// replace mirroring it) of that item's id or url, since the service says
// "you must always include the list id or url". It returns an error
// matching ErrInvalidPatch.
func validatePatch(ops ...PatchOp) error {
	if len(ops) == 0 {
		return patchError("patches", "at least one operation is needed")
	}
	for i, op := range ops {
		field := fmt.Sprintf("patches[%d]", i)
		segs, err := splitPointer(op.Path)
		if err != nil {
			return patchError(field, err.Error())
		}
		last := segs[len(segs)-1]
		for _, s := range segs[:len(segs)-1] {
			if s == "-" {
				return patchError(field, `"-" may only end a path`)
			}
		}
		if idLists[segs[0]] && len(segs) >= 3 && isIndex(segs[1]) && !namesItem(op, segs) && !itemNamed(ops[:i], segs[0], segs[1]) {
			return patchError(field, "changing part of /"+segs[0]+"/"+segs[1]+" needs a test of its id or url earlier in the patch")
		}
		switch op.Op {
		case opAdd, opReplace, opTest:
			if op.Value == nil {
				return patchError(field, op.Op+" needs a value")
			}
			if op.Op != opAdd && last == "-" {
				return patchError(field, `"-" may only be used to add`)
			}
			if op.Op == opAdd && len(segs) == 2 && isIndex(last) {
				return patchError(field, `add a top-level list item at index "-", not at a position`)
			}
		case opRemove:
			if op.Value != nil {
				return patchError(field, "remove takes no value")
			}
			if last == "-" {
				return patchError(field, `"-" may only be used to add`)
			}
			if isIndex(last) {
				if i == 0 || !testsItem(ops[i-1], op.Path) {
					return patchError(field, "removing a list item needs a test of the item, its id or its url immediately before")
				}
			}
		default:
			return patchError(field, "op must be add, replace, remove or test")
		}
	}
	return nil
}

// idLists are the Patient lists whose items carry object ids.
var idLists = map[string]bool{"name": true, "address": true, "telecom": true, "contact": true}

// namesItem reports whether op is the test (or the mirroring replace) of
// a list item's id or url.
func namesItem(op PatchOp, segs []string) bool {
	return len(segs) == 3 && (segs[2] == "id" || segs[2] == "url") && (op.Op == opTest || op.Op == opReplace || op.Op == opAdd)
}

// itemNamed reports whether one of ops tests (or mirrors) the id or url of
// the list item /list/index.
func itemNamed(ops []PatchOp, list, index string) bool {
	for _, op := range ops {
		if (op.Op == opTest || op.Op == opReplace || op.Op == opAdd) &&
			(op.Path == "/"+list+"/"+index+"/id" || op.Path == "/"+list+"/"+index+"/url") {
			return true
		}
	}
	return false
}

// testsItem reports whether prev is the test the service wants before
// removing the list item at path.
func testsItem(prev PatchOp, path string) bool {
	return prev.Op == opTest && (prev.Path == path || prev.Path == path+"/id" || prev.Path == path+"/url")
}

// splitPointer parses an RFC 6901 JSON pointer that names something inside
// the resource (not the resource itself).
func splitPointer(p string) ([]string, error) {
	if p == "" || p == "/" {
		return nil, fmt.Errorf("path must name a field")
	}
	if p[0] != '/' {
		return nil, fmt.Errorf(`path must start with "/"`)
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		for j := 0; j < len(s); j++ {
			if s[j] == '~' && (j+1 == len(s) || (s[j+1] != '0' && s[j+1] != '1')) {
				return nil, fmt.Errorf("path has a bad ~ escape")
			}
		}
		if s == "" {
			return nil, fmt.Errorf("path has an empty segment")
		}
		segs[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return segs, nil
}

func isIndex(s string) bool {
	if s == "" || len(s) > 6 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Update applies ops to the patient's record, provided its current version
// is still version (as from Patient.Version, "2", or the ETag form W/"2"),
// and returns the updated record with its new version.
//
// The client refuses (ErrAccessMode) when application-restricted, and
// checks the operations against the service's rules (see validatePatch),
// failing with ErrInvalidPatch. A stale version fails with
// shcrkit.ErrVersionMismatch: get the patient again and re-apply. When
// the service is slow to apply the change it answers 503 with Retry-After;
// the client waits and re-sends with the same X-Request-ID, which the
// service uses to apply the change once only. The values of the operations are
// replaced by "[redacted]" wherever the service's error answer quotes
// them.
func (c *Client) Update(ctx context.Context, nhs shcrkit.NHSNumber, version string, ops ...PatchOp) (*Patient, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	if c.mode != AccessHealthcareWorker {
		return nil, modeError("updates need healthcare worker access")
	}
	if err := checkNHSNumber(nhs); err != nil {
		return nil, err
	}
	v, ok := parseETag(version)
	if !ok {
		return nil, patchError("version", `must be the record's version, "2" or W/"2"`)
	}
	if err := validatePatch(ops...); err != nil {
		return nil, err
	}
	body, err := json.Marshal(patchBody{Patches: ops})
	if err != nil {
		return nil, patchError("patches", "a value does not encode to JSON")
	}
	resp, err := c.http.Do(ctx, &fhirhttp.Request{
		Method:      http.MethodPatch,
		Path:        patientPath(nhs),
		Header:      http.Header{"If-Match": {`W/"` + v + `"`}},
		Body:        body,
		ContentType: fhirhttp.MediaJSONPatch,
		Idempotent:  true,
	})
	if err != nil {
		return nil, redactEcho(err, patchValues(ops))
	}
	p, err := decodePatient(resp, nhs)
	if err != nil {
		return nil, redactEcho(err, patchValues(ops))
	}
	return p, nil
}
