package investigation

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
)

// AccessReport answers a patient's question "who has looked at my
// record?": every recorded access to one patient's record, refused ones
// included, with who (user, role, organisation), when, why and what.
type AccessReport struct {
	// Patient is the patient the report is about.
	Patient shcrkit.NHSNumber
	// From and To bound the period covered (zero: unbounded).
	From, To time.Time
	// Accesses lists the accesses in sequence order.
	Accesses []Access
	// Organisations summarises the accesses by organisation, busiest
	// first.
	Organisations []OrganisationAccess
	// Refused counts the refused attempts.
	Refused int
}

// Access is one line of an AccessReport.
type Access struct {
	// Seq is the event's sequence number in the log.
	Seq uint64
	// Time is when the access happened.
	Time time.Time
	// UserID and UserName identify the professional.
	UserID, UserName string
	// Role is the role's name, or its code when it has no name.
	Role string
	// Organisation and OrganisationName identify where they work.
	Organisation     shcrkit.ODSCode
	OrganisationName string
	// OnBehalfOf names the person on whose authority they acted, when
	// not themselves.
	OnBehalfOf string
	// System is the product they used.
	System string
	// Action, Service and Resource say what was done to what.
	Action   audit.Action
	Service  audit.Service
	Resource string
	// Custodian is the organisation holding the record.
	Custodian shcrkit.ODSCode
	// Purpose, Relationship and BreakGlassReason say why;
	// RelationshipVerification whether the relationship was verified.
	Purpose                  shcrkit.Purpose
	Relationship             shcrkit.RelationshipKind
	RelationshipVerification string
	BreakGlassReason         string
	// Outcome and Reason say how it ended.
	Outcome audit.Outcome
	Reason  string
	// Kind says whether a service was called or only a decision made
	// (and Rule, which rule made it).
	Kind audit.Kind
	Rule string
}

// OrganisationAccess summarises one organisation's accesses.
type OrganisationAccess struct {
	// Organisation and Name identify the organisation.
	Organisation shcrkit.ODSCode
	Name         string
	// Accesses counts its accesses, Refused those refused, Users the
	// distinct users who made them.
	Accesses, Refused, Users int
	// First and Last are the times of its first and last access.
	First, Last time.Time
}

// NewAccessReport builds the report for patient from events (those about
// other patients are ignored), for the period [from, to).
func NewAccessReport(patient shcrkit.NHSNumber, from, to time.Time, events []audit.Event) *AccessReport {
	r := &AccessReport{Patient: patient, From: from, To: to}
	orgs := map[shcrkit.ODSCode]*OrganisationAccess{}
	users := map[shcrkit.ODSCode]map[string]bool{}
	sorted := slices.Clone(events)
	slices.SortStableFunc(sorted, func(a, b audit.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, e := range sorted {
		if e.Patient != patient {
			continue
		}
		req := e.Requester
		a := Access{
			Seq: e.Seq, Time: e.Time, UserID: req.UserID, UserName: req.Name,
			Role: cmp.Or(req.RoleName, req.RoleCode), Organisation: req.Organisation,
			OrganisationName: req.OrganisationName, System: strings.TrimSpace(req.System.Name + " " + req.System.Version),
			Action: e.Action, Service: e.Service, Resource: e.Resource, Custodian: e.Custodian,
			Purpose: e.Purpose, Relationship: e.Relationship, BreakGlassReason: e.BreakGlassReason,
			RelationshipVerification: e.RelationshipVerification,
			Outcome:                  e.Outcome, Reason: e.Reason, Kind: e.Kind, Rule: e.Rule,
		}
		if o := e.OnBehalfOf; o != nil {
			a.OnBehalfOf = cmp.Or(o.Name, o.UserID)
		}
		r.Accesses = append(r.Accesses, a)
		o := orgs[req.Organisation]
		if o == nil {
			o = &OrganisationAccess{Organisation: req.Organisation, Name: req.OrganisationName, First: e.Time}
			orgs[req.Organisation] = o
			users[req.Organisation] = map[string]bool{}
		}
		o.Accesses++
		if e.Outcome == audit.OutcomeRefused {
			o.Refused++
			r.Refused++
		}
		users[req.Organisation][req.UserID] = true
		o.Users = len(users[req.Organisation])
		if e.Time.Before(o.First) {
			o.First = e.Time
		}
		if e.Time.After(o.Last) {
			o.Last = e.Time
		}
	}
	for _, o := range orgs {
		r.Organisations = append(r.Organisations, *o)
	}
	slices.SortFunc(r.Organisations, func(a, b OrganisationAccess) int {
		if c := cmp.Compare(b.Accesses, a.Accesses); c != 0 {
			return c
		}
		return cmp.Compare(a.Organisation, b.Organisation)
	})
	return r
}

// errNoReader is the error of a query given no audit.Reader.
var errNoReader = fmt.Errorf("%w: no audit trail to read (nil audit.Reader)", audit.ErrInvalidOption)

// QueryAccessReport queries src for every access to patient's record in
// [from, to) (zero times leave that end open), on behalf of reader (an
// audited read), and builds the report.
func QueryAccessReport(ctx context.Context, src audit.Reader, reader shcrkit.Requester, patient shcrkit.NHSNumber, from, to time.Time) (*AccessReport, error) {
	if src == nil {
		return nil, errNoReader
	}
	if patient == "" || !patient.Valid() {
		return nil, fmt.Errorf("%w: the report needs a valid NHS number", audit.ErrInvalidFilter)
	}
	var events []audit.Event
	for e, err := range src.Query(ctx, reader, audit.Filter{Patient: patient, From: from, To: to}) {
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return NewAccessReport(patient, from, to, events), nil
}

// Markdown renders the report as a Markdown document, readable as plain
// text. Times are in UTC.
func (r *AccessReport) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Access to the record of NHS number %s\n\n", r.Patient.Format())
	switch {
	case r.From.IsZero() && r.To.IsZero():
		b.WriteString("Period: all recorded accesses.\n\n")
	case r.To.IsZero():
		fmt.Fprintf(&b, "Period: from %s.\n\n", reportTime(r.From))
	case r.From.IsZero():
		fmt.Fprintf(&b, "Period: until %s.\n\n", reportTime(r.To))
	default:
		fmt.Fprintf(&b, "Period: %s to %s.\n\n", reportTime(r.From), reportTime(r.To))
	}
	fmt.Fprintf(&b, "%s by %s; %s.\n", plural(len(r.Accesses), "access", "accesses"),
		plural(len(r.Organisations), "organisation", "organisations"), plural(r.Refused, "refused attempt", "refused attempts"))
	if len(r.Accesses) == 0 {
		return b.String()
	}
	b.WriteString("\n## By organisation\n\n")
	b.WriteString("| Organisation | Accesses | Refused | Users | First | Last |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, o := range r.Organisations {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %s | %s |\n", cell(named(o.Name, string(o.Organisation))),
			o.Accesses, o.Refused, o.Users, reportTime(o.First), reportTime(o.Last))
	}
	b.WriteString("\n## Accesses\n\n")
	b.WriteString("| Seq | When (UTC) | Who | Organisation | Why | What | Outcome |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, a := range r.Accesses {
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s |\n", a.Seq, reportTime(a.Time), cell(a.who()),
			cell(named(a.OrganisationName, string(a.Organisation))), freeText(a.why()), freeText(a.what()), freeText(a.outcome()))
	}
	return b.String()
}

func (a Access) who() string {
	s := cmp.Or(a.UserName, "user "+a.UserID)
	var extra []string
	if a.Role != "" {
		extra = append(extra, a.Role)
	}
	if a.UserName != "" && a.UserID != "" {
		extra = append(extra, "user "+a.UserID)
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	if a.OnBehalfOf != "" {
		s += " for " + a.OnBehalfOf
	}
	return s
}

func (a Access) why() string {
	var parts []string
	if a.Purpose != shcrkit.PurposeUnspecified {
		parts = append(parts, a.Purpose.String())
	}
	if a.Relationship != shcrkit.RelationshipNone {
		rel := "relationship: " + a.Relationship.String()
		if a.RelationshipVerification != "" {
			rel += " (" + a.RelationshipVerification + ")"
		}
		parts = append(parts, rel)
	}
	if a.BreakGlassReason != "" {
		parts = append(parts, "emergency reason: "+a.BreakGlassReason)
	}
	if len(parts) == 0 {
		return "not stated"
	}
	return strings.Join(parts, "; ")
}

func (a Access) what() string {
	svc := "the " + a.Service.Display()
	held := ""
	if a.Custodian != "" {
		held = " held by " + string(a.Custodian)
	}
	res := a.Resource
	switch a.Action {
	case audit.ActionSearch:
		if a.Service == audit.ServiceAudit {
			return "searched the audit log"
		}
		return strings.TrimSpace("searched "+svc+held) + forType(res)
	case audit.ActionRead:
		return "read " + cmp.Or(res, "a record") + " from " + svc + held
	case audit.ActionCreate:
		return "created " + cmp.Or(res, "a record") + " in " + svc + held
	case audit.ActionUpdate:
		return "updated " + cmp.Or(res, "a record") + " in " + svc + held
	case audit.ActionDelete:
		return "deleted " + cmp.Or(res, "a record") + " from " + svc + held
	case audit.ActionDisclose:
		return "disclosed " + cmp.Or(res, "a record") + " from " + svc + held
	}
	return string(a.Action)
}

func forType(res string) string {
	if res == "" {
		return ""
	}
	t, _, _ := strings.Cut(res, "/")
	return " for " + t
}

func (a Access) outcome() string {
	if a.Reason == "" {
		return string(a.Outcome)
	}
	return string(a.Outcome) + ": " + a.Reason
}

func named(name, code string) string {
	if name == "" {
		return code
	}
	return name + " (" + code + ")"
}

func reportTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

// cellEscaper escapes the characters Markdown reads as markup (angle
// brackets as entities, so that no HTML or autolink survives; links,
// emphasis, code and entities with a backslash) and the cell's
// separator, and flattens line breaks: a cell holds text from elsewhere
// (a requester's name, a remote service's diagnostics, a resource ID),
// and the report goes to a patient, whose portal may render it.
var cellEscaper = strings.NewReplacer(
	"\\", "\\\\", "|", "\\|", "<", "&lt;", ">", "&gt;", "[", "\\[", "]", "\\]",
	"*", "\\*", "_", "\\_", "`", "\\`", "~", "\\~", "&", "\\&",
	"\r\n", " ", "\r", " ", "\n", " ",
)

// cell escapes text for a Markdown table cell.
func cell(s string) string { return cellEscaper.Replace(s) }

// freeText is cell for text written by people or remote services (a
// break-glass reason, a relationship's verification, an outcome's
// reason, a resource ID), with any NHS number in it masked: it may name
// another person, and the report goes to the patient. Identifiers of
// staff (12-digit user IDs) are not free text and stay as they are.
func freeText(s string) string { return cell(shcrkit.MaskNHSNumbers(s)) }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
