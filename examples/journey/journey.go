package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/investigation"
	"github.com/shcrkit/shcrkit/examples/internal/cli"
	"github.com/shcrkit/shcrkit/examples/internal/shcrprovider"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"golang.org/x/oauth2"
)

// journey holds what one run sets up, and closes it.
type journey struct {
	out     io.Writer
	flags   *flags
	start   time.Time
	step    int
	closers []func()

	world     *shcrtest.World
	log       *audit.Log
	trail     *trail
	alerts    []shcr.Alert
	requester shcrkit.Requester
	client    *shcr.Client
	policy    *rbac.Policy
	// provider is Brackenfield's audit trail, with -provider.
	provider *memoryTrail
	// relationship is the kind claimed in the main journey.
	relationship shcrkit.RelationshipKind
}

func (j *journey) close() {
	for i := len(j.closers) - 1; i >= 0; i-- {
		j.closers[i]()
	}
}

// progress prints one numbered step with the time it took.
func (j *journey) progress(what string, since time.Time) {
	j.step++
	fmt.Fprintf(j.out, "%2d  %-62s %8s\n", j.step, what, ms(time.Since(since)))
}

func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

func (j *journey) run(ctx context.Context) error {
	fmt.Fprintln(j.out, "shcrkit journey: a clinician treats a patient from another region")
	fmt.Fprintln(j.out)
	if err := j.setUp(); err != nil {
		return err
	}
	req, err := j.request()
	if err != nil {
		return err
	}

	// The journey itself: every step below is audited before anything is
	// handed back, and the progress lines are printed from the audit log.
	ctx = shcrkit.WithCorrelationID(ctx, uuid.NewString())
	res, err := j.retrieve(ctx, req)
	if err != nil {
		return err
	}
	nhs := req.NHSNumber
	if res != nil {
		defer res.Close()
		nhs = res.Patient.NHSNumber
	}

	if j.world != nil {
		if err := j.unverifiedReferral(ctx, nhs, req.Purpose); err != nil {
			return err
		}
	}

	if j.provider != nil {
		j.printProvider()
	}

	// What a privacy officer and the patient can see afterwards.
	report, err := j.accessReport(ctx, nhs)
	if err != nil {
		return err
	}
	return j.signCheckpoint(ctx, report)
}

// request is the clinician's request from the flags, printed before it
// is made.
func (j *journey) request() (shcr.Request, error) {
	nhs, err := j.patient()
	if err != nil {
		return shcr.Request{}, err
	}
	purpose, err := shcrkit.ParsePurpose(j.flags.purpose)
	if err != nil {
		return shcr.Request{}, err
	}
	rel, err := relationship(j.flags)
	if err != nil {
		return shcr.Request{}, err
	}
	fmt.Fprintf(j.out, "    %s (%s, %s) at %s (%s)\n    patient %s, purpose %s, relationship %s\n\n",
		j.requester.Name, j.requester.JobRole(), j.requester.RoleName, j.requester.OrganisationName,
		j.requester.Organisation, nhs.Format(), purpose, rel.Kind)
	return shcr.Request{Requester: j.requester, NHSNumber: nhs, Purpose: purpose, Relationship: rel}, nil
}

// retrieve makes the request and prints what came back: the records, or
// the refusal. It returns no result, and no error, when the request was
// refused; the caller closes a result.
func (j *journey) retrieve(ctx context.Context, req shcr.Request) (*shcr.Result, error) {
	began := time.Now()
	j.trail.begin(began)
	j.relationship = req.Relationship.Kind
	res, err := j.client.Records(ctx, req)
	var refused *shcr.RefusedError
	switch {
	case errors.As(err, &refused):
		// A refusal is an answer, audited like any other.
		j.progress("journey: refused at the boundary", began)
		j.trail.print(j.out)
		fmt.Fprintf(j.out, "\n    refused by %s: %s\n\n", refused.Decision.Rule, refused.Decision.Reason())
		return nil, nil
	case err != nil:
		return nil, err
	}
	sizes := drain(res)
	j.progress("journey: trace, locate, decide, retrieve in parallel, audit", began)
	j.trail.print(j.out)
	fmt.Fprintln(j.out)
	j.printResult(res, sizes)
	return res, nil
}

// accessReport prints the patient access report: who looked at the
// record, and why.
func (j *journey) accessReport(ctx context.Context, nhs shcrkit.NHSNumber) (*investigation.AccessReport, error) {
	t := time.Now()
	report, err := investigation.QueryAccessReport(ctx, j.log, j.requester, nhs, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	j.progress("patient access report: who looked at this record, and why", t)
	fmt.Fprintln(j.out)
	j.printReport(report)
	return report, nil
}

// signCheckpoint verifies the whole audit log, signs a checkpoint of it
// and prints what a witness elsewhere would keep.
func (j *journey) signCheckpoint(ctx context.Context, report *investigation.AccessReport) error {
	t := time.Now()
	if err := j.log.Verify(ctx); err != nil {
		return fmt.Errorf("the audit log does not verify: %w", err)
	}
	cp, err := j.log.SignCheckpoint(ctx)
	if err != nil {
		return err
	}
	j.progress(fmt.Sprintf("audit log verified: %d events, checkpoint signed", cp.Size), t)
	fmt.Fprintln(j.out)
	j.explainCount(report, cp.Size)
	fmt.Fprintln(j.out, "    signed checkpoint: a witness elsewhere can hold the log to this")
	fmt.Fprintln(j.out)
	fmt.Fprint(indent(j.out, "    "), string(cp.Signed))
	fmt.Fprintf(j.out, "\n    verifier key: %s\n", j.log.VerifierKey())
	if j.flags.auditDir != "" {
		fmt.Fprintf(j.out, "    log: %s (check it with go run ./examples/audit-verify)\n", j.flags.auditDir)
	} else {
		fmt.Fprintln(j.out, "    log: a temporary directory, removed on exit (keep it with -audit-dir)")
	}
	return nil
}

// setUp starts the fake world or connects to the real services, and opens
// the audit log.
func (j *journey) setUp() error {
	t := time.Now()
	var cfg shcr.Config
	var err error
	if j.flags.pdsURL == "" {
		if j.flags.latency < 0 {
			return fmt.Errorf("negative latency %s", j.flags.latency)
		}
		j.world, err = shcrtest.NewWorld()
		if err != nil {
			return err
		}
		j.world.SetLatency(j.flags.latency)
		j.closers = append(j.closers, j.world.Close)
		j.requester = j.world.Requester
		j.progress(fmt.Sprintf("fake world started: PDS, NRL, %d regional ShCRs, token endpoint", len(j.world.Regions)), t)
	} else {
		if cfg, err = realConfig(j.flags); err != nil {
			return err
		}
		j.progress("connected to PDS and NRL, directory loaded", t)
	}
	if j.flags.requester != "" {
		if j.requester, err = cli.LoadRequester(j.flags.requester); err != nil {
			return err
		}
	}

	t = time.Now()
	dir := j.flags.auditDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "shcrkit-journey-audit-"); err != nil {
			return err
		}
		j.closers = append(j.closers, func() { os.RemoveAll(dir) })
	}
	if j.log, err = audit.OpenLog(dir, audit.WithOrigin("journey.shcrkit.example")); err != nil {
		return err
	}
	j.closers = append(j.closers, func() { j.log.Close() })
	j.progress("audit log opened (tamper-evident, signed checkpoints)", t)

	sink := &trail{next: j.log}
	j.trail = sink
	alert := func(_ context.Context, a shcr.Alert) error {
		j.alerts = append(j.alerts, a)
		return nil
	}
	if j.world != nil {
		policy := j.world.Policy
		if j.flags.policy != "" {
			if policy, err = rbac.LoadPolicyFile(j.flags.policy); err != nil {
				return err
			}
		}
		var dir *shcr.Directory
		if j.flags.provider {
			if policy, dir, err = j.startProvider(policy); err != nil {
				return err
			}
		}
		j.policy = policy
		j.client, err = j.world.Client(sink, func(c *shcr.Config) {
			c.Policy, c.Alert = policy, alert
			if dir != nil {
				c.Directory = dir
			}
		})
		return err
	}
	cfg.Audit, cfg.Alert = sink, alert
	j.policy = cfg.Policy
	j.client, err = shcr.New(cfg)
	return err
}

func (j *journey) patient() (shcrkit.NHSNumber, error) {
	if j.flags.patient == "" {
		return pdstest.Patients.Normal, nil
	}
	return shcrkit.ParseNHSNumber(j.flags.patient)
}

func relationship(f *flags) (rbac.Relationship, error) {
	kinds := map[string]shcrkit.RelationshipKind{
		"registered": shcrkit.RelationshipRegistered, "referral": shcrkit.RelationshipReferral,
		"encounter": shcrkit.RelationshipEncounter, "care-team": shcrkit.RelationshipCareTeam,
		"self-claimed": shcrkit.RelationshipSelfClaimed, "emergency": shcrkit.RelationshipEmergency,
	}
	k, ok := kinds[f.relationship]
	if !ok {
		return rbac.Relationship{}, fmt.Errorf("-relationship %q is not one of registered, referral, encounter, care-team, self-claimed, emergency", f.relationship)
	}
	return rbac.Relationship{Kind: k, Reason: f.reason, Evidence: f.evidence}, nil
}

// realConfig builds the journey's clients for real services.
func realConfig(f *flags) (shcr.Config, error) {
	var cfg shcr.Config
	ods, err := shcrkit.ParseODSCode(f.ods)
	if err != nil {
		return cfg, err
	}
	popts := []pds.Option{pds.WithEndUserOrganisation(ods), pds.WithAccessMode(pds.AccessHealthcareWorker)}
	nopts := []nrls.Option{nrls.WithEndUserOrganisation(ods)}
	if f.token != "" {
		ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: f.token})
		popts = append(popts, pds.WithTokenSource(ts))
		nopts = append(nopts, nrls.WithTokenSource(ts))
	}
	if cfg.PDS, err = pds.NewClient(f.pdsURL, popts...); err != nil {
		return cfg, err
	}
	if cfg.NRL, err = nrls.NewClient(f.nrlURL, nopts...); err != nil {
		return cfg, err
	}
	if cfg.Directory, err = shcr.LoadDirectory(f.directory); err != nil {
		return cfg, err
	}
	cfg.Policy, err = rbac.LoadPolicyFile(f.policy)
	return cfg, err
}

// drain reads every attachment, as an application would show it, and
// returns the bytes read per pointer.
func drain(res *shcr.Result) map[string]int64 {
	sizes := make(map[string]int64)
	for _, r := range res.Records {
		if r.Body != nil {
			n, _ := io.Copy(io.Discard, r.Body)
			sizes[r.Pointer.ID] = n
		} else {
			sizes[r.Pointer.ID] = int64(len(r.Resource))
		}
	}
	return sizes
}

func (j *journey) printResult(res *shcr.Result, sizes map[string]int64) {
	p := res.Patient
	name, born := "-", "-"
	if p.Record != nil {
		if n, ok := p.Record.UsualName(); ok {
			name = n.String()
		}
		if b := p.Record.BirthDate(); b != "" {
			born = b
		}
	}
	fmt.Fprintf(j.out, "    patient   %s  %s, born %s, confidentiality %s\n", p.NHSNumber.Format(), name, born, p.Confidentiality)
	if p.Superseded != "" {
		fmt.Fprintf(j.out, "              (asked for superseded number %s)\n", p.Superseded.Format())
	}
	fmt.Fprintf(j.out, "    boundary  %s\n", verdict(res.Boundary))
	fmt.Fprintf(j.out, "    relationship  %s, %s\n\n", j.relationship, res.Boundary.Verification)

	tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    POINTER\tHELD BY\tRECORD TYPE\tDECISION\tRESULT")
	got := map[string]*shcr.Record{}
	for _, r := range res.Records {
		got[r.Pointer.ID] = r
	}
	failed := map[string]error{}
	for _, f := range res.Failures {
		failed[f.Pointer.ID] = f.Err
	}
	for _, c := range res.Pointers {
		result := "-"
		if r, ok := got[c.Pointer.ID]; ok {
			what := r.ContentType
			if r.ResourceType != "" {
				what = r.ResourceType
			}
			result = fmt.Sprintf("retrieved %s, %d bytes", what, sizes[c.Pointer.ID])
			if len(r.Redacted) > 0 {
				result += ", redacted " + strings.Join(r.Redacted, ", ")
			}
		} else if err, ok := failed[c.Pointer.ID]; ok {
			result = "failed: " + err.Error()
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", c.Pointer.ID, c.Pointer.Custodian, short(c.Pointer.Type.Display), verdict(c.Decision), result)
	}
	for _, r := range res.Refused {
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", r.Pointer.ID, r.Pointer.Custodian, short(r.Pointer.Type.Display), "refused by "+r.Decision.Rule, r.Decision.Reason())
	}
	_ = tw.Flush()
	for _, pr := range res.Problems {
		fmt.Fprintf(j.out, "    left out of the index answer: %s\n", pr)
	}
	for _, a := range j.alerts {
		fmt.Fprintf(j.out, "    alert to privacy officers (%s): %s\n", a.Activity, a.Rule)
	}
	fmt.Fprintf(j.out, "\n    %d retrieved, %d refused, %d failed\n\n", len(res.Records), len(res.Refused), len(res.Failures))
}

// explainCount says why the log holds more events than the report shows:
// the report's own read of the log was audited after it was drawn up.
func (j *journey) explainCount(r *investigation.AccessReport, size uint64) {
	var last uint64
	for _, a := range r.Accesses {
		last = max(last, a.Seq)
	}
	if last >= size {
		return
	}
	if size == last+1 && uint64(len(r.Accesses)) == last {
		fmt.Fprintf(j.out, "    the %d events in the report above, and event %d: the report's own read of the log\n"+
			"    (reading who looked at a record is itself audited)\n\n", last, size)
		return
	}
	fmt.Fprintf(j.out, "    events %d to %d came after the report was drawn up; the last is the report's own read\n"+
		"    of the log (reading who looked at a record is itself audited)\n\n", last+1, size)
}

// shownOutcome is an event's outcome as shown: a search whose answer was
// withheld because of an earlier step (a boundary decision that refused)
// succeeded at the NRL, but nothing it found was handed back.
func shownOutcome(e audit.Outcome, reason string) string {
	if e == audit.OutcomeSuccess && strings.Contains(reason, "results withheld") {
		return "withheld"
	}
	return string(e)
}

// printReport prints the patient access report compactly: who, from
// where, what and with which outcome; the full report is Markdown
// (investigation.AccessReport.Markdown).
func (j *journey) printReport(r *investigation.AccessReport) {
	for _, o := range r.Organisations {
		fmt.Fprintf(j.out, "    %s (%s): %d accesses by %d user(s), %d refused\n", o.Name, o.Organisation, o.Accesses, o.Users, o.Refused)
	}
	tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    SEQ\tWHEN (UTC)\tWHO\tWHY\tSTEP\tWHAT\tOUTCOME")
	for _, a := range r.Accesses {
		what := string(a.Action) + " " + a.Resource
		if a.Custodian != "" {
			what += " @" + string(a.Custodian)
		}
		step, _, _ := strings.Cut(a.Reason, ":")
		why := a.Purpose.String()
		if a.RelationshipVerification != "" {
			// Decisions record whether the relationship was verified, by
			// which verifier (the evidence is in the full report).
			outcome, _, _ := strings.Cut(a.RelationshipVerification, ":")
			why += ", " + a.Relationship.String() + " " + outcome
		}
		fmt.Fprintf(tw, "    %d\t%s\t%s (%s)\t%s\t%s\t%s\t%s\n", a.Seq, a.Time.UTC().Format("15:04:05"), a.UserName, a.Role,
			why, step, shcrkit.MaskNHSNumbers(what), shownOutcome(a.Outcome, a.Reason))
	}
	_ = tw.Flush()
	fmt.Fprintln(j.out)
}

func verdict(d rbac.Decision) string {
	if d.Allowed {
		return "allowed by " + d.Rule
	}
	return "refused by " + d.Rule + ": " + d.Reason()
}

// short keeps a display name to one column's width.
func short(s string) string {
	const max = 32
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

// trail is the audit sink of the journey: it writes each event to the log
// and notes when it was written, so that the steps can be shown with their
// times once the journey is done.
type trail struct {
	next  audit.Sink
	mu    sync.Mutex
	start time.Time
	lines []trailLine
}

type trailLine struct {
	at time.Duration
	e  audit.Event
}

var _ audit.Sink = (*trail)(nil)

func (t *trail) begin(at time.Time) {
	t.mu.Lock()
	t.start, t.lines = at, nil
	t.mu.Unlock()
}

// Write implements audit.Sink: durable in the log first, then noted.
func (t *trail) Write(ctx context.Context, e audit.Event) error {
	if err := t.next.Write(ctx, e); err != nil {
		return err
	}
	t.mu.Lock()
	t.lines = append(t.lines, trailLine{at: time.Since(t.start), e: e})
	t.mu.Unlock()
	return nil
}

func (t *trail) snapshot() []trailLine {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]trailLine(nil), t.lines...)
}

func (t *trail) print(w io.Writer) {
	lines := t.snapshot()
	sort.SliceStable(lines, func(a, b int) bool { return lines[a].at < lines[b].at })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    AT\tSERVICE\tACTION\tRESOURCE\tOUTCOME\tAUDITED STEP")
	for _, l := range lines {
		step, _, _ := strings.Cut(l.e.Reason, ":")
		res := l.e.Resource
		if l.e.Custodian != "" {
			res += " @" + string(l.e.Custodian)
		}
		fmt.Fprintf(tw, "    +%s\t%s\t%s\t%s\t%s\t%s\n", ms(l.at), l.e.Service, l.e.Action, shcrkit.MaskNHSNumbers(res), shownOutcome(l.e.Outcome, l.e.Reason), step)
	}
	_ = tw.Flush()
}

// indent prefixes every line written to w.
func indent(w io.Writer, prefix string) io.Writer { return &indenter{w: w, prefix: prefix, bol: true} }

type indenter struct {
	w      io.Writer
	prefix string
	bol    bool
}

func (in *indenter) Write(p []byte) (int, error) {
	for i, c := range p {
		if in.bol {
			if _, err := io.WriteString(in.w, in.prefix); err != nil {
				return i, err
			}
			in.bol = false
		}
		if _, err := in.w.Write([]byte{c}); err != nil {
			return i, err
		}
		in.bol = c == '\n'
	}
	return len(p), nil
}

// startProvider starts Brackenfield beside the world for the patient and
// returns the consumer's policy and directory that include it (the
// policy from -policy is kept as it is).
func (j *journey) startProvider(policy *rbac.Policy) (*rbac.Policy, *shcr.Directory, error) {
	t := time.Now()
	nhs, err := j.patient()
	if err != nil {
		return nil, nil, err
	}
	j.provider = &memoryTrail{}
	att, err := shcrprovider.Attach(context.Background(), j.world, j.provider, nhs)
	if err != nil {
		return nil, nil, err
	}
	j.closers = append(j.closers, att.Server.Close)
	if j.flags.policy == "" {
		policy = att.Policy
	}
	j.progress(fmt.Sprintf("provider %s (%s) started behind its guard, %d pointers published", shcrprovider.Name,
		shcrprovider.Custodian, len(att.Server.Pointers())), t)
	return policy, att.Directory, nil
}

// printProvider prints Brackenfield's trail of incoming requests, each
// joined to the journey's own event by request ID.
func (j *journey) printProvider() {
	ours := map[string]audit.Event{}
	for _, l := range j.trail.snapshot() {
		if l.e.RequestID != "" && l.e.Kind != audit.KindDecision {
			ours[l.e.RequestID] = l.e
		}
	}
	events := j.provider.events()
	fmt.Fprintf(j.out, "    %s's own audit trail: %d incoming requests\n", shcrprovider.Name, len(events))
	tw := tabwriter.NewWriter(j.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    REQUEST ID\tACTION\tRESOURCE\tOUTCOME\tRULE\tJOINED TO THE JOURNEY'S")
	for _, e := range events {
		joined := "no event"
		if c, ok := ours[e.RequestID]; ok {
			joined = string(c.Action) + " " + c.Resource + " " + string(c.Outcome)
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%s\n", e.RequestID, e.Action, e.Resource, e.Outcome, e.Rule, joined)
	}
	_ = tw.Flush()
	fmt.Fprintln(j.out)
}

// memoryTrail is an audit sink that keeps events in memory, for the
// example provider's trail.
type memoryTrail struct {
	mu sync.Mutex
	ev []audit.Event
}

var _ audit.Sink = (*memoryTrail)(nil)

// Write implements audit.Sink.
func (m *memoryTrail) Write(_ context.Context, e audit.Event) error {
	e, err := e.Normalize(time.Now())
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.ev = append(m.ev, e)
	m.mu.Unlock()
	return nil
}

func (m *memoryTrail) events() []audit.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Event(nil), m.ev...)
}

// unverifiedReferral runs a second journey for the same patient on a
// referral that the department's records hold for another organisation:
// the policy requires referrals to be verified, so it is refused at the
// boundary, and the refusal says what was missing.
func (j *journey) unverifiedReferral(ctx context.Context, nhs shcrkit.NHSNumber, purpose shcrkit.Purpose) error {
	const ref = "ServiceRequest/ers-4521"
	if err := j.world.Evidence.Add(shcr.Evidence{Kind: shcrkit.RelationshipReferral, Reference: ref, Patient: nhs,
		Organisations: []shcrkit.ODSCode{"Y20001"}, Status: "active", Active: true}); err != nil {
		return err
	}
	began := time.Now()
	_, err := j.client.Discover(ctx, shcr.Request{Requester: j.requester, NHSNumber: nhs, Purpose: purpose,
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipReferral, Evidence: ref}})
	var refused *shcr.RefusedError
	if !errors.As(err, &refused) {
		return fmt.Errorf("the journey on an unverifiable referral was not refused: %v", err)
	}
	j.progress("second journey: a referral that cannot be verified", began)
	fmt.Fprintf(j.out, "    relationship  referral %s, %s\n", ref, refused.Decision.Verification)
	fmt.Fprintf(j.out, "    boundary      refused by %s: %s\n\n", refused.Decision.Rule, refused.Decision.Reason())
	return nil
}
