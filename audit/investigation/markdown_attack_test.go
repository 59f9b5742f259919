package investigation

import (
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
)

// TestAccessReportMarkdownTakesNoMarkupFromTheTrail: the report is handed
// to the patient, and its cells hold text from elsewhere (a requester's
// name, a remote service's diagnostics kept as the reason, a resource ID
// from a URL). Rendered as Markdown, none of it may become HTML, a link or
// emphasis: it comes out as the text it was.
func TestAccessReportMarkdownTakesNoMarkupFromTheTrail(t *testing.T) {
	who := clinician()
	who.Name = `<img src=x onerror=alert(1)>`
	who.OrganisationName = "**Your GP** _urgent_"
	e := readEvent(t0, who, patientA)
	e.Seq = 1
	e.Resource = "DocumentReference/`x`<script>alert(2)</script>"
	e.Outcome = audit.OutcomeFailed
	e.Reason = "[Your record was leaked: call us](https://evil.example/phish) <https://evil.example>"
	md := NewAccessReport(patientA, t0, t0, []audit.Event{e}).Markdown()
	assert.NotContains(t, md, "<", "no HTML and no autolink")
	assert.NotRegexp(t, `(^|[^\\])[\[\]*_`+"`"+`]`, md, "every link, emphasis and code character escaped")
	// The text is still there for a reader of the plain file.
	assert.Contains(t, md, `&lt;img src=x onerror=alert(1)&gt;`)
	assert.Contains(t, md, `\[Your record was leaked: call us\](https://evil.example/phish)`)
	assert.Equal(t, strings.Count(md, "\n| 1 |"), 1, "one row, not broken up by the text in it")
}
