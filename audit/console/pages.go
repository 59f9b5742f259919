package console

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/investigation"
)

// view is what every page template gets.
type view struct {
	Title, Page, Base, Viewer, Token string
}

func (c *Console) view(r *http.Request, page, title string) view {
	v := viewerOf(r)
	who := v.Name
	if who == "" {
		who = v.UserID
	}
	return view{Title: title, Page: page, Base: basePath(r), Viewer: who + " (" + string(v.Organisation) + ")", Token: c.formToken(v)}
}

// basePath is where the console is mounted: the part of the request's
// original path that http.StripPrefix took off.
func basePath(r *http.Request) string {
	if r.URL.RawPath != "" || r.RequestURI == "" {
		return ""
	}
	full := r.RequestURI
	if i := strings.IndexByte(full, '?'); i >= 0 {
		full = full[:i]
	}
	return strings.TrimSuffix(strings.TrimSuffix(full, r.URL.Path), "/")
}

// render records the page view and only then writes the page: a view that
// could not be audited is not served.
func (c *Console) render(w http.ResponseWriter, r *http.Request, t *template.Template, data any, page string, patient shcrkit.NHSNumber) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		c.fail(w, http.StatusInternalServerError, "The page could not be built.")
		return
	}
	if err := c.record(r, page, patient); err != nil {
		c.fail(w, http.StatusServiceUnavailable, "The audit trail could not record this page view, so the page is not shown.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

type flagRow struct {
	Kind, Detail, UserID, Patient, Events string
	Organisation                          shcrkit.ODSCode
}

func (c *Console) queue(w http.ResponseWriter, r *http.Request) {
	now := c.cfg.Now()
	flags, err := investigation.QueryReview(r.Context(), c.cfg.Reader, viewerOf(r), audit.Filter{From: now.Add(-c.cfg.Window)}, c.cfg.Review)
	if err != nil {
		c.fail(w, http.StatusServiceUnavailable, "The audit trail could not be read.")
		return
	}
	rows := make([]flagRow, len(flags))
	for i, f := range flags {
		rows[i] = flagRow{Kind: string(f.Kind), Detail: f.Detail, UserID: f.UserID, Organisation: f.Organisation,
			Patient: c.nhs(r, f.Patient), Events: joinSeqs(f.Seqs)}
	}
	data := struct {
		view
		Flags      []flagRow
		WindowDays int
	}{c.view(r, "queue", "Review queue"), rows, int(c.cfg.Window.Hours() / 24)}
	c.render(w, r, queueTmpl, data, "queue", "")
}

func joinSeqs(seqs []uint64) string {
	parts := make([]string, len(seqs))
	for i, s := range seqs {
		parts[i] = strconv.FormatUint(s, 10)
	}
	return strings.Join(parts, ",")
}

func parseSeqs(s string) ([]uint64, error) {
	var out []uint64
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 64)
		if err != nil || n == 0 {
			return nil, errors.New("bad sequence number")
		}
		out = append(out, n)
	}
	return out, nil
}

// openCase opens a case from a flag of the queue. The form names the
// events, not the patient: the casebook finds the patient from the trail,
// so no NHS number travels in the page.
func (c *Console) openCase(w http.ResponseWriter, r *http.Request) {
	if !c.checkForm(r) {
		c.fail(w, http.StatusForbidden, "The form has expired or was not sent by this console. Go back, reload and try again.")
		return
	}
	seqs, err := parseSeqs(r.PostFormValue("seqs"))
	if err != nil || len(seqs) > 1000 {
		c.fail(w, http.StatusBadRequest, "The flag's events could not be read.")
		return
	}
	f := investigation.Flag{Kind: investigation.FlagKind(r.PostFormValue("kind")), UserID: r.PostFormValue("user"),
		Organisation: shcrkit.ODSCode(r.PostFormValue("organisation")), Seqs: seqs}
	ids, err := c.cases.OpenFromFlag(r.Context(), viewerOf(r), f, r.PostFormValue("note"))
	if err != nil || len(ids) == 0 {
		c.stepFailed(w, err)
		return
	}
	http.Redirect(w, r, basePath(r)+"/cases/"+ids[0], http.StatusSeeOther)
}

func (c *Console) stepFailed(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, investigation.ErrCaseClosed):
		c.fail(w, http.StatusConflict, "The case is already closed.")
	case errors.Is(err, investigation.ErrCaseNotFound):
		c.fail(w, http.StatusNotFound, "There is no such case.")
	case errors.Is(err, investigation.ErrOwnAccess):
		c.fail(w, http.StatusForbidden, "The case is about your own accesses: another officer must investigate it.")
	case err == nil || errors.Is(err, investigation.ErrInvalidCase) || errors.Is(err, audit.ErrInvalidEvent) || errors.Is(err, audit.ErrInvalidFilter):
		c.fail(w, http.StatusBadRequest, "The step is not complete: check the form and try again.")
	default:
		c.fail(w, http.StatusServiceUnavailable, "The audit trail could not record the step.")
	}
}

type caseRow struct {
	ID, Patient, Opened, Status, Finding string
	Challenge                            bool
}

func (c *Console) caseList(w http.ResponseWriter, r *http.Request) {
	cases, err := c.cases.Cases(r.Context(), viewerOf(r), "")
	if err != nil {
		c.fail(w, http.StatusServiceUnavailable, "The audit trail could not be read.")
		return
	}
	rows := make([]caseRow, len(cases))
	for i, k := range cases {
		rows[i] = caseRow{ID: k.ID, Patient: c.nhs(r, k.Patient), Opened: k.Opened.UTC().Format("2006-01-02 15:04"),
			Status: string(k.Status), Finding: string(k.Finding), Challenge: k.Challenge}
	}
	data := struct {
		view
		Cases []caseRow
	}{c.view(r, "cases", "Cases"), rows}
	c.render(w, r, casesTmpl, data, "cases", "")
}

type stepRow struct{ When, Step, Who, Note string }

type eventRow struct {
	Seq                                         uint64
	When, Who, Organisation, What, Why, Outcome string
}

type eventTable struct {
	Caption string
	Rows    []eventRow
}

func (c *Console) eventRows(r *http.Request, events []audit.Event) []eventRow {
	rows := make([]eventRow, len(events))
	for i, e := range events {
		who := e.Requester.Name
		if who == "" {
			who = e.Requester.UserID
		}
		what := string(e.Action) + " " + e.Resource
		if e.Custodian != "" {
			what += " held by " + string(e.Custodian)
		}
		why := e.Purpose.String()
		if e.Relationship != shcrkit.RelationshipNone {
			why += ", " + e.Relationship.String()
		}
		outcome := string(e.Outcome)
		if e.Reason != "" && e.Outcome != audit.OutcomeSuccess {
			outcome += ": " + e.Reason
		}
		rows[i] = eventRow{Seq: e.Seq, When: e.Time.UTC().Format("2006-01-02 15:04"), Who: who,
			Organisation: string(e.Requester.Organisation), What: c.maskText(r, what), Why: why, Outcome: c.maskText(r, outcome)}
	}
	return rows
}

// maskText masks NHS numbers in free text for viewers who may not see
// them.
func (c *Console) maskText(r *http.Request, s string) string {
	if c.cfg.CanSeeNHSNumbers(viewerOf(r)) {
		return s
	}
	return shcrkit.MaskNHSNumbers(s)
}

func (c *Console) showCase(w http.ResponseWriter, r *http.Request) {
	k, err := c.cases.Case(r.Context(), viewerOf(r), r.PathValue("id"))
	if err != nil {
		c.stepFailed(w, err)
		return
	}
	steps := make([]stepRow, len(k.Steps))
	for i, s := range k.Steps {
		steps[i] = stepRow{When: s.Time.UTC().Format("2006-01-02 15:04"), Step: string(s.Investigation.Step),
			Who: s.Requester.Name, Note: c.maskText(r, s.Investigation.Note)}
		if s.Investigation.Finding != "" {
			steps[i].Step += " (" + string(s.Investigation.Finding) + ")"
		}
	}
	type caseView struct {
		caseRow
		Steps []stepRow
	}
	data := struct {
		view
		Case   caseView
		Events eventTable
		Open   bool
	}{
		view: c.view(r, "cases", "Case "+k.ID),
		Case: caseView{caseRow{ID: k.ID, Patient: c.nhs(r, k.Patient), Opened: k.Opened.UTC().Format("2006-01-02 15:04"),
			Status: string(k.Status), Finding: string(k.Finding), Challenge: k.Challenge}, steps},
		Events: eventTable{Caption: "Events of the audit trail the case is about", Rows: c.eventRows(r, k.Events)},
		Open:   k.Closed.IsZero(),
	}
	c.render(w, r, caseTmpl, data, "case", k.Patient)
}

func (c *Console) stepCase(w http.ResponseWriter, r *http.Request) {
	if !c.checkForm(r) {
		c.fail(w, http.StatusForbidden, "The form has expired or was not sent by this console. Go back, reload and try again.")
		return
	}
	id, note, viewer := r.PathValue("id"), r.PostFormValue("note"), viewerOf(r)
	var err error
	switch r.PathValue("step") {
	case "acknowledge":
		err = c.cases.Acknowledge(r.Context(), viewer, id, note)
	case "note":
		err = c.cases.Note(r.Context(), viewer, id, note)
	case "close":
		err = c.cases.Close(r.Context(), viewer, id, investigation.Finding(r.PostFormValue("finding")), note)
	default:
		c.fail(w, http.StatusNotFound, "There is no such step.")
		return
	}
	if err != nil {
		c.stepFailed(w, err)
		return
	}
	http.Redirect(w, r, basePath(r)+"/cases/"+id, http.StatusSeeOther)
}

// patient shows the access report form (GET) and, for a number posted
// with it, the report. The number travels in the form's body, never in a
// URL.
func (c *Console) patient(w http.ResponseWriter, r *http.Request) {
	data := struct {
		view
		Report           bool
		Patient, Summary string
		Problem          string
		Events           eventTable
	}{view: c.view(r, "patient", "Patient access report")}
	var subject shcrkit.NHSNumber
	if r.Method == http.MethodPost {
		if !c.checkForm(r) {
			c.fail(w, http.StatusForbidden, "The form has expired or was not sent by this console. Go back, reload and try again.")
			return
		}
		nhs, err := shcrkit.ParseNHSNumber(r.PostFormValue("nhs"))
		if err != nil {
			data.Problem = "That is not a valid NHS number."
		} else {
			var events []audit.Event
			for e, err := range c.cfg.Reader.Query(r.Context(), viewerOf(r), audit.Filter{Patient: nhs}) {
				if err != nil {
					c.fail(w, http.StatusServiceUnavailable, "The audit trail could not be read.")
					return
				}
				// Only this patient's: the table must agree with the
				// summary, whatever the Reader answered.
				if e.Service != audit.ServiceAudit && e.Patient == nhs {
					events = append(events, e)
				}
			}
			report := investigation.NewAccessReport(nhs, time.Time{}, time.Time{}, events)
			subject = nhs
			data.Report, data.Patient = true, c.nhs(r, nhs)
			data.Summary = fmt.Sprintf("%d accesses by %d organisations; %d refused attempts.", len(report.Accesses), len(report.Organisations), report.Refused)
			data.Events = eventTable{Caption: "Every access to the record, allowed or refused", Rows: c.eventRows(r, events)}
		}
	}
	c.render(w, r, patientTmpl, data, "patient", subject)
}

func (c *Console) verify(w http.ResponseWriter, r *http.Request) {
	data := struct {
		view
		Unavailable, OK bool
		At, Problem     string
	}{view: c.view(r, "verify", "Audit trail verification"), At: c.cfg.Now().UTC().Format("2006-01-02 15:04:05")}
	if c.cfg.Verifier == nil {
		data.Unavailable = true
	} else if err := c.cfg.Verifier.Verify(r.Context()); err != nil {
		data.Problem = c.maskText(r, err.Error())
	} else {
		data.OK = true
	}
	c.render(w, r, verifyTmpl, data, "verify", "")
}
