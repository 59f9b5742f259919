package pds

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// Gender is an administrative gender as PDS records it.
type Gender string

// Genders PDS records.
const (
	GenderMale    Gender = "male"
	GenderFemale  Gender = "female"
	GenderOther   Gender = "other"
	GenderUnknown Gender = "unknown"
)

// DateRange is a birthdate or death-date condition over whole days, each
// date yyyy-mm-dd: with From and To equal, that one day; with
// both set, the days from From to To inclusive; with From alone, that day
// or later; with To alone, that day or earlier. The zero DateRange is no
// condition.
type DateRange struct {
	From, To string
}

// params renders the condition as the service's prefixed values:
// "eq2010-10-22", or "ge…" and "le…".
func (d DateRange) params() []string {
	switch {
	case d.From == "" && d.To == "":
		return nil
	case d.From == d.To:
		return []string{"eq" + d.From}
	}
	var out []string
	if d.From != "" {
		out = append(out, "ge"+d.From)
	}
	if d.To != "" {
		out = append(out, "le"+d.To)
	}
	return out
}

// maxSearchResults is the most matches a search may ask for.
const maxSearchResults = 50

// SearchQuery is a patient search. Text parameters are not case
// sensitive; Family, Given and Postcode may end in the wildcard "*" (not
// within their first two characters) unless the search is fuzzy.
//
// A non-fuzzy search needs at least Family and BirthDate. A fuzzy search
// needs Given, Family and BirthDate; or Family, BirthDate, Gender and
// Postcode; or Given, BirthDate, Gender and Postcode.
type SearchQuery struct {
	// Family is the family name (surname), at most 35 characters.
	Family string
	// Given are the given names in order, each at most 35 characters; the
	// first may be compound ("John Paul").
	Given []string
	// Gender is the recorded gender.
	Gender Gender
	// BirthDate is the date of birth: one day (On) or a range.
	BirthDate DateRange
	// DeathDate is the date of death, in the same form as BirthDate.
	DeathDate DateRange
	// Postcode is the postcode of any known address; spaces are ignored.
	Postcode string
	// GeneralPractitioner is the ODS code of the registered GP practice.
	GeneralPractitioner shcrkit.ODSCode
	// Email and Phone match exactly (email ignoring case); no wildcards.
	Email string
	Phone string
	// Fuzzy matches homophones, transposed names and history; wildcards
	// are not allowed.
	Fuzzy bool
	// ExactMatch returns only the matches scored 1.0.
	ExactMatch bool
	// History searches previous names and addresses too.
	History bool
	// MaxResults is the most matches to return, 1 to 50; 0 means the
	// service's default (50 for healthcare workers, 1 for
	// application-restricted access, which may ask for no more than 1).
	// More matches than this fail the search with ErrTooManyMatches.
	MaxResults int
}

// Match is a patient found by a search.
type Match struct {
	// Patient is the record as a search returns it: only usual, nickname
	// and temporary names, only the home address, no pharmacies or
	// preferences.
	Patient *Patient
	// Score is how well the patient matched, from 0 to 1 (1.0: exactly).
	Score float64
}

// Search finds patients. It checks the query before sending it and fails
// with an error matching ErrInvalidSearch (or ErrAccessMode) when the
// service would reject it. The matches come best first; no match is an
// empty slice and no error. More matches than the query's MaxResults (or
// the service's limit) fail with ErrTooManyMatches. The values searched
// for are replaced by "[redacted]" wherever the service's error answer
// quotes them.
func (c *Client) Search(ctx context.Context, q SearchQuery) ([]Match, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	if err := q.validate(c.mode); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(ctx, &fhirhttp.Request{Path: "/Patient", Query: q.Values()})
	if err != nil {
		return nil, redactEcho(classify(err), q.sentValues())
	}
	b, err := decodeBundle(resp)
	if err != nil {
		return nil, redactEcho(err, q.sentValues())
	}
	matches := make([]Match, 0, len(b.Entry))
	for i, e := range b.Entry {
		var env patientEnvelope
		if err := unmarshalPatient(e.Resource, &env); err != nil || env.ResourceType != "Patient" {
			return nil, malformed(resp, "entry %d is not a Patient", i)
		}
		m := Match{Patient: newPatient(env.Patient, "", "")}
		if e.Search != nil && e.Search.Score != nil {
			s, err := e.Search.Score.Float64()
			if err != nil || s < 0 || s > 1 {
				return nil, malformed(resp, "entry %d has a score outside 0..1", i)
			}
			m.Score = s
		}
		matches = append(matches, m)
	}
	slices.SortStableFunc(matches, func(a, b Match) int { return cmp.Compare(b.Score, a.Score) })
	return matches, nil
}

// Values renders the query as the service's URL parameters. It does not
// validate the query.
func (q *SearchQuery) Values() url.Values {
	v := url.Values{}
	if q.Family != "" {
		v.Set("family", q.Family)
	}
	for _, g := range q.Given {
		v.Add("given", g)
	}
	if q.Gender != "" {
		v.Set("gender", string(q.Gender))
	}
	for _, d := range q.BirthDate.params() {
		v.Add("birthdate", d)
	}
	for _, d := range q.DeathDate.params() {
		v.Add("death-date", d)
	}
	if q.Postcode != "" {
		v.Set("address-postalcode", q.Postcode)
	}
	if q.GeneralPractitioner != "" {
		v.Set("general-practitioner", string(q.GeneralPractitioner))
	}
	if q.Email != "" {
		v.Set("email", q.Email)
	}
	if q.Phone != "" {
		v.Set("phone", q.Phone)
	}
	if q.Fuzzy {
		v.Set("_fuzzy-match", "true")
	}
	if q.ExactMatch {
		v.Set("_exact-match", "true")
	}
	if q.History {
		v.Set("_history", "true")
	}
	if q.MaxResults != 0 {
		v.Set("_max-results", strconv.Itoa(q.MaxResults))
	}
	return v
}

func (q *SearchQuery) validate(mode AccessMode) error {
	if q.empty() {
		return searchError("", "no search parameters")
	}
	for _, check := range []func() error{
		q.checkNames,
		q.checkDemographics,
		q.checkContact,
		func() error { return q.checkResultLimit(mode) },
		q.checkCombination,
	} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// empty reports whether the query has no search parameter at all.
func (q *SearchQuery) empty() bool {
	return q.Family == "" && len(q.Given) == 0 && q.Gender == "" && q.BirthDate == (DateRange{}) &&
		q.DeathDate == (DateRange{}) && q.Postcode == "" && q.GeneralPractitioner == "" && q.Email == "" && q.Phone == ""
}

// checkNames checks the family name and each given name.
func (q *SearchQuery) checkNames() error {
	if err := checkName("family", q.Family, q.Fuzzy); err != nil {
		return err
	}
	for i, g := range q.Given {
		field := fmt.Sprintf("given[%d]", i)
		if g == "" {
			return searchError(field, "empty")
		}
		if err := checkName(field, g, q.Fuzzy); err != nil {
			return err
		}
	}
	return nil
}

// checkDemographics checks gender, birth and death dates, postcode and
// general practitioner.
func (q *SearchQuery) checkDemographics() error {
	switch q.Gender {
	case "", GenderMale, GenderFemale, GenderOther, GenderUnknown:
	default:
		return searchError("gender", "must be male, female, other or unknown")
	}
	if err := checkDates("birthdate", q.BirthDate); err != nil {
		return err
	}
	if err := checkDates("death-date", q.DeathDate); err != nil {
		return err
	}
	if err := checkWildcard("address-postalcode", q.Postcode, q.Fuzzy); err != nil {
		return err
	}
	if q.GeneralPractitioner != "" && !q.GeneralPractitioner.Valid() {
		return searchError("general-practitioner", "not a valid ODS code")
	}
	return nil
}

// checkContact checks the email address and phone number.
func (q *SearchQuery) checkContact() error {
	if strings.Contains(q.Email, "*") {
		return searchError("email", "wildcards are not allowed")
	}
	if q.Email != "" && !strings.Contains(q.Email, "@") {
		return searchError("email", "not an email address")
	}
	if strings.Contains(q.Phone, "*") {
		return searchError("phone", "wildcards are not allowed")
	}
	return nil
}

// checkResultLimit checks _max-results against the service's limit and
// the access mode.
func (q *SearchQuery) checkResultLimit(mode AccessMode) error {
	if q.MaxResults < 0 || q.MaxResults > maxSearchResults {
		return searchError("_max-results", "must be between 1 and 50")
	}
	if mode == AccessApplicationRestricted && q.MaxResults > 1 {
		return modeError("application-restricted access may ask for one search result only")
	}
	return nil
}

// checkCombination checks that the query has one of the combinations of
// parameters the service needs for its kind of search.
func (q *SearchQuery) checkCombination() error {
	has := func(s string) bool { return s != "" }
	given, family, born, gender, postcode := len(q.Given) > 0, has(q.Family), q.BirthDate != (DateRange{}), has(string(q.Gender)), has(q.Postcode)
	if q.Fuzzy {
		if !(given && family && born) && !(family && born && gender && postcode) && !(given && born && gender && postcode) {
			return searchError("", "a fuzzy search needs given name, family name and date of birth; "+
				"or family name, date of birth, gender and postcode; or given name, date of birth, gender and postcode")
		}
		return nil
	}
	if !family || !born {
		return searchError("", "a non-fuzzy search needs at least the family name and the date of birth")
	}
	return nil
}

func checkName(field, s string, fuzzy bool) error {
	if utf8.RuneCountInString(s) > 35 {
		return searchError(field, "longer than 35 characters")
	}
	return checkWildcard(field, s, fuzzy)
}

// checkWildcard applies the service's wildcard rules: none in a fuzzy
// search, and never within the first two characters.
func checkWildcard(field, s string, fuzzy bool) error {
	i := strings.IndexByte(s, '*')
	if i < 0 {
		return nil
	}
	if fuzzy {
		return searchError(field, "wildcards are not allowed in a fuzzy search")
	}
	if utf8.RuneCountInString(s[:i]) < 2 {
		return searchError(field, "a wildcard may not be one of the first two characters")
	}
	return nil
}

// checkDates checks that each date of the condition is yyyy-mm-dd and
// that the range does not end before it starts.
func checkDates(field string, d DateRange) error {
	var from, to time.Time
	for _, f := range []struct {
		name, date string
		t          *time.Time
	}{{".from", d.From, &from}, {".to", d.To, &to}} {
		if f.date == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", f.date)
		if err != nil {
			return searchError(field+f.name, "date must be yyyy-mm-dd")
		}
		*f.t = t
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return searchError(field, "the range ends before it starts")
	}
	return nil
}
