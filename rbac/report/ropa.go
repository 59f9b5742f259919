package report

import (
	"fmt"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/rbac/internal/policyview"
)

// Defaults of the record of processing, used when the policy's
// record_of_processing section leaves them out.
var (
	defaultLawfulBases = []LawfulBasis{
		{Article: "Common law duty of confidentiality", Description: "Implied consent: information shared between those caring for the patient, for their direct care, within their reasonable expectations; a recorded dissent is honoured."},
		{Article: "UK GDPR Article 6(1)(e)", Description: "Processing is necessary for the performance of a task carried out in the public interest or in the exercise of official authority vested in the controller."},
		{Article: "UK GDPR Article 9(2)(h)", Description: "Processing is necessary for the provision of health or social care or treatment, or the management of health or social care systems and services."},
	}
	defaultDataSubjects = []string{"Patients and service users whose records are held by the parties to the agreement."}
)

// ROPA is the UK GDPR Article 30 record of processing for the
// cross-boundary sharing a policy allows: one processing activity per
// agreement in force or to come, generated from the same file that
// enforces the rules. It marshals to JSON as it is.
type ROPA struct {
	// Policy is the policy's name.
	Policy string `json:"policy"`
	// PolicyOwner is who owns and signs off the policy.
	PolicyOwner string `json:"policyOwner,omitempty"`
	// Approved is the date the policy was approved (YYYY-MM-DD), if given.
	Approved string `json:"approved,omitempty"`
	// Controller is the data controller (Article 30(1)(a)).
	Controller Party `json:"controller"`
	// DataProtectionOfficer (Article 30(1)(a)).
	DataProtectionOfficer Party `json:"dataProtectionOfficer,omitempty"`
	// Activities are the processing activities, one per agreement.
	Activities []ProcessingActivity `json:"activities"`
}

// Party names an organisation or person in the record of processing.
type Party struct {
	// Name of the party.
	Name string `json:"name,omitempty"`
	// ODS code, when the party is an organisation that has one.
	ODS shcrkit.ODSCode `json:"ods,omitempty"`
	// Contact details.
	Contact string `json:"contact,omitempty"`
}

// LawfulBasis is one lawful basis for processing, with its article.
type LawfulBasis struct {
	// Article, e.g. "UK GDPR Article 6(1)(e)".
	Article string `json:"article"`
	// Description of the basis.
	Description string `json:"description"`
}

// ProcessingActivity is one entry of the record of processing: the
// sharing carried out under one agreement.
type ProcessingActivity struct {
	// Name of the activity.
	Name string `json:"name"`
	// Agreement is the agreement's ID, and Reference its document.
	Agreement string `json:"agreement"`
	// Reference to the signed agreement, when given.
	Reference string `json:"reference,omitempty"`
	// Purposes of the processing (Article 30(1)(b)).
	Purposes []string `json:"purposes"`
	// LawfulBases for the processing.
	LawfulBases []LawfulBasis `json:"lawfulBases"`
	// DataSubjects: categories of data subjects (Article 30(1)(c)).
	DataSubjects []string `json:"dataSubjects"`
	// DataCategories: categories of personal data (Article 30(1)(c)).
	DataCategories []rbac.Category `json:"dataCategories"`
	// Recipients: the parties to the agreement (Article 30(1)(d)).
	Recipients []Party `json:"recipients"`
	// InternationalTransfers (Article 30(1)(e)).
	InternationalTransfers string `json:"internationalTransfers"`
	// Retention periods (Article 30(1)(f)).
	Retention []Retention `json:"retention"`
	// SecurityMeasures: technical and organisational measures (Article
	// 30(1)(g)), from the policy's own rules and any it lists.
	SecurityMeasures []string `json:"securityMeasures"`
	// ValidFrom and ValidTo bound the agreement (YYYY-MM-DD).
	ValidFrom string `json:"validFrom"`
	// ValidTo is the agreement's last day.
	ValidTo string `json:"validTo"`
}

// Retention is how long one kind of data is kept.
type Retention struct {
	// What is kept.
	What string `json:"what"`
	// Period it is kept for.
	Period string `json:"period"`
}

// NewROPA builds the record of processing from the policy. Retired
// agreements are left out.
func NewROPA(p *rbac.Policy) ROPA {
	v := policyview.Of(p)
	rs := v.Record
	out := ROPA{
		Policy:                p.Name(),
		PolicyOwner:           v.Owner,
		Approved:              v.Approved,
		Controller:            party(rs.Controller),
		DataProtectionOfficer: party(rs.DataProtectionOfficer),
		Activities:            []ProcessingActivity{},
	}
	bases := defaultLawfulBases
	if len(rs.LawfulBases) > 0 {
		bases = make([]LawfulBasis, len(rs.LawfulBases))
		for i, lb := range rs.LawfulBases {
			bases[i] = LawfulBasis(lb)
		}
	}
	subjects := defaultDataSubjects
	if len(rs.DataSubjects) > 0 {
		subjects = rs.DataSubjects
	}
	transfers := rs.InternationalTransfers
	if transfers == "" {
		transfers = "None: data is shared only between the parties, within the United Kingdom."
	}
	categories := make(map[string]rbac.Category)
	for _, c := range p.Categories() {
		categories[c.ID] = c
	}
	for _, a := range p.Agreements() {
		if a.Retired {
			continue
		}
		act := ProcessingActivity{
			Name:                   "Cross-boundary sharing for direct care: " + a.Title,
			Agreement:              a.ID,
			Reference:              a.Reference,
			LawfulBases:            append([]LawfulBasis(nil), bases...),
			DataSubjects:           append([]string(nil), subjects...),
			InternationalTransfers: transfers,
			Retention:              retention(rs),
			SecurityMeasures:       append([]string(nil), v.SecurityMeasures...),
			ValidFrom:              a.ValidFrom,
			ValidTo:                a.ValidTo,
		}
		for _, pur := range a.Purposes {
			act.Purposes = append(act.Purposes, purposeText(pur))
		}
		for _, cid := range a.Categories {
			act.DataCategories = append(act.DataCategories, categories[cid])
		}
		for _, code := range a.Parties {
			act.Recipients = append(act.Recipients, Party{ODS: code, Name: shcrName(p, &v, code)})
		}
		out.Activities = append(out.Activities, act)
	}
	return out
}

func party(s policyview.Party) Party {
	return Party{Name: s.Name, ODS: shcrkit.ODSCode(s.ODS), Contact: s.Contact}
}

// retention lists how long each data set is kept.
func retention(rs policyview.RecordOfProcessing) []Retention {
	auditRetention := rs.AuditRetention
	if auditRetention == "" {
		auditRetention = "As set by the controller's records management policy."
	}
	out := []Retention{{What: "Audit records of every access, allowed or refused", Period: auditRetention}}
	if rs.RecordRetention != "" {
		out = append(out, Retention{What: "Records retrieved from other parties", Period: rs.RecordRetention})
	}
	return append(out,
		Retention{What: "Demographics traced in PDS", Period: "Not stored by the SDK: used for the access decision and display, then discarded (PDS remains the source)."},
		Retention{What: "National Record Locator pointers", Period: "Not stored by the SDK: used to find records for one access (the NRL remains the source)."})
}

func purposeText(pur shcrkit.Purpose) string {
	switch pur {
	case shcrkit.PurposeDirectCare:
		return "Direct care of the patient (TREAT)"
	case shcrkit.PurposeEmergency:
		return "Emergency treatment of the patient (ETREAT)"
	case shcrkit.PurposeBreakGlass:
		return "Emergency access overriding the usual controls, with a recorded reason (BTG)"
	}
	return pur.String()
}

// shcrName names the local or a remote shared care record, or "".
func shcrName(p *rbac.Policy, v *policyview.View, code shcrkit.ODSCode) string {
	if code == p.Local() {
		return v.LocalName
	}
	for _, r := range v.Remotes {
		if r.ODS == code {
			return r.Name
		}
	}
	return ""
}

// Markdown returns the record of processing as a Markdown document for
// the information-governance file.
func (r ROPA) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Record of processing activities: %s\n\n", mdText(r.Policy))
	b.WriteString("UK GDPR Article 30 record for cross-boundary sharing of shared care records, generated from the access-control policy.\n\n")
	if r.PolicyOwner != "" {
		fmt.Fprintf(&b, "- **Policy owner:** %s\n", mdText(r.PolicyOwner))
	}
	if r.Approved != "" {
		fmt.Fprintf(&b, "- **Approved:** %s\n", r.Approved)
	}
	fmt.Fprintf(&b, "- **Controller:** %s\n", mdParty(r.Controller))
	if r.DataProtectionOfficer != (Party{}) {
		fmt.Fprintf(&b, "- **Data protection officer:** %s\n", mdParty(r.DataProtectionOfficer))
	}
	if len(r.Activities) == 0 {
		b.WriteString("\nNo sharing agreement is in force or due: the policy allows no cross-boundary sharing.\n")
	}
	for _, a := range r.Activities {
		fmt.Fprintf(&b, "\n## %s\n\n", mdText(a.Name))
		fmt.Fprintf(&b, "- **Agreement:** %s", a.Agreement)
		if a.Reference != "" {
			fmt.Fprintf(&b, " (%s)", mdText(a.Reference))
		}
		fmt.Fprintf(&b, ", in force %s to %s\n", a.ValidFrom, a.ValidTo)
		fmt.Fprintf(&b, "- **International transfers:** %s\n", mdText(a.InternationalTransfers))
		mdList(&b, "Purposes", a.Purposes)
		b.WriteString("\n### Lawful bases\n\n")
		for _, lb := range a.LawfulBases {
			fmt.Fprintf(&b, "- **%s:** %s\n", mdText(lb.Article), mdText(lb.Description))
		}
		mdList(&b, "Data subjects", a.DataSubjects)
		b.WriteString("\n### Categories of personal data\n\n| Category | Description | Record types (SNOMED CT) |\n|---|---|---|\n")
		for _, c := range a.DataCategories {
			var types []string
			for _, t := range c.RecordTypes {
				types = append(types, mdText(t.Display)+" ("+t.Code+")")
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", c.ID, mdCell(c.Description), mdCell(strings.Join(types, "; ")))
		}
		b.WriteString("\n### Recipients\n\n")
		for _, party := range a.Recipients {
			fmt.Fprintf(&b, "- %s\n", mdParty(party))
		}
		b.WriteString("\n### Retention\n\n")
		for _, rt := range a.Retention {
			fmt.Fprintf(&b, "- **%s:** %s\n", mdText(rt.What), mdText(rt.Period))
		}
		mdList(&b, "Security measures", a.SecurityMeasures)
	}
	return b.String()
}
