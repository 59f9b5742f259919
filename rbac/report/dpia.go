package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/rbac/internal/policyview"
)

// DPIA is a starting point for the data protection impact assessment of
// cross-boundary sharing: the data flows, and the risks with the controls
// that mitigate them, drawn from the policy that is enforced and from the
// controls the SDK applies whatever the policy says. An IG lead completes
// and signs it; it does not replace their judgement.
type DPIA struct {
	// Policy is the policy's name, and AsOf the day it describes.
	Policy, AsOf string
	// Flows are the data flows of one access.
	Flows []DataFlow
	// Risks are the risks to individuals, each with its mitigations.
	Risks []Risk
}

// DataFlow is one movement of personal data.
type DataFlow struct {
	// Step names the step of the journey.
	Step string
	// From and To are the systems the data moves between.
	From, To string
	// Data is what moves.
	Data string
}

// Risk is a risk to individuals, how likely and severe it is before the
// controls, and the controls that mitigate it.
type Risk struct {
	// Risk describes what could go wrong.
	Risk string
	// Likelihood and Severity before the controls: remote, possible or
	// probable; minimal, significant or severe (the ICO's scale).
	Likelihood, Severity string
	// Mitigations are the controls, from the policy and the SDK.
	Mitigations []string
	// Residual is the risk left after the controls: low, medium or high.
	Residual string
}

// NewDPIA builds the impact assessment starter for the policy as of t.
func NewDPIA(p *rbac.Policy, t time.Time) DPIA {
	v := policyview.Of(p)
	remote := make([]string, 0, len(v.Remotes))
	for _, r := range v.Remotes {
		remote = append(remote, r.Name)
	}
	measures := v.SecurityMeasures
	local := v.LocalName + " users' system"
	d := DPIA{Policy: p.Name(), AsOf: t.In(v.Location).Format(time.DateOnly)}
	d.Flows = []DataFlow{
		{Step: "Trace", From: "Personal Demographics Service", To: local, Data: "NHS number, name, date of birth, address, GP practice, confidentiality label"},
		{Step: "Locate", From: "National Record Locator", To: local, Data: "Pointers: which organisation holds which kind of record for the NHS number"},
		{Step: "Retrieve", From: strings.Join(remote, ", "), To: local, Data: "The records the policy allows, for display to the professional"},
		{Step: "Audit", From: local, To: "Tamper-evident audit trail (and each custodian's own audit)", Data: "Who looked, at what, when, why, and the outcome; identifiers only, no clinical content"},
	}
	d.Risks = []Risk{
		{Risk: "A professional looks at a record without a reason to (curiosity, a relative, a neighbour).", Likelihood: "possible", Severity: "significant",
			Mitigations: append(pick(measures, "legitimate relationship", "Role-based"),
				"Every access is audited before data is shown; review flags find same-surname, own-record, out-of-hours and unusual-volume access; privacy officers investigate cases and patients can challenge."),
			Residual: "low"},
		{Risk: "Records of the wrong patient are shown (a superseded or merged NHS number, a pointer for another patient).", Likelihood: "remote", Severity: "severe",
			Mitigations: []string{"The SDK resolves superseded NHS numbers through PDS and drops any pointer whose subject is not the traced patient.",
				"Pointers with unreadable confidentiality labels are treated as very restricted."},
			Residual: "low"},
		{Risk: "A sensitive record (restricted patient, sealed or sensitive category) reaches someone who should not see it.", Likelihood: "possible", Severity: "severe",
			Mitigations: pick(measures, "restricted", "dissent"), Residual: "low"},
		{Risk: "Sharing continues after an agreement lapses, or goes beyond its purposes or data.", Likelihood: "possible", Severity: "significant",
			Mitigations: append(pick(measures, "information sharing agreement"),
				"Agreements that have ended are inactive without stopping the rest; the policy lists agreements due for review or ending."),
			Residual: "low"},
		{Risk: "The audit trail is lost or altered, so misuse cannot be investigated.", Likelihood: "remote", Severity: "significant",
			Mitigations: []string{pick(measures, "tamper-evident")[0],
				"The audit log is a Merkle tree with signed checkpoints; verification detects any changed, removed or reordered record; no audit record, no data."},
			Residual: "low"},
		{Risk: "Credentials or patient identifiers leak through errors, logs or redirects.", Likelihood: "possible", Severity: "significant",
			Mitigations: []string{"Redirects to another origin are refused; text from other services is redacted (NHS numbers, tokens, query strings) before it reaches an error, a log line or an audit field.",
				pick(measures, "authenticate")[0]},
			Residual: "low"},
	}
	return d
}

// pick returns the measures that mention any of the words, so that a risk
// cites the policy's own wording.
func pick(measures []string, words ...string) []string {
	var out []string
	for _, m := range measures {
		for _, w := range words {
			if strings.Contains(m, w) {
				out = append(out, m)
				break
			}
		}
	}
	if len(out) == 0 {
		out = append(out, "See the policy's security measures.")
	}
	return out
}

// Markdown renders the DPIA starter for the IG file.
func (d DPIA) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Data protection impact assessment (starter): %s\n\n", mdText(d.Policy))
	w("Generated from the enforced policy as of %s. Complete, review and sign off before go-live.\n\n", d.AsOf)
	w("## Data flows\n\n| Step | From | To | Data |\n|---|---|---|---|\n")
	for _, f := range d.Flows {
		w("| %s | %s | %s | %s |\n", mdCell(f.Step), mdCell(f.From), mdCell(f.To), mdCell(f.Data))
	}
	w("\n## Risks and mitigations\n")
	for i, r := range d.Risks {
		w("\n### %d. %s\n\n", i+1, mdText(r.Risk))
		w("- **Before controls:** likelihood %s, severity %s\n", r.Likelihood, r.Severity)
		w("- **Mitigations:**\n")
		for _, m := range r.Mitigations {
			w("  - %s\n", mdText(m))
		}
		w("- **Residual risk:** %s\n", r.Residual)
	}
	return b.String()
}
