package pds

import (
	"cmp"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/shcrkit/shcrkit"
)

// redactedValue stands in an error text for a value the request carried.
const redactedValue = "[redacted]"

// redactEcho removes from an error answer the values the request carried.
// The service quotes the value it rejects ("Invalid value - 'Smyth' in
// field 'family'"), and those values are demographics: names, dates of
// birth, postcodes, phone numbers. They are replaced in the error's
// Diagnostics and in the diagnostics and details text of its Outcome, so
// that neither Error() nor a logged outcome repeats them. err is returned.
func redactEcho(err error, sent []string) error {
	var apiErr *shcrkit.APIError
	if err == nil || len(sent) == 0 || !errors.As(err, &apiErr) {
		return err
	}
	r := newRedactor(sent)
	if r == nil {
		return err
	}
	apiErr.Diagnostics = r.redact(apiErr.Diagnostics)
	if o := apiErr.Outcome; o != nil {
		for i := range o.Issue {
			is := &o.Issue[i]
			if is.Diagnostics != nil {
				s := r.redact(*is.Diagnostics)
				is.Diagnostics = &s
			}
			if is.Details != nil && is.Details.Text != nil {
				s := r.redact(*is.Details.Text)
				is.Details.Text = &s
			}
		}
	}
	return err
}

// redactor replaces whole occurrences of some values, ignoring case.
type redactor struct{ patterns []*regexp.Regexp }

// newRedactor returns a redactor of values, or nil when there is nothing
// to redact. A value matches only where it is not part of a longer word,
// so that "Ann" is not found in "Annual".
func newRedactor(values []string) *redactor {
	var vs []string
	for _, v := range values {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		vs = append(vs, v)
		// The service may quote a postcode or phone number without its
		// spaces.
		if compact := strings.Join(strings.Fields(v), ""); compact != v {
			vs = append(vs, compact)
		}
	}
	if len(vs) == 0 {
		return nil
	}
	// Longest first, so that a value containing another goes whole.
	slices.SortFunc(vs, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	vs = slices.Compact(vs)
	r := &redactor{}
	for _, v := range vs {
		r.patterns = append(r.patterns, regexp.MustCompile(`(?i)(^|[^\pL\pN])`+regexp.QuoteMeta(v)+`($|[^\pL\pN])`))
	}
	return r
}

func (r *redactor) redact(s string) string {
	for _, p := range r.patterns {
		// Matches consume the character on each side, so a value repeated
		// with one separator takes a second pass.
		for range 2 {
			s = p.ReplaceAllString(s, "${1}"+redactedValue+"${2}")
		}
	}
	return s
}

// sentValues are the values of a search that identify a patient.
func (q *SearchQuery) sentValues() []string {
	vs := append([]string{q.Family, q.Postcode, q.Email, q.Phone}, q.Given...)
	for _, d := range []DateRange{q.BirthDate, q.DeathDate} {
		vs = append(append(vs, d.From, d.To), d.params()...)
	}
	return vs
}

// patchValues are the strings within the values of ops.
func patchValues(ops []PatchOp) []string {
	var vs []string
	for _, op := range ops {
		if op.Value == nil {
			continue
		}
		b, err := json.Marshal(op.Value)
		if err != nil {
			continue
		}
		var v any
		if json.Unmarshal(b, &v) != nil {
			continue
		}
		vs = appendStrings(vs, v)
	}
	return vs
}

func appendStrings(vs []string, v any) []string {
	switch t := v.(type) {
	case string:
		vs = append(vs, t)
	case []any:
		for _, e := range t {
			vs = appendStrings(vs, e)
		}
	case map[string]any:
		for _, e := range t {
			vs = appendStrings(vs, e)
		}
	}
	return vs
}
