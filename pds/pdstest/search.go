package pdstest

import (
	"cmp"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/ptr"
	"github.com/shcrkit/shcrkit/internal/textclip"
	"github.com/shcrkit/shcrkit/pds"
)

// Scores the fake gives to each way a field can match; a patient's score is
// the product over the fields searched, so an exact match on everything
// scores 1.0 and every looser match ranks below it.
const (
	scoreExact      = 1.0
	scoreWildcard   = 0.9
	scoreHistoric   = 0.85
	scoreTransposed = 0.8
	scoreHomophone  = 0.75
	scoreExtraGiven = 0.7 // a later given name that does not match
	scoreMismatch   = 0.8 // death date or GP not matching in a fuzzy search
)

// knownParams are the search parameters the service accepts.
var knownParams = map[string]bool{
	"family": true, "given": true, "gender": true, "birthdate": true, "death-date": true,
	"address-postalcode": true, "address-postcode": true, "general-practitioner": true,
	"email": true, "phone": true, "_fuzzy-match": true, "_exact-match": true, "_history": true,
	"_max-results": true,
}

// query is a parsed search.
type query struct {
	family, postcode, email, phone string
	given                          []string
	gender                         string
	birth, death                   []dateCond
	gp                             string
	fuzzy, exact, history          bool
	max                            int
}

type dateCond struct {
	prefix string
	date   time.Time
}

// maxResults is the most matches the service returns for a search.
const maxResults = 50

func parseDate(s string) (time.Time, error) { return time.Parse("2006-01-02", s) }

// parseQuery validates the parameters as the service does and returns the
// answer to give when they are wrong. The checks run in the service's
// order: the parameters' names and repetition, each value, the wildcards,
// then whether enough was given to search.
func (s *Server) parseQuery(v url.Values) (query, fake.Outcome, bool) {
	var q query
	for _, check := range []func() *fake.Outcome{
		func() *fake.Outcome { return checkParams(v) },
		func() *fake.Outcome { return readFields(v, &q) },
		func() *fake.Outcome { return s.readMax(v, &q) },
		func() *fake.Outcome { return checkValues(q) },
		func() *fake.Outcome { return checkWildcards(q) },
		func() *fake.Outcome { return checkEnough(q) },
	} {
		if o := check(); o != nil {
			return q, *o, false
		}
	}
	return q, fake.Outcome{}, true
}

// singleParams are the parameters that may be given once only.
var singleParams = []string{"family", "gender", "death-date", "address-postalcode", "address-postcode",
	"general-practitioner", "email", "phone", "_fuzzy-match", "_exact-match", "_history", "_max-results"}

// checkParams refuses unknown, missing and repeated parameters.
func checkParams(v url.Values) *fake.Outcome {
	for k := range v {
		if !knownParams[k] {
			return ref(outcome(http.StatusBadRequest, "invariant", "ADDITIONAL_PROPERTIES",
				"Additional properties should not be included", "Invalid search data provided - '"+textclip.Clip(k, 40)+"' is not a valid parameter"))
		}
	}
	if len(v) == 0 {
		return ref(unsupported)
	}
	for _, k := range singleParams {
		if len(v[k]) > 1 {
			return ref(invalidSearch("Invalid search data provided - '" + k + "' may only be given once"))
		}
	}
	if v.Has("address-postcode") && v.Has("address-postalcode") {
		return ref(invalidSearch("Invalid search data provided - use address-postalcode or address-postcode, not both"))
	}
	return nil
}

// readFields fills q from v: the names, contacts, gender, flags and dates.
func readFields(v url.Values, q *query) *fake.Outcome {
	q.family = v.Get("family")
	q.given = v["given"]
	q.postcode = v.Get("address-postalcode") + v.Get("address-postcode")
	q.email, q.phone, q.gp = v.Get("email"), v.Get("phone"), strings.ToUpper(v.Get("general-practitioner"))
	q.gender = v.Get("gender")
	switch q.gender {
	case "", "male", "female", "other", "unknown":
	default:
		return ref(invalidValue("Invalid value - '" + textclip.Clip(q.gender, 40) + "' in field 'gender'"))
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"_fuzzy-match", &q.fuzzy}, {"_exact-match", &q.exact}, {"_history", &q.history}} {
		switch v.Get(b.name) {
		case "", "false":
		case "true":
			*b.dst = true
		default:
			return ref(invalidValue("Invalid value - '" + textclip.Clip(v.Get(b.name), 40) + "' in field '" + b.name + "'"))
		}
	}
	var ok bool
	var o fake.Outcome
	if q.birth, o, ok = parseDates("birthdate", v["birthdate"]); !ok {
		return &o
	}
	if q.death, o, ok = parseDates("death-date", v["death-date"]); !ok {
		return &o
	}
	return nil
}

// readMax sets q.max from _max-results and the access mode.
func (s *Server) readMax(v url.Values, q *query) *fake.Outcome {
	restricted := s.cfg.mode == pds.AccessApplicationRestricted
	q.max = maxResults
	if restricted {
		q.max = 1
	}
	m := v.Get("_max-results")
	if m == "" {
		return nil
	}
	n, err := strconv.Atoi(m)
	if err != nil || n < 1 || n > maxResults {
		return ref(invalidValue("Invalid value - '" + textclip.Clip(m, 40) + "' in field '_max-results'"))
	}
	if n > 1 && restricted {
		return ref(outcome(http.StatusForbidden, "value", "INVALID_VALUE", "Provided value is invalid",
			"Invalid value - '_max-results' must be 1 for application-restricted access"))
	}
	q.max = n
	return nil
}

// checkValues refuses a GP that is not an ODS code and names too long or
// empty.
func checkValues(q query) *fake.Outcome {
	if q.gp != "" && !shcrkit.ODSCode(q.gp).Valid() {
		return ref(invalidValue("Invalid value - '" + textclip.Clip(q.gp, 40) + "' in field 'general-practitioner'"))
	}
	for _, f := range append([]struct{ name, val string }{{"family", q.family}}, givenFields(q.given)...) {
		if utf8.RuneCountInString(f.val) > 35 {
			return ref(invalidValue("Invalid value - field '" + f.name + "' is longer than 35 characters"))
		}
		if f.name != "family" && f.val == "" {
			return ref(invalidValue("Invalid value - field 'given' is empty"))
		}
	}
	return nil
}

// checkWildcards refuses wildcards where the service does: in a fuzzy
// search, after fewer than two characters, in email or phone.
func checkWildcards(q query) *fake.Outcome {
	for _, f := range append([]struct{ name, val string }{{"family", q.family}, {"address-postalcode", q.postcode}}, givenFields(q.given)...) {
		i := strings.IndexByte(f.val, '*')
		if i < 0 {
			continue
		}
		if q.fuzzy {
			return ref(invalidSearch("Invalid search data provided - wildcards are not allowed in a fuzzy search"))
		}
		if utf8.RuneCountInString(f.val[:i]) < 2 {
			return ref(invalidSearch("Invalid search data provided - a wildcard must follow at least two characters in '" + f.name + "'"))
		}
	}
	if strings.Contains(q.email, "*") || strings.Contains(q.phone, "*") {
		return ref(invalidSearch("Invalid search data provided - wildcards are not allowed in email or phone"))
	}
	return nil
}

// checkEnough refuses a search without a birth date or without the
// combinations of fields the service needs to search.
func checkEnough(q query) *fake.Outcome {
	if len(q.birth) == 0 {
		return ref(missingValue("Invalid search data provided - 'birthdate' is required"))
	}
	given, family, born, gender, post := len(q.given) > 0, q.family != "", len(q.birth) > 0, q.gender != "", q.postcode != ""
	enough := family && born
	if q.fuzzy {
		enough = (given && family && born) || (family && born && gender && post) || (given && born && gender && post)
	}
	if !enough {
		return ref(invalidSearch("Not enough search parameters were provided to be able to make a search"))
	}
	return nil
}

// ref returns a pointer to a copy of o.
func ref(o fake.Outcome) *fake.Outcome { return &o }

func givenFields(given []string) []struct{ name, val string } {
	out := make([]struct{ name, val string }, len(given))
	for i, g := range given {
		out[i] = struct{ name, val string }{"given", g}
	}
	return out
}

func parseDates(field string, vals []string) ([]dateCond, fake.Outcome, bool) {
	var out []dateCond
	for _, v := range vals {
		if len(v) == 10 {
			v = "eq" + v // no prefix means eq
		}
		if len(v) != 12 {
			return nil, invalidValue("Invalid value in field '" + field + "' - want eq, ge or le and a yyyy-mm-dd date"), false
		}
		p := v[:2]
		t, err := parseDate(v[2:])
		if err != nil || (p != "eq" && p != "ge" && p != "le") {
			return nil, invalidValue("Invalid value in field '" + field + "' - want eq, ge or le and a yyyy-mm-dd date"), false
		}
		out = append(out, dateCond{prefix: p, date: t})
	}
	switch {
	case len(out) > 2:
		return nil, invalidSearch("Invalid search data provided - at most two '" + field + "' conditions"), false
	case len(out) == 2 && !((out[0].prefix == "ge" && out[1].prefix == "le") || (out[0].prefix == "le" && out[1].prefix == "ge")):
		return nil, invalidSearch("Invalid search data provided - two '" + field + "' conditions must be a ge/le range"), false
	}
	return out, fake.Outcome{}, true
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q, o, ok := s.parseQuery(r.URL.Query())
	if !ok {
		fake.WriteOutcome(w, o)
		return
	}
	type hit struct {
		nhs   shcrkit.NHSNumber
		score float64
		res   fhir.Patient
	}
	var hits []hit
	s.mu.RLock()
	for nhs, rec := range s.records {
		if score, ok := q.match(rec); ok {
			hits = append(hits, hit{nhs: nhs, score: score, res: rec.searchView()})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return strings.Compare(a.nhs.String(), b.nhs.String())
	})
	if len(hits) > q.max {
		fake.WriteOutcome(w, tooManyMatches)
		return
	}
	b := searchset{ResourceType: "Bundle", Type: "searchset", Timestamp: s.timestamp(), Total: len(hits)}
	for _, h := range hits {
		res, err := json.Marshal(h.res)
		if err != nil {
			fake.WriteOutcome(w, outcome(http.StatusInternalServerError, "exception", "", "", "rendering failed"))
			return
		}
		e := searchEntry{FullURL: baseURL(r) + "/Patient/" + h.nhs.String(), Resource: res}
		e.Search = &struct {
			Score float64 `json:"score"`
		}{h.score}
		b.Entry = append(b.Entry, e)
	}
	fake.WriteJSON(w, http.StatusOK, b)
}

// match reports whether rec matches the query and with what score.
func (q *query) match(rec *record) (float64, bool) {
	if rec.redacted {
		return 0, false
	}
	if rec.conf.Restricted() && (q.postcode != "" || q.gp != "") {
		return 0, false
	}
	p := &rec.res
	score := 1.0
	mul := func(f float64, ok bool) bool {
		score *= f
		return ok
	}
	if !mul(q.matchNames(p)) {
		return 0, false
	}
	if q.gender != "" && (p.Gender == nil || p.Gender.Code() != q.gender) {
		return 0, false
	}
	if len(q.birth) > 0 && !datesMatch(q.birth, ptr.Deref(p.BirthDate)) {
		return 0, false
	}
	if !mul(q.matchDeath(p)) {
		return 0, false
	}
	if q.postcode != "" && !mul(q.matchPostcode(p)) {
		return 0, false
	}
	if !mul(q.matchGP(p)) || !q.matchContact(p) {
		return 0, false
	}
	score = math.Round(score*100) / 100
	if q.exact && score < 1 {
		return 0, false
	}
	return score, true
}

// matchDeath scores the date of death: a mismatch fails a non-fuzzy
// search and lowers the score of a fuzzy one.
func (q *query) matchDeath(p *fhir.Patient) (float64, bool) {
	if len(q.death) == 0 {
		return 1, true
	}
	death := ptr.Deref(p.DeceasedDateTime)
	if i := strings.IndexByte(death, 'T'); i >= 0 {
		death = death[:i]
	}
	if datesMatch(q.death, death) {
		return 1, true
	}
	if !q.fuzzy {
		return 0, false
	}
	return scoreMismatch, true
}

// matchGP scores the general practitioner: a mismatch fails a non-fuzzy
// search and lowers the score of a fuzzy one.
func (q *query) matchGP(p *fhir.Patient) (float64, bool) {
	if q.gp == "" || gpIs(p, q.gp) {
		return 1, true
	}
	if !q.fuzzy {
		return 0, false
	}
	return scoreMismatch, true
}

// matchContact reports whether the record has the email address and
// phone number asked for.
func (q *query) matchContact(p *fhir.Patient) bool {
	if q.email != "" && !hasTelecom(p, fhir.ContactPointSystemEmail, q.email, true) {
		return false
	}
	if q.phone != "" && !hasTelecom(p, fhir.ContactPointSystemPhone, q.phone, false) {
		return false
	}
	return true
}

// matchNames scores the family and given names against the record's
// current names, then (for history and fuzzy searches) its old ones.
func (q *query) matchNames(p *fhir.Patient) (float64, bool) {
	if q.family == "" && len(q.given) == 0 {
		return 1, true
	}
	best, found := 0.0, false
	for _, n := range p.Name {
		use := ""
		if n.Use != nil {
			use = n.Use.Code()
		}
		historic := use == "old"
		switch {
		case use == "" || use == "usual" || use == "nickname" || use == "temp":
		case historic && (q.history || q.fuzzy):
		default:
			continue
		}
		f, ok := q.nameScore(ptr.Deref(n.Family), n.Given)
		if !ok {
			continue
		}
		if historic {
			f *= scoreHistoric
		}
		if f > best {
			best, found = f, true
		}
	}
	return best, found
}

// nameScore scores one recorded name.
func (q *query) nameScore(family string, given []string) (float64, bool) {
	score, ok := 1.0, true
	if q.family != "" {
		f, m := q.field(q.family, family)
		score, ok = score*f, m
	}
	for i, g := range q.given {
		if !ok {
			break
		}
		var rec string
		if i < len(given) {
			rec = given[i]
		}
		f, m := q.field(g, rec)
		switch {
		case m:
			score *= f
		case i > 0:
			score *= scoreExtraGiven
		default:
			ok = false
		}
	}
	if ok {
		return score, true
	}
	// A fuzzy search also finds the given and family names swapped.
	if q.fuzzy && q.family != "" && len(q.given) > 0 && len(given) > 0 &&
		strings.EqualFold(q.family, given[0]) && strings.EqualFold(q.given[0], family) {
		return scoreTransposed, true
	}
	return 0, false
}

// field scores one searched text against one recorded text: exact
// (ignoring case), by wildcard, or, in a fuzzy search, by sound.
func (q *query) field(searched, recorded string) (float64, bool) {
	if recorded == "" {
		return 0, false
	}
	s, r := lower(searched), lower(recorded)
	if s == r {
		return scoreExact, true
	}
	if strings.Contains(s, "*") && wildcardMatch(s, r) {
		return scoreWildcard, true
	}
	if q.fuzzy && soundex(s) != "" && soundex(s) == soundex(r) {
		return scoreHomophone, true
	}
	return 0, false
}

// wildcardMatch matches a pattern where "*" stands for any run of
// characters against the start of s.
func wildcardMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, p := range parts[1:] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

func (q *query) matchPostcode(p *fhir.Patient) (float64, bool) {
	want := strings.ReplaceAll(lower(q.postcode), " ", "")
	best, found := 0.0, false
	for _, a := range p.Address {
		got := strings.ReplaceAll(lower(ptr.Deref(a.PostalCode)), " ", "")
		if got == "" {
			continue
		}
		switch {
		case got == want:
			return scoreExact, true
		case strings.Contains(want, "*") && wildcardMatch(want, got):
			best, found = scoreWildcard, true
		}
	}
	return best, found
}

func datesMatch(conds []dateCond, recorded string) bool {
	t, err := parseDate(recorded)
	if err != nil {
		return false
	}
	for _, c := range conds {
		switch c.prefix {
		case "eq":
			if !t.Equal(c.date) {
				return false
			}
		case "ge":
			if t.Before(c.date) {
				return false
			}
		case "le":
			if t.After(c.date) {
				return false
			}
		}
	}
	return true
}

func gpIs(p *fhir.Patient, ods string) bool {
	for _, r := range p.GeneralPractitioner {
		if r.Identifier != nil && strings.EqualFold(ptr.Deref(r.Identifier.Value), ods) {
			return true
		}
	}
	return false
}

func hasTelecom(p *fhir.Patient, system fhir.ContactPointSystem, value string, foldCase bool) bool {
	for _, t := range p.Telecom {
		if t.System == nil || *t.System != system {
			continue
		}
		v := ptr.Deref(t.Value)
		if v == value || (foldCase && strings.EqualFold(v, value)) ||
			(!foldCase && strings.ReplaceAll(v, " ", "") == strings.ReplaceAll(value, " ", "")) {
			return true
		}
	}
	return false
}

// soundex is the American Soundex code of a name, "" when it has no
// letters.
func soundex(s string) string {
	code := func(c byte) byte {
		switch c {
		case 'b', 'f', 'p', 'v':
			return '1'
		case 'c', 'g', 'j', 'k', 'q', 's', 'x', 'z':
			return '2'
		case 'd', 't':
			return '3'
		case 'l':
			return '4'
		case 'm', 'n':
			return '5'
		case 'r':
			return '6'
		case 'h', 'w':
			return 'h'
		}
		return 0 // vowels and y
	}
	var out []byte
	var last byte
	for i := 0; i < len(s) && len(out) < 4; i++ {
		c := s[i]
		if c < 'a' || c > 'z' {
			continue
		}
		k := code(c)
		if len(out) == 0 {
			out = append(out, c-'a'+'A')
			last = k
			continue
		}
		switch {
		case k == 'h':
			// h and w do not separate letters of the same code.
		case k == 0:
			last = 0
		case k != last:
			out = append(out, k)
			last = k
		}
	}
	if len(out) == 0 {
		return ""
	}
	for len(out) < 4 {
		out = append(out, '0')
	}
	return string(out)
}
