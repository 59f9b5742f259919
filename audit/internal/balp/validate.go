package balp

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// ErrInvalid is matched by every error of Parse and Validate.
var ErrInvalid = errors.New("audit: invalid FHIR AuditEvent")

// Parse decodes an R4 AuditEvent from JSON and checks it: Validate, plus
// what only the JSON shows (every agent states requestor; every local
// reference names a contained resource and every contained resource is
// referred to).
func Parse(data []byte) (fhir.AuditEvent, error) {
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fhir.AuditEvent{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if head.ResourceType != "AuditEvent" {
		return fhir.AuditEvent{}, fmt.Errorf("%w: resourceType is %q", ErrInvalid, head.ResourceType)
	}
	a, err := fhir.UnmarshalAuditEvent(data)
	if err != nil {
		return fhir.AuditEvent{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := errors.Join(Validate(a), requestorsPresent(data), localReferences(data)); err != nil {
		return fhir.AuditEvent{}, err
	}
	return a, nil
}

// requestorsPresent checks that every agent states requestor, which R4
// makes mandatory (1..1) but the decoded type cannot tell from false.
func requestorsPresent(data []byte) error {
	var raw struct {
		Agent []map[string]json.RawMessage `json:"agent"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var errs []error
	for i, ag := range raw.Agent {
		var b bool
		if r, ok := ag["requestor"]; !ok || json.Unmarshal(r, &b) != nil {
			errs = append(errs, fmt.Errorf("%w: agent[%d].requestor is required (true or false)", ErrInvalid, i))
		}
	}
	return errors.Join(errs...)
}

// problems collects the problems of a check, each matching ErrInvalid.
type problems []error

func (p *problems) add(format string, args ...any) {
	*p = append(*p, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...))
}

// Validate checks the elements that R4 makes mandatory in an AuditEvent
// (type, recorded as an instant, at least one agent, source with an
// observer, a type and value for every entity detail) and its invariant
// sev-1 (an entity has a name or a query, not both), and that every
// Reference it holds refers to something. It returns every problem at
// once, each matching ErrInvalid.
func Validate(a fhir.AuditEvent) error {
	var bad problems
	if Str(a.Type.Code) == "" {
		bad.add("type.code is required")
	}
	if a.Recorded == "" {
		bad.add("recorded is required")
	} else if _, err := time.Parse(time.RFC3339Nano, a.Recorded); err != nil {
		bad.add("recorded %q is not an instant", a.Recorded)
	}
	if len(a.Agent) == 0 {
		bad.add("at least one agent is required")
	}
	for i, ag := range a.Agent {
		if ag.Who != nil && emptyReference(*ag.Who) {
			bad.add("agent[%d].who refers to nothing", i)
		}
		if ag.Type == nil && ag.Who == nil && ag.Name == nil {
			bad.add("agent[%d] has no type, who or name", i)
		}
	}
	if emptyReference(a.Source.Observer) {
		bad.add("source.observer is required")
	}
	for i, en := range a.Entity {
		bad.entity(i, en)
	}
	for i, ext := range a.Extension {
		if ext.Url == "" {
			bad.add("extension[%d].url is required", i)
		}
	}
	return errors.Join(bad...)
}

// entity checks entity i.
func (p *problems) entity(i int, en fhir.AuditEventEntity) {
	if en.Name != nil && en.Query != nil {
		p.add("entity[%d] has both name and query (sev-1)", i)
	}
	if en.What != nil && emptyReference(*en.What) {
		p.add("entity[%d].what refers to nothing", i)
	}
	if en.Query != nil {
		if _, err := base64.StdEncoding.DecodeString(*en.Query); err != nil {
			p.add("entity[%d].query is not base64", i)
		}
	}
	for j, d := range en.Detail {
		if d.Type == "" {
			p.add("entity[%d].detail[%d].type is required", i, j)
		}
		if d.ValueString == "" && d.ValueBase64Binary == "" {
			p.add("entity[%d].detail[%d].value is required", i, j)
		}
	}
}

func emptyReference(r fhir.Reference) bool {
	return Str(r.Reference) == "" &&
		(r.Identifier == nil || Str(r.Identifier.Value) == "") &&
		Str(r.Display) == ""
}

// ContainedOutcome returns the contained OperationOutcome with id
// OutcomeID, if any.
func ContainedOutcome(data []byte) (*fhir.OperationOutcome, error) {
	var raw struct {
		Contained []json.RawMessage `json:"contained"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	for _, c := range raw.Contained {
		var head struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		if json.Unmarshal(c, &head) != nil || head.ResourceType != "OperationOutcome" || head.ID != OutcomeID {
			continue
		}
		oo, err := fhir.UnmarshalOperationOutcome(c)
		if err != nil {
			return nil, err
		}
		return &oo, nil
	}
	return nil, nil
}

// localReferences checks that every local reference ("#id") in an
// AuditEvent's JSON names a contained resource, and that every contained
// resource is referred to (R4 dom-3).
func localReferences(data []byte) error {
	var raw struct {
		Contained []struct {
			ID string `json:"id"`
		} `json:"contained"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	ids := map[string]bool{}
	for i, c := range raw.Contained {
		if c.ID == "" {
			return fmt.Errorf("%w: contained[%d] has no id", ErrInvalid, i)
		}
		ids[c.ID] = false
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := markReferences(doc, ids); err != nil {
		return err
	}
	for id, used := range ids {
		if !used {
			return fmt.Errorf("%w: contained resource %q is not referred to (dom-3)", ErrInvalid, id)
		}
	}
	return nil
}

// markReferences walks decoded JSON outside "contained", marking in ids
// each contained resource a local reference names; a reference to
// anything else is an error.
func markReferences(v any, ids map[string]bool) error {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if k == "contained" {
				continue
			}
			if s, ok := x.(string); ok && k == "reference" && strings.HasPrefix(s, "#") {
				if _, ok := ids[s[1:]]; !ok {
					return fmt.Errorf("%w: reference %q names no contained resource", ErrInvalid, s)
				}
				ids[s[1:]] = true
			}
			if err := markReferences(x, ids); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range t {
			if err := markReferences(x, ids); err != nil {
				return err
			}
		}
	}
	return nil
}
