package console

import (
	"html/template"
	"time"
)

// base is the layout every page shares: a skip link, a banner with the
// navigation, and the main landmark that holds the page.
const base = `{{define "top"}}<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - Investigation console</title>
<style>
body { font-family: Arial, Helvetica, sans-serif; font-size: 1rem; line-height: 1.5; color: #1b1b1b; background: #ffffff; margin: 0; }
header { background: #003087; color: #ffffff; padding: 0.5em 1em; }
header a { color: #ffffff; }
nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 1.5em; }
main { padding: 1em; max-width: 72em; }
a { color: #003087; }
a:focus, button:focus, input:focus, select:focus, textarea:focus, summary:focus { outline: 3px solid #1b1b1b; outline-offset: 2px; background: #ffdd00; color: #1b1b1b; }
.skip { position: absolute; left: -999em; }
.skip:focus { position: static; display: inline-block; padding: 0.5em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #4c4c4c; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #e8edee; }
button { font: inherit; padding: 0.3em 1em; background: #006435; color: #ffffff; border: 2px solid #004020; cursor: pointer; }
label { display: block; font-weight: bold; margin-top: 0.5em; }
input, select, textarea { font: inherit; border: 2px solid #4c4c4c; padding: 0.2em; }
.status { font-weight: bold; }
.error { color: #8a1f11; font-weight: bold; }
</style>
</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<header>
<p><strong>Investigation console</strong> - signed in as {{.Viewer}}</p>
<nav aria-label="Console">
<ul>
<li><a href="{{.Base}}/"{{if eq .Page "queue"}} aria-current="page"{{end}}>Review queue</a></li>
<li><a href="{{.Base}}/cases"{{if eq .Page "cases"}} aria-current="page"{{end}}>Cases</a></li>
<li><a href="{{.Base}}/patient"{{if eq .Page "patient"}} aria-current="page"{{end}}>Patient access report</a></li>
<li><a href="{{.Base}}/verify"{{if eq .Page "verify"}} aria-current="page"{{end}}>Audit trail verification</a></li>
</ul>
</nav>
</header>
<main id="main" tabindex="-1">
<h1>{{.Title}}</h1>
{{end}}
{{define "bottom"}}</main>
</body>
</html>
{{end}}
{{define "error"}}<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{{.Title}} - Investigation console</title></head>
<body><main id="main"><h1>{{.Title}}</h1><p class="error" role="alert">{{.Message}}</p></main></body></html>
{{end}}
{{define "events"}}<table>
<caption>{{.Caption}}</caption>
<thead><tr><th scope="col">Seq</th><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">Organisation</th><th scope="col">What</th><th scope="col">Why</th><th scope="col">Outcome</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td>{{.Seq}}</td><td>{{.When}}</td><td>{{.Who}}</td><td>{{.Organisation}}</td><td>{{.What}}</td><td>{{.Why}}</td><td>{{.Outcome}}</td></tr>
{{else}}<tr><td colspan="7">No events.</td></tr>
{{end}}</tbody>
</table>
{{end}}`

const queuePage = `{{template "top" .}}
<p>Flags from the last {{.WindowDays}} days of the audit trail. Open a case to investigate one.</p>
{{if not .Flags}}<p>Nothing to review.</p>{{end}}
{{range $i, $f := .Flags}}
<section aria-labelledby="flag-{{$i}}">
<h2 id="flag-{{$i}}">{{$f.Kind}}: {{$f.Detail}}</h2>
<dl>
<dt>User</dt><dd>{{$f.UserID}} ({{$f.Organisation}})</dd>
{{if $f.Patient}}<dt>Patient</dt><dd>{{$f.Patient}}</dd>{{end}}
<dt>Events</dt><dd>{{$f.Events}}</dd>
</dl>
<form method="post" action="{{$.Base}}/cases">
<input type="hidden" name="token" value="{{$.Token}}">
<input type="hidden" name="kind" value="{{$f.Kind}}">
<input type="hidden" name="user" value="{{$f.UserID}}">
<input type="hidden" name="organisation" value="{{$f.Organisation}}">
<input type="hidden" name="seqs" value="{{$f.Events}}">
<label for="note-{{$i}}">Why open a case</label>
<input id="note-{{$i}}" name="note" size="50" maxlength="500">
<button type="submit">Open a case</button>
</form>
</section>
{{end}}
{{template "bottom" .}}`

const casesPage = `{{template "top" .}}
{{if not .Cases}}<p>No cases yet.</p>{{else}}
<table>
<caption>Cases, oldest first</caption>
<thead><tr><th scope="col">Case</th><th scope="col">Patient</th><th scope="col">Opened</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Finding</th></tr></thead>
<tbody>
{{range .Cases}}<tr><td><a href="{{$.Base}}/cases/{{.ID}}">{{.ID}}</a></td><td>{{.Patient}}</td><td>{{.Opened}}</td><td>{{if .Challenge}}patient's challenge{{else}}review{{end}}</td><td>{{.Status}}</td><td>{{.Finding}}</td></tr>
{{end}}</tbody>
</table>
{{end}}
{{template "bottom" .}}`

const casePage = `{{template "top" .}}
<dl>
<dt>Patient</dt><dd>{{.Case.Patient}}</dd>
<dt>Opened</dt><dd>{{.Case.Opened}}{{if .Case.Challenge}} by the patient's challenge{{end}}</dd>
<dt>Status</dt><dd class="status">{{.Case.Status}}</dd>
{{if .Case.Finding}}<dt>Finding</dt><dd class="status">{{.Case.Finding}}</dd>{{end}}
</dl>
<h2>Steps</h2>
<ol id="steps" data-steps="{{len .Case.Steps}}">
{{range .Case.Steps}}<li>{{.When}}: {{.Step}} by {{.Who}}{{if .Note}}: <q>{{.Note}}</q>{{end}}</li>
{{end}}</ol>
<h2>Events the case concerns</h2>
{{template "events" .Events}}
{{if .Open}}
<h2>Next step</h2>
<form method="post" action="{{.Base}}/cases/{{.Case.ID}}/acknowledge">
<input type="hidden" name="token" value="{{.Token}}">
<label for="ack-note">Acknowledgement note (optional)</label>
<input id="ack-note" name="note" size="50" maxlength="500">
<button type="submit">Acknowledge</button>
</form>
<form method="post" action="{{.Base}}/cases/{{.Case.ID}}/note">
<input type="hidden" name="token" value="{{.Token}}">
<label for="finding-note">Investigation note</label>
<textarea id="finding-note" name="note" rows="3" cols="50" maxlength="1000" required></textarea>
<button type="submit">Add note</button>
</form>
<form method="post" action="{{.Base}}/cases/{{.Case.ID}}/close">
<input type="hidden" name="token" value="{{.Token}}">
<label for="finding">Finding</label>
<select id="finding" name="finding" required>
<option value="">Choose a finding</option>
<option value="appropriate">Appropriate</option>
<option value="inappropriate">Inappropriate</option>
<option value="referred">Referred</option>
</select>
<label for="close-note">Closing note</label>
<input id="close-note" name="note" size="50" maxlength="500">
<button type="submit">Close the case</button>
</form>
{{end}}
{{template "bottom" .}}`

const patientPage = `{{template "top" .}}
<form method="post" action="{{.Base}}/patient">
<input type="hidden" name="token" value="{{.Token}}">
<label for="nhs">NHS number</label>
<input id="nhs" name="nhs" inputmode="numeric" autocomplete="off" size="14" required>
<button type="submit">Show who accessed the record</button>
</form>
{{if .Report}}
<h2>Accesses to the record of {{.Patient}}</h2>
<p>{{.Summary}}</p>
{{template "events" .Events}}
{{end}}
{{with .Problem}}<p class="error" role="alert">{{.}}</p>{{end}}
{{template "bottom" .}}`

const verifyPage = `{{template "top" .}}
{{if .Unavailable}}<p>This console has no verifier for the audit trail.</p>
{{else if .OK}}<p class="status" role="status">Verified at {{.At}}: every record of the audit trail is intact and in order.</p>
{{else}}<p class="error" role="alert">Verification at {{.At}} failed: {{.Problem}}</p>{{end}}
{{template "bottom" .}}`

var pages = template.Must(template.New("console").Funcs(template.FuncMap{
	"utc": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
}).Parse(base))

var (
	queueTmpl   = page(queuePage)
	casesTmpl   = page(casesPage)
	caseTmpl    = page(casePage)
	patientTmpl = page(patientPage)
	verifyTmpl  = page(verifyPage)
)

func page(text string) *template.Template {
	return template.Must(template.Must(pages.Clone()).Parse(text))
}
