// Package patientquery writes a patient's NHS number in the query and
// request text of an audit event as a placeholder, so that the number is
// held once, in the event's Patient: the audit package does it when it
// normalises an event, and shcr for the request text it records.
package patientquery

import (
	"strings"

	"github.com/shcrkit/shcrkit"
)

// Placeholder stands for the event's patient in its query and request
// text (audit.QueryPatientPlaceholder).
const Placeholder = "{patient}"

// Redact returns q with every written form of the patient's NHS
// number ("9434765919", "943 476 5919", "943-476-5919", and the URL
// encoded spaced form) replaced by Placeholder.
func Redact(q string, patient shcrkit.NHSNumber) string {
	if len(patient) != 10 {
		return q
	}
	p := string(patient)
	forms := []string{
		p[:3] + " " + p[3:6] + " " + p[6:],
		p[:3] + "-" + p[3:6] + "-" + p[6:],
		p[:3] + "%20" + p[3:6] + "%20" + p[6:],
		p[:3] + "+" + p[3:6] + "+" + p[6:],
	}
	for _, f := range forms {
		q = strings.ReplaceAll(q, f, Placeholder)
	}
	return replaceDigitRun(q, p, Placeholder)
}

// replaceDigitRun replaces run where it stands alone (not inside a longer
// run of digits).
func replaceDigitRun(s, run, with string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, run)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(run)
		if (i > 0 && isDigit(s[i-1])) || (end < len(s) && isDigit(s[end])) {
			b.WriteString(s[:end])
			s = s[end:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(with)
		s = s[end:]
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
