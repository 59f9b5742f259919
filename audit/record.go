package audit

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/shcrkit/shcrkit"
)

// appendEventBody appends the JSON encoding of a normalised event without
// its seq and recorded time (the log splices those in front when it
// commits). The output is byte for byte what encoding/json produces for
// Event, field order and escaping included, so that a record decodes
// with encoding/json and reads the same to anyone; writing it by hand
// keeps the cost of an event small on the write path.
func appendEventBody(b []byte, e *Event) []byte {
	b = append(b, `{"time":`...)
	b = appendTime(b, e.Time)
	b = appendRequester(b, &e.Requester)
	b = appendOpt(b, "userFamily", e.UserFamily)
	if a := e.OnBehalfOf; a != nil {
		b = append(b, `,"onBehalfOf":{"userId":`...)
		b = appendString(b, a.UserID)
		b = appendOpt(b, "name", a.Name)
		b = appendOpt(b, "roleProfileId", a.RoleProfileID)
		b = appendOpt(b, "roleCode", a.RoleCode)
		b = appendOpt(b, "organisation", string(a.Organisation))
		b = append(b, '}')
	}
	b = append(b, `,"action":`...)
	b = appendString(b, string(e.Action))
	b = append(b, `,"service":`...)
	b = appendString(b, string(e.Service))
	b = appendOpt(b, "resource", e.Resource)
	b = appendOpt(b, "query", e.Query)
	b = appendOpt(b, "endpoint", e.Endpoint)
	b = appendOpt(b, "patient", string(e.Patient))
	b = appendOpt(b, "patientFamily", e.PatientFamily)
	if e.Purpose != 0 {
		b = appendOpt(b, "purpose", e.Purpose.ActReason())
	}
	if e.Relationship != shcrkit.RelationshipNone {
		b = appendOpt(b, "relationship", e.Relationship.String())
	}
	b = appendOpt(b, "relationshipEvidence", e.RelationshipEvidence)
	b = appendOpt(b, "relationshipVerification", e.RelationshipVerification)
	b = appendOpt(b, "adHocSharing", e.AdHocSharing)
	b = appendOpt(b, "breakGlassReason", e.BreakGlassReason)
	b = appendOpt(b, "rule", e.Rule)
	b = append(b, `,"outcome":`...)
	b = appendString(b, string(e.Outcome))
	b = appendOpt(b, "errorCode", e.ErrorCode)
	b = appendOpt(b, "reason", e.Reason)
	b = appendOpt(b, "requestId", e.RequestID)
	b = appendOpt(b, "correlationId", e.CorrelationID)
	b = appendOpt(b, "custodian", string(e.Custodian))
	if inv := e.Investigation; inv != nil {
		b = appendInvestigation(b, inv)
	}
	b = appendOpt(b, "kind", string(e.Kind))
	b = appendOpt(b, "decisionId", e.DecisionID)
	b = appendOpt(b, "policy", e.Policy)
	b = appendOpt(b, "clientAddress", e.ClientAddress)
	b = appendOpt(b, "serverAddress", e.ServerAddress)
	b = appendOpt(b, "request", e.Request)
	if e.Confidentiality != shcrkit.ConfidentialityUnrestricted {
		b = appendOpt(b, "confidentiality", e.Confidentiality.Code())
	}
	return append(b, '}')
}

// appendInvestigation appends the investigation field as encoding/json
// writes it.
func appendInvestigation(b []byte, inv *Investigation) []byte {
	b = append(b, `,"investigation":{"case":`...)
	b = appendString(b, inv.Case)
	b = append(b, `,"step":`...)
	b = appendString(b, string(inv.Step))
	if len(inv.Concerns) > 0 {
		b = append(b, `,"concerns":[`...)
		for i, s := range inv.Concerns {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, s, 10)
		}
		b = append(b, ']')
	}
	b = appendOpt(b, "finding", string(inv.Finding))
	b = appendOpt(b, "note", inv.Note)
	return append(b, '}')
}

func appendOpt(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes that encoding/json writes as they are.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it (HTML-safe, U+2028 and U+2029 escaped).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendRequester appends the requester member of an event's JSON.
func appendRequester(b []byte, r *shcrkit.Requester) []byte {
	b = append(b, `,"requester":{"userId":`...)
	b = appendString(b, r.UserID)
	if r.Name != "" {
		b = append(b, `,"name":`...)
		b = appendString(b, r.Name)
	}
	b = append(b, `,"roleProfileId":`...)
	b = appendString(b, r.RoleProfileID)
	b = append(b, `,"roleCode":`...)
	b = appendString(b, r.RoleCode)
	if r.RoleName != "" {
		b = append(b, `,"roleName":`...)
		b = appendString(b, r.RoleName)
	}
	if len(r.Activities) > 0 {
		b = append(b, `,"activities":[`...)
		for i, a := range r.Activities {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, a)
		}
		b = append(b, ']')
	}
	b = append(b, `,"organisation":`...)
	b = appendString(b, string(r.Organisation))
	if r.OrganisationName != "" {
		b = append(b, `,"organisationName":`...)
		b = appendString(b, r.OrganisationName)
	}
	if r.AssuranceLevel != 0 {
		b = append(b, `,"assuranceLevel":`...)
		b = strconv.AppendInt(b, int64(r.AssuranceLevel), 10)
	}
	b = append(b, `,"system":{"name":`...)
	b = appendString(b, r.System.Name)
	if r.System.Version != "" {
		b = append(b, `,"version":`...)
		b = appendString(b, r.System.Version)
	}
	if r.System.ASID != "" {
		b = append(b, `,"asid":`...)
		b = appendString(b, r.System.ASID)
	}
	b = append(b, "}}"...)
	return b
}
