package report

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/rbac/internal/policyview"
)

// Contacts are the details a patient-facing page needs
// that an access policy does not hold. Empty fields fall back to the
// controller's and data protection officer's contacts in the policy's
// record of processing.
type Contacts struct {
	// Service is who the patient asks first (the practice or hospital's
	// reception, a patient advice service), with how to reach them.
	Service string
	// Objections is how to object to sharing or record dissent.
	Objections string
	// AccessRequests is how to ask who has looked at the record.
	AccessRequests string
	// Website, if any, for more information.
	Website string
}

// PatientInformation is the point-of-care information for patients about
// cross-boundary sharing, generated from the policy that is enforced, so
// that what patients are told is what the software does. Render it with
// Markdown or HTML; both are written in plain English for a reading age
// of about 9 to 11 (short sentences, everyday words).
type PatientInformation struct {
	// Record is the local shared care record's name.
	Record string
	// Regions are the other regions' shared care records with an
	// agreement in force at the time given, with what each may see.
	Regions []RegionSharing
	// Purposes are the reasons records are shared, in plain words.
	Purposes []string
	// LawfulBases explain in plain words why the law allows it.
	LawfulBases []string
	// DissentHonoured is true when a recorded dissent is honoured even in
	// an emergency.
	DissentHonoured bool
	// Contacts say who to ask, object to and request access from.
	Contacts Contacts
	// Controller and DataProtectionOfficer are from the record of
	// processing.
	Controller, DataProtectionOfficer Party
	// AsOf is the date the information describes.
	AsOf string
}

// RegionSharing is one region that may see records, and what kinds.
type RegionSharing struct {
	// Name of the region's shared care record.
	Name string
	// Kinds of record it may see, in plain words.
	Kinds []string
	// Until is the last day of the agreement in force (YYYY-MM-DD).
	Until string
}

// NewPatientInformation builds the patient information for the
// agreements of the policy in force at t.
func NewPatientInformation(p *rbac.Policy, t time.Time, contacts Contacts) PatientInformation {
	v := policyview.Of(p)
	rs := v.Record
	info := PatientInformation{
		Record:                v.LocalName,
		DissentHonoured:       !v.DissentOverridable,
		Controller:            party(rs.Controller),
		DataProtectionOfficer: Party{Name: rs.DataProtectionOfficer.Name, Contact: rs.DataProtectionOfficer.Contact},
		Contacts:              contacts,
		AsOf:                  t.In(v.Location).Format(time.DateOnly),
	}
	if info.Record == "" {
		info.Record = "our shared care record"
	}
	fallback := info.Controller.Contact
	if fallback == "" {
		fallback = info.DataProtectionOfficer.Contact
	}
	for _, f := range []*string{&info.Contacts.Service, &info.Contacts.Objections, &info.Contacts.AccessRequests} {
		if *f == "" {
			*f = fallback
		}
	}
	info.Regions, info.Purposes = sharing(p, &v, info.AsOf)
	info.LawfulBases = []string{
		"Health and care staff have a duty to keep your information confidential. When they share it to care for you, the law lets them assume you agree. This is called implied consent.",
		"Data protection law (UK GDPR) allows it because caring for you is part of the public task of the NHS and social care (Article 6(1)(e)).",
		"Health information gets extra protection. The law allows it to be shared to give you health or social care (Article 9(2)(h)).",
	}
	return info
}

// sharing lists the regions whose agreements are in force on day, with
// what each may see, and the purposes of those agreements in plain words.
func sharing(p *rbac.Policy, v *policyview.View, day string) ([]RegionSharing, []string) {
	categories := make(map[string]rbac.Category)
	for _, c := range p.Categories() {
		categories[c.ID] = c
	}
	var purposes [shcrkit.PurposeBreakGlass + 1]bool
	byRegion := map[shcrkit.ODSCode]*RegionSharing{}
	var order []shcrkit.ODSCode
	for _, a := range p.Agreements() {
		if a.Retired || day < a.ValidFrom || a.ValidTo < day {
			continue
		}
		for _, pur := range a.Purposes {
			purposes[pur] = true
		}
		for _, code := range a.Parties {
			if code == p.Local() {
				continue
			}
			r := byRegion[code]
			if r == nil {
				r = &RegionSharing{Name: cmp.Or(shcrName(p, v, code), string(code))}
				byRegion[code] = r
				order = append(order, code)
			}
			for _, cid := range a.Categories {
				if kind := plainCategory(categories[cid]); !slices.Contains(r.Kinds, kind) {
					r.Kinds = append(r.Kinds, kind)
				}
			}
			r.Until = max(r.Until, a.ValidTo)
		}
	}
	var regions []RegionSharing
	for _, o := range order {
		regions = append(regions, *byRegion[o])
	}
	var plain []string
	for pur, ok := range purposes {
		if ok {
			plain = append(plain, plainPurpose(shcrkit.Purpose(pur)))
		}
	}
	return regions, plain
}

func plainPurpose(pur shcrkit.Purpose) string {
	switch pur {
	case shcrkit.PurposeDirectCare:
		return "to care for you when you are treated away from home"
	case shcrkit.PurposeEmergency:
		return "to treat you in an emergency"
	case shcrkit.PurposeBreakGlass:
		return "in an emergency when you cannot be asked, with the reason written down and checked later"
	}
	return pur.String()
}

// plainCategory names a data category for patients: its description,
// without the jargon of record-type codes.
func plainCategory(c rbac.Category) string {
	if c.Description != "" {
		return strings.TrimSuffix(strings.Join(strings.Fields(c.Description), " "), ".")
	}
	return strings.ReplaceAll(c.ID, "-", " ")
}

// Markdown renders the information as a Markdown page.
func (info PatientInformation) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Sharing your health and care records\n\n")
	w("This page explains how %s shares your records with other areas. It was written on %s.\n\n", mdText(info.Record), info.AsOf)
	w("## Why we share\n\n")
	w("You might need care away from home. The staff there may need to see your records. We share them:\n\n")
	for _, p := range info.Purposes {
		w("- %s\n", mdText(p))
	}
	w("\nOnly staff who are caring for you can look. They must have the right job. Every look is written down.\n\n")
	w("## Who can see your records\n\n")
	if len(info.Regions) == 0 {
		w("Right now we do not share records with any other area.\n\n")
	}
	for _, r := range info.Regions {
		w("**%s** can see:\n\n", mdText(r.Name))
		for _, k := range r.Kinds {
			w("- %s\n", mdText(k))
		}
		w("\nThis agreement lasts until %s.\n\n", r.Until)
	}
	w("## Why the law allows this\n\n")
	for _, l := range info.LawfulBases {
		w("- %s\n", mdText(l))
	}
	w("\n## If you do not want your records shared\n\n")
	w("You can say no. We will write it down. Then staff in other areas will not see your records.\n\n")
	if info.DissentHonoured {
		w("We keep to this even in an emergency.\n\n")
	} else {
		w("In an emergency, when your life is at risk, a doctor may still look. They must write down why. This is checked later.\n\n")
	}
	w("To say no, contact: %s\n\n", mdText(info.Contacts.Objections))
	w("## Who has looked at your records\n\n")
	w("You can ask us who has looked at your records, when, and why. If something looks wrong, tell us. We will look into it and tell you what we found.\n\n")
	w("To ask, contact: %s\n\n", mdText(info.Contacts.AccessRequests))
	w("## Who to contact\n\n")
	w("- Questions about your care: %s\n", mdText(info.Contacts.Service))
	if info.Controller.Name != "" {
		w("- We are responsible for your records: %s\n", mdParty(info.Controller))
	}
	if info.DataProtectionOfficer.Name != "" || info.DataProtectionOfficer.Contact != "" {
		w("- Our data protection officer: %s\n", mdParty(info.DataProtectionOfficer))
	}
	if info.Contacts.Website != "" {
		w("- More information: %s\n", mdText(info.Contacts.Website))
	}
	w("\nIf you are not happy with our answer, you can complain to the Information Commissioner's Office (ICO).\n")
	return b.String()
}

var patientPage = template.Must(template.New("patient").Parse(`<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sharing your health and care records</title>
<style>
body { font-family: Arial, Helvetica, sans-serif; font-size: 1.1875rem; line-height: 1.5; color: #212b32; background: #ffffff; max-width: 40em; margin: 0 auto; padding: 1em; }
h1, h2 { line-height: 1.25; }
a { color: #005eb8; }
a:focus, a:hover { color: #212b32; background: #ffeb3b; outline: 3px solid #212b32; }
.skip { position: absolute; left: -999em; }
.skip:focus { position: static; }
</style>
</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<main id="main">
<h1>Sharing your health and care records</h1>
<p>This page explains how {{.Record}} shares your records with other areas. It was written on <time datetime="{{.AsOf}}">{{.AsOf}}</time>.</p>
<h2>Why we share</h2>
<p>You might need care away from home. The staff there may need to see your records. We share them:</p>
<ul>{{range .Purposes}}<li>{{.}}</li>{{end}}</ul>
<p>Only staff who are caring for you can look. They must have the right job. Every look is written down.</p>
<h2>Who can see your records</h2>
{{if not .Regions}}<p>Right now we do not share records with any other area.</p>{{end}}
{{range .Regions}}<h3>{{.Name}}</h3>
<p>{{.Name}} can see:</p>
<ul>{{range .Kinds}}<li>{{.}}</li>{{end}}</ul>
<p>This agreement lasts until <time datetime="{{.Until}}">{{.Until}}</time>.</p>
{{end}}
<h2>Why the law allows this</h2>
<ul>{{range .LawfulBases}}<li>{{.}}</li>{{end}}</ul>
<h2>If you do not want your records shared</h2>
<p>You can say no. We will write it down. Then staff in other areas will not see your records.</p>
{{if .DissentHonoured}}<p>We keep to this even in an emergency.</p>{{else}}<p>In an emergency, when your life is at risk, a doctor may still look. They must write down why. This is checked later.</p>{{end}}
<p>To say no, contact: {{.Contacts.Objections}}</p>
<h2>Who has looked at your records</h2>
<p>You can ask us who has looked at your records, when, and why. If something looks wrong, tell us. We will look into it and tell you what we found.</p>
<p>To ask, contact: {{.Contacts.AccessRequests}}</p>
<h2>Who to contact</h2>
<ul>
<li>Questions about your care: {{.Contacts.Service}}</li>
{{with .Controller}}{{if .Name}}<li>We are responsible for your records: {{.Name}}{{if .Contact}}, {{.Contact}}{{end}}</li>{{end}}{{end}}
{{with .DataProtectionOfficer}}{{if or .Name .Contact}}<li>Our data protection officer: {{.Name}}{{if .Contact}}, {{.Contact}}{{end}}</li>{{end}}{{end}}
{{with .Contacts.Website}}<li>More information: <a href="{{.}}">{{.}}</a></li>{{end}}
</ul>
<p>If you are not happy with our answer, you can complain to the Information Commissioner's Office (ICO).</p>
</main>
</body>
</html>
`))

// HTML renders the information as an accessible HTML page (WCAG 2.2 AA:
// headings in order, a skip link, text contrast above 7:1, a visible focus
// indicator, the page's language declared), safe to serve as it is: every
// value is escaped.
func (info PatientInformation) HTML() ([]byte, error) {
	var b bytes.Buffer
	if err := patientPage.Execute(&b, info); err != nil {
		return nil, fmt.Errorf("report: rendering the patient information page: %w", err)
	}
	return b.Bytes(), nil
}
