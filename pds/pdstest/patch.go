package pdstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/ptr"
	"github.com/shcrkit/shcrkit/internal/textclip"
	"github.com/shcrkit/shcrkit/pds"
)

var ifMatchPattern = regexp.MustCompile(`^W/"([0-9]+)"$`)

// The fake's bounds on an update: PDS records are a few kilobytes, and
// the service limits what each field holds. Without them a runaway
// client could grow a record, and the answers kept for de-duplication,
// without end.
const (
	maxPatchBytes  = 1 << 20 // of an update's body
	maxRecordBytes = 1 << 20 // of a patched record, as JSON
)

// updatable are the top-level fields a healthcare worker may patch.
var updatable = map[string]bool{
	"name": true, "gender": true, "birthDate": true, "deceasedDateTime": true, "address": true,
	"telecom": true, "contact": true, "generalPractitioner": true, "managingOrganization": true,
	"multipleBirthInteger": true, "extension": true,
}

// itemLists are the top-level lists whose items carry object ids.
var itemLists = map[string]bool{"name": true, "address": true, "telecom": true, "contact": true}

// patchOp is one operation as received.
type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
	From  string          `json:"from"`
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, id string) {
	if !shcrkit.NHSNumber(id).Valid() {
		fake.WriteOutcome(w, invalidResourceID)
		return
	}
	if s.cfg.mode == pds.AccessApplicationRestricted {
		fake.WriteOutcome(w, outcome(http.StatusForbidden, "forbidden", "INVALID_METHOD", "Invalid method",
			"Your app has insufficient permissions to use this method. Please contact support."))
		return
	}
	// The service takes application/json as well as the JSON Patch type;
	// anything else, or none, is an unsupported service.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || (mt != "application/json-patch+json" && mt != "application/json") {
		fake.WriteOutcome(w, outcome(http.StatusBadRequest, "processing", "UNSUPPORTED_SERVICE", "Unsupported Service",
			"Invalid request with error - Content-Type header must be application/json-patch+json"))
		return
	}
	m := ifMatchPattern.FindStringSubmatch(r.Header.Get("If-Match"))
	if m == nil {
		fake.WriteOutcome(w, outcome(http.StatusPreconditionFailed, "structure", "PRECONDITION_FAILED",
			"Required condition was not fulfilled", `Invalid request with error - If-Match header must be supplied to update this resource, in the form W/"<version>"`))
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxPatchBytes+1))
	if len(body) > maxPatchBytes {
		fake.WriteOutcome(w, outcome(http.StatusRequestEntityTooLarge, "too-costly", "INVALID_UPDATE", "Update is invalid",
			"Invalid update with error - the body is larger than 1 MiB"))
		return
	}
	reqID := r.Header.Get("X-Request-ID")

	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.done.get(reqID); ok && e.nhs == shcrkit.NHSNumber(id) {
		writeBody(w, http.StatusOK, e.etag, e.body)
		return
	}
	rec, nhs, o, ok := s.lookup(id)
	if !ok {
		fake.WriteOutcome(w, o)
		return
	}
	if rec.conf.Restricted() {
		fake.WriteOutcome(w, outcome(http.StatusForbidden, "forbidden", "FORBIDDEN_UPDATE", "Update is forbidden",
			"Invalid update with error - updating a restricted patient is not permitted for this application"))
		return
	}
	if m[1] != strconv.Itoa(rec.version) {
		fake.WriteOutcome(w, versionMismatch)
		return
	}
	ops, o, ok := parsePatch(body)
	if !ok {
		fake.WriteOutcome(w, o)
		return
	}
	res, o, ok := applyPatch(rec, nhs, ops)
	if !ok {
		fake.WriteOutcome(w, o)
		return
	}
	rec.res, rec.rendered = res, nil
	rec.version++
	out, err := rec.render()
	if err != nil {
		fake.WriteOutcome(w, outcome(http.StatusInternalServerError, "exception", "", "", "rendering failed"))
		return
	}
	s.done.put(reqID, dedupEntry{nhs: shcrkit.NHSNumber(id), etag: rec.etag(), body: out})
	writeBody(w, http.StatusOK, rec.etag(), out)
}

// parsePatch reads the {"patches": [...]} body the service takes.
func parsePatch(body []byte) ([]patchOp, fake.Outcome, bool) {
	var doc struct {
		Patches *[]json.RawMessage `json:"patches"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Patches == nil {
		return nil, invalidUpdate("the body must be an object with a 'patches' list"), false
	}
	if len(*doc.Patches) == 0 {
		return nil, invalidUpdate("no patches supplied"), false
	}
	ops := make([]patchOp, 0, len(*doc.Patches))
	for i, raw := range *doc.Patches {
		var op patchOp
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&op); err != nil {
			return nil, invalidUpdate(fmt.Sprintf("patch %d is not a valid JSON Patch operation", i)), false
		}
		switch op.Op {
		case "add", "replace", "test":
			if op.Value == nil {
				return nil, invalidUpdate(fmt.Sprintf("patch %d needs a value", i)), false
			}
		case "remove":
			if op.Value != nil {
				return nil, invalidUpdate(fmt.Sprintf("patch %d: remove takes no value", i)), false
			}
		default:
			return nil, invalidUpdate(fmt.Sprintf("patch %d: unsupported operation '%s'", i, textclip.Clip(op.Op, 40))), false
		}
		ops = append(ops, op)
	}
	return ops, fake.Outcome{}, true
}

// applyPatch applies ops to a copy of the record's resource and checks
// the service's rules; nothing is changed unless every operation succeeds.
func applyPatch(rec *record, nhs shcrkit.NHSNumber, ops []patchOp) (fhir.Patient, fake.Outcome, bool) {
	b, err := json.Marshal(rec.res)
	if err != nil {
		return fhir.Patient{}, outcome(http.StatusInternalServerError, "exception", "", "", "encoding failed"), false
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		return fhir.Patient{}, outcome(http.StatusInternalServerError, "exception", "", "", "encoding failed"), false
	}
	for i, op := range ops {
		segs, err := pointer(op.Path)
		if err != nil {
			return fhir.Patient{}, invalidUpdate(fmt.Sprintf("patch %d: %v", i, err)), false
		}
		if o, ok := checkPatchPath(ops, i, segs); !ok {
			return fhir.Patient{}, o, false
		}
		var val any
		if op.Value != nil {
			if err := json.Unmarshal(op.Value, &val); err != nil {
				return fhir.Patient{}, invalidUpdate(fmt.Sprintf("patch %d: value is not JSON", i)), false
			}
		}
		if o, ok := checkItemIDs(doc, op, i, segs, val); !ok {
			return fhir.Patient{}, o, false
		}
		if doc, err = apply(doc, op.Op, segs, val); err != nil {
			return fhir.Patient{}, invalidUpdate(fmt.Sprintf("patch %d: %v", i, err)), false
		}
	}
	return patchedPatient(rec, nhs, doc)
}

// checkPatchPath checks the i-th of ops against the service's rules on
// what may be changed, and how list items must be named and removed.
func checkPatchPath(ops []patchOp, i int, segs []string) (fake.Outcome, bool) {
	op := ops[i]
	root := segs[0]
	if !updatable[root] {
		return invalidUpdate("Update unsupported for resource - '" + textclip.Clip(root, 40) + "'"), false
	}
	if op.Op == "remove" && len(segs) == 1 && (root == "gender" || root == "birthDate" || root == "deceasedDateTime") {
		return outcome(http.StatusForbidden, "forbidden", "FORBIDDEN_UPDATE", "Update is forbidden",
			"Invalid update with error - '"+root+"' cannot be removed"), false
	}
	last := segs[len(segs)-1]
	if itemLists[root] && len(segs) >= 3 && isIndex(segs[1]) && !namesItem(op, segs) && !itemNamed(ops[:i], root, segs[1]) {
		return invalidUpdate(fmt.Sprintf("patch %d: changing part of '/%s/%s' needs a test of its id or url first "+
			"(you must always include the list id or url)", i, root, segs[1])), false
	}
	if op.Op == "add" && len(segs) == 2 && last != "-" {
		return invalidUpdate(fmt.Sprintf("patch %d: use '-' to add an item to '%s'", i, root)), false
	}
	if op.Op == "remove" && isIndex(last) {
		prev := patchOp{}
		if i > 0 {
			prev = ops[i-1]
		}
		if prev.Op != "test" || (prev.Path != op.Path && prev.Path != op.Path+"/id" && prev.Path != op.Path+"/url") {
			return invalidUpdate(fmt.Sprintf("patch %d: removing a list item must be immediately preceded by a test of it", i)), false
		}
	}
	return fake.Outcome{}, true
}

// checkItemIDs checks that the i-th operation, op, with value val, keeps
// the ids of list items: an id is mirrored, never changed, never supplied
// for a new item, and always supplied for a replaced one.
func checkItemIDs(doc any, op patchOp, i int, segs []string, val any) (fake.Outcome, bool) {
	root := segs[0]
	if itemLists[root] && namesItem(op, segs) && op.Op != "test" {
		// Mirroring an item's id back is how a change names the item;
		// the id itself cannot change.
		if cur, err := get(doc, segs); err != nil || !reflect.DeepEqual(cur, val) {
			return invalidUpdate(fmt.Sprintf("patch %d: the %s of '/%s/%s' cannot change", i, segs[2], root, segs[1])), false
		}
	}
	if itemLists[root] && len(segs) == 2 {
		obj, _ := val.(map[string]any)
		switch op.Op {
		case "add":
			if _, has := obj["id"]; has {
				return invalidUpdate(fmt.Sprintf("patch %d: do not supply an id when adding to '%s'", i, root)), false
			}
		case "replace":
			cur, err := get(doc, segs)
			curObj, _ := cur.(map[string]any)
			if err != nil || curObj == nil || obj == nil || obj["id"] != curObj["id"] {
				return invalidUpdate(fmt.Sprintf("patch %d: the id of the item replaced must be supplied", i)), false
			}
		}
	}
	return fake.Outcome{}, true
}

// patchedPatient decodes the patched document, checks it against the
// service's rules and gives it its new version.
func patchedPatient(rec *record, nhs shcrkit.NHSNumber, doc any) (fhir.Patient, fake.Outcome, bool) {
	out, err := json.Marshal(doc)
	if err != nil {
		return fhir.Patient{}, invalidUpdate("the patched patient cannot be encoded"), false
	}
	if len(out) > maxRecordBytes {
		return fhir.Patient{}, invalidUpdate("the patched patient would be larger than 1 MiB"), false
	}
	var res fhir.Patient
	if err := json.Unmarshal(out, &res); err != nil {
		return fhir.Patient{}, invalidUpdate("the patched patient is not a valid Patient resource"), false
	}
	if o, ok := checkRules(&rec.res, &res); !ok {
		return fhir.Patient{}, o, false
	}
	assignIDs(&res, nhs, rec.version+1)
	return res, fake.Outcome{}, true
}

// namesItem reports whether op is the test (or the mirroring replace) of
// a list item's id or url, which a change to part of the item needs.
func namesItem(op patchOp, segs []string) bool {
	return len(segs) == 3 && (segs[2] == "id" || segs[2] == "url") && (op.Op == "test" || op.Op == "replace" || op.Op == "add")
}

// itemNamed reports whether one of ops tests (or mirrors) the id or url of
// the list item root/index.
func itemNamed(ops []patchOp, root, index string) bool {
	for _, op := range ops {
		if (op.Op == "test" || op.Op == "replace" || op.Op == "add") &&
			(op.Path == "/"+root+"/"+index+"/id" || op.Path == "/"+root+"/"+index+"/url") {
			return true
		}
	}
	return false
}

func countUsual(names []fhir.HumanName) int {
	n := 0
	for _, name := range names {
		if name.Use != nil && *name.Use == fhir.NameUseUsual {
			n++
		}
	}
	return n
}

// checkRules applies the business rules the fake knows of.
func checkRules(before, after *fhir.Patient) (fake.Outcome, bool) {
	if after.Gender != nil && *after.Gender == fhir.AdministrativeGenderOther &&
		(before.Gender == nil || *before.Gender != fhir.AdministrativeGenderOther) {
		return invalidUpdate("gender cannot be set to 'other'"), false
	}
	usualBefore, usual := countUsual(before.Name), countUsual(after.Name)
	switch {
	case usual > 1:
		return outcome(http.StatusForbidden, "forbidden", "FORBIDDEN_UPDATE", "Update is forbidden",
			"Invalid update with error - cannot add more than one usual name"), false
	case usual == 0 && usualBefore > 0:
		return outcome(http.StatusForbidden, "forbidden", "FORBIDDEN_UPDATE", "Update is forbidden",
			"Invalid update with error - cannot remove the usual name"), false
	case usual == 0 && len(after.Name) > 0:
		return invalidUpdate("a patient's names must include a usual name"), false
	}
	uses := map[fhir.AddressUse]int{}
	for _, a := range after.Address {
		if a.Use != nil {
			uses[*a.Use]++
			if uses[*a.Use] > 1 && *a.Use != fhir.AddressUseWork && *a.Use != fhir.AddressUseOld {
				return invalidUpdate("only one address of each use is allowed"), false
			}
		}
	}
	return fake.Outcome{}, true
}

// assignIDs gives new list items the object ids the service assigns.
func assignIDs(p *fhir.Patient, nhs shcrkit.NHSNumber, version int) {
	v := strconv.Itoa(version)
	assign := func(list string, i int, id **string) {
		if *id == nil {
			*id = ptr.To(objectID(nhs.String(), list, v, strconv.Itoa(i)))
		}
	}
	for i := range p.Name {
		assign("name", i, &p.Name[i].Id)
	}
	for i := range p.Address {
		assign("address", i, &p.Address[i].Id)
	}
	for i := range p.Telecom {
		assign("telecom", i, &p.Telecom[i].Id)
	}
	for i := range p.Contact {
		assign("contact", i, &p.Contact[i].Id)
	}
}

// pointer parses an RFC 6901 JSON pointer naming something inside the
// document.
func pointer(p string) ([]string, error) {
	if p == "" || p[0] != '/' || p == "/" {
		return nil, fmt.Errorf("path '%s' is not a valid JSON pointer", textclip.Clip(p, 40))
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		if s == "" {
			return nil, fmt.Errorf("path '%s' has an empty segment", textclip.Clip(p, 40))
		}
		segs[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return segs, nil
}

func isIndex(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') || len(s) > 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// get returns the value at segs.
func get(doc any, segs []string) (any, error) {
	cur := doc
	for _, s := range segs {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[s]
			if !ok {
				return nil, fmt.Errorf("path does not exist")
			}
			cur = v
		case []any:
			if !isIndex(s) {
				return nil, fmt.Errorf("path does not exist")
			}
			i, _ := strconv.Atoi(s)
			if i >= len(c) {
				return nil, fmt.Errorf("path does not exist")
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("path does not exist")
		}
	}
	return cur, nil
}

// apply performs one operation and returns the (possibly new) document.
func apply(doc any, op string, segs []string, val any) (any, error) {
	if op == "test" {
		return testValue(doc, segs, val)
	}
	key := segs[len(segs)-1]
	parent, err := get(doc, segs[:len(segs)-1])
	if err != nil {
		// The service starts a top-level list the record does not have yet.
		if m, ok := doc.(map[string]any); ok && op == "add" && key == "-" && len(segs) == 2 {
			m[segs[0]] = []any{val}
			return doc, nil
		}
		return nil, fmt.Errorf("parent path does not exist")
	}
	switch c := parent.(type) {
	case map[string]any:
		if err := applyToObject(c, op, key, val); err != nil {
			return nil, err
		}
		return doc, nil
	case []any:
		updated, resized, err := applyToList(c, op, key, val)
		if err != nil {
			return nil, err
		}
		if !resized {
			return doc, nil
		}
		return replaceList(doc, segs, updated), nil
	default:
		return nil, fmt.Errorf("parent path is not an object or a list")
	}
}

// testValue checks that the value at segs in doc is val.
func testValue(doc any, segs []string, val any) (any, error) {
	cur, err := get(doc, segs)
	if err != nil {
		return nil, err
	}
	if !reflect.DeepEqual(cur, val) {
		return nil, fmt.Errorf("test failed")
	}
	return doc, nil
}

// applyToObject applies op to the member key of the object c.
func applyToObject(c map[string]any, op, key string, val any) error {
	_, exists := c[key]
	switch op {
	case "add":
		c[key] = val
	case "replace":
		if !exists {
			return fmt.Errorf("path does not exist")
		}
		c[key] = val
	case "remove":
		if !exists {
			return fmt.Errorf("path does not exist")
		}
		delete(c, key)
	}
	return nil
}

// applyToList applies op to the item key of the list c. A replace changes
// c in place; an add or a remove returns the new list, resized.
func applyToList(c []any, op, key string, val any) (updated []any, resized bool, err error) {
	i := len(c)
	if key != "-" {
		if !isIndex(key) {
			return nil, false, fmt.Errorf("'%s' is not a list index", textclip.Clip(key, 40))
		}
		i, _ = strconv.Atoi(key)
	}
	switch {
	case op == "add" && i <= len(c):
		return append(c[:i:i], append([]any{val}, c[i:]...)...), true, nil
	case op == "replace" && i < len(c):
		c[i] = val
		return nil, false, nil
	case op == "remove" && i < len(c):
		return append(c[:i:i], c[i+1:]...), true, nil
	default:
		return nil, false, fmt.Errorf("list index out of range")
	}
}

// replaceList puts the list that changed length, the parent of segs, where
// the old one was, and returns the document.
func replaceList(doc any, segs []string, updated []any) any {
	if len(segs) == 1 {
		return updated
	}
	gp, _ := get(doc, segs[:len(segs)-2])
	switch g := gp.(type) {
	case map[string]any:
		g[segs[len(segs)-2]] = updated
	case []any:
		j, _ := strconv.Atoi(segs[len(segs)-2])
		g[j] = updated
	}
	return doc
}
