package pds_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func born(d string) pds.DateRange { return pds.DateRange{From: d, To: d} }

func TestSearchQueryValidate(t *testing.T) {
	tests := []struct {
		name  string
		q     pds.SearchQuery
		field string // "" when valid
	}{
		{"family and birth date", pds.SearchQuery{Family: "Hartley", BirthDate: born("1984-03-14")}, ""},
		{"every parameter", pds.SearchQuery{Family: "Hart*", Given: []string{"John Paul", "James"}, Gender: pds.GenderMale,
			BirthDate: pds.DateRange{From: "1980-01-01", To: "1989-12-31"}, DeathDate: pds.DateRange{To: "2020-01-01"},
			Postcode: "YO6*", GeneralPractitioner: "Y10001", Email: "a@example.com", Phone: "01632 960000",
			ExactMatch: true, History: true, MaxResults: 50}, ""},
		{"fuzzy: given, family, birth date", pds.SearchQuery{Family: "Hartley", Given: []string{"Amelia"}, BirthDate: born("1984-03-14"), Fuzzy: true}, ""},
		{"fuzzy: family, birth date, gender, postcode", pds.SearchQuery{Family: "Hartley", BirthDate: born("1984-03-14"),
			Gender: pds.GenderFemale, Postcode: "YO62 4QT", Fuzzy: true}, ""},
		{"fuzzy: given, birth date, gender, postcode", pds.SearchQuery{Given: []string{"Amelia"}, BirthDate: born("1984-03-14"),
			Gender: pds.GenderFemale, Postcode: "YO62 4QT", Fuzzy: true}, ""},
		{"nothing", pds.SearchQuery{}, ""},
		{"no birth date", pds.SearchQuery{Family: "Hartley"}, "-"},
		{"no family name", pds.SearchQuery{Given: []string{"Amelia"}, BirthDate: born("1984-03-14")}, "-"},
		{"email and phone only", pds.SearchQuery{Email: "a@example.com", Phone: "01632960000"}, "-"},
		{"fuzzy without enough", pds.SearchQuery{Family: "Hartley", BirthDate: born("1984-03-14"), Fuzzy: true}, "-"},
		{"fuzzy with wildcard", pds.SearchQuery{Family: "Hart*", Given: []string{"A"}, BirthDate: born("1984-03-14"), Fuzzy: true}, "family"},
		{"wildcard first character", pds.SearchQuery{Family: "*artley", BirthDate: born("1984-03-14")}, "family"},
		{"wildcard second character", pds.SearchQuery{Family: "H*", BirthDate: born("1984-03-14")}, "family"},
		{"wildcard after two multibyte characters", pds.SearchQuery{Family: "Ør*", BirthDate: born("1984-03-14")}, ""},
		{"given wildcard too early", pds.SearchQuery{Family: "Hartley", Given: []string{"A*"}, BirthDate: born("1984-03-14")}, "given[0]"},
		{"empty given", pds.SearchQuery{Family: "Hartley", Given: []string{"Amelia", ""}, BirthDate: born("1984-03-14")}, "given[1]"},
		{"postcode wildcard too early", pds.SearchQuery{Family: "Hartley", Postcode: "Y*", BirthDate: born("1984-03-14")}, "address-postalcode"},
		{"family too long", pds.SearchQuery{Family: "Abcdefghijklmnopqrstuvwxyzabcdefghij", BirthDate: born("1984-03-14")}, "family"},
		{"bad gender", pds.SearchQuery{Family: "Hartley", Gender: "mal", BirthDate: born("1984-03-14")}, "gender"},
		{"bad date", pds.SearchQuery{Family: "Hartley", BirthDate: born("14/03/1984")}, "birthdate.from"},
		{"impossible date", pds.SearchQuery{Family: "Hartley", BirthDate: born("1984-02-30")}, "birthdate.from"},
		{"bad end of range", pds.SearchQuery{Family: "Hartley", BirthDate: pds.DateRange{From: "1984-03-14", To: "1984-3-15"}}, "birthdate.to"},
		{"range from a day only", pds.SearchQuery{Family: "Hartley", BirthDate: pds.DateRange{From: "1984-03-14"}}, ""},
		{"inverted range", pds.SearchQuery{Family: "Hartley", BirthDate: pds.DateRange{From: "1990-01-01", To: "1980-01-01"}}, "birthdate"},
		{"bad death date", pds.SearchQuery{Family: "Hartley", BirthDate: born("1984-03-14"), DeathDate: born("2020")}, "death-date.from"},
		{"bad GP", pds.SearchQuery{Family: "Hartley", BirthDate: born("1984-03-14"), GeneralPractitioner: "y1"}, "general-practitioner"},
		{"email wildcard", pds.SearchQuery{Family: "Hartley", BirthDate: born("1984-03-14"), Email: "a*@example.com"}, "email"},
		{"not an email", pds.SearchQuery{Family: "Hartley", BirthDate: born("1984-03-14"), Email: "nobody"}, "email"},
		{"phone wildcard", pds.SearchQuery{Family: "Hartley", BirthDate: born("1984-03-14"), Phone: "01632*"}, "phone"},
		{"too many results", pds.SearchQuery{Family: "Hartley", BirthDate: born("1984-03-14"), MaxResults: 51}, "_max-results"},
		{"negative results", pds.SearchQuery{Family: "Hartley", BirthDate: born("1984-03-14"), MaxResults: -1}, "_max-results"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pds.ValidateSearch(&tt.q)
			if tt.field == "" && tt.name != "nothing" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, pds.ErrInvalidSearch)
			assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
			var ie *pds.InputError
			require.True(t, errors.As(err, &ie))
			if tt.field != "-" && tt.field != "" {
				assert.Equal(t, tt.field, ie.Field)
			}
			for _, v := range append(tt.q.Given, tt.q.Family, tt.q.Email, tt.q.Phone, tt.q.Postcode) {
				if len(v) > 3 {
					assert.NotContains(t, err.Error(), v, "the error must not echo search values")
				}
			}
		})
	}
}

func TestSearchQueryValues(t *testing.T) {
	q := pds.SearchQuery{Family: "Sm*t*", Given: []string{"John Paul", "James"}, Gender: pds.GenderMale,
		BirthDate: pds.DateRange{From: "2010-10-21", To: "2010-10-23"}, DeathDate: born("2020-01-01"), Postcode: "LS1 6AE",
		GeneralPractitioner: "Y12345", Email: "j@example.com", Phone: "01632960587", Fuzzy: true, ExactMatch: true,
		History: true, MaxResults: 3}
	want := url.Values{
		"family": {"Sm*t*"}, "given": {"John Paul", "James"}, "gender": {"male"},
		"birthdate": {"ge2010-10-21", "le2010-10-23"}, "death-date": {"eq2020-01-01"}, "address-postalcode": {"LS1 6AE"},
		"general-practitioner": {"Y12345"}, "email": {"j@example.com"}, "phone": {"01632960587"},
		"_fuzzy-match": {"true"}, "_exact-match": {"true"}, "_history": {"true"}, "_max-results": {"3"},
	}
	v := q.Values()
	assert.Equal(t, want, v)
	assert.Contains(t, v.Encode(), "family=Sm%2At%2A", "wildcards must be percent-encoded")
	assert.Empty(t, (&pds.SearchQuery{}).Values())
}

func TestSearchAnswers(t *testing.T) {
	q := pds.SearchQuery{Family: "Fernsby", BirthDate: born("1961-06-30")}
	tests := []struct {
		name    string
		answer  http.HandlerFunc
		want    []string // NHS numbers, in order
		scores  []float64
		wantErr []error
	}{
		{name: "sorted best first", answer: reply(200, searchsetJSON(
			entryJSON("0.8", patientJSON("9490000027", "U", "1")),
			entryJSON("1", patientJSON("9490000019", "U", "1")),
			entryJSON("0.95", restrictedJSON("9490000035", "R")))),
			want: []string{"9490000019", "9490000035", "9490000027"}, scores: []float64{1, 0.95, 0.8}},
		{name: "numeric meta.versionId in an entry", answer: reply(200, searchsetJSON(
			entryJSON("1", `{"resourceType":"Patient","id":"9490000019","meta":{"versionId":3}}`))),
			want: []string{"9490000019"}, scores: []float64{1}},
		{name: "empty bundle", answer: reply(200, `{"resourceType":"Bundle","type":"searchset","total":0}`), want: []string{}},
		{name: "too many matches", answer: reply(200, `{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"multiple-matches",
			"details":{"coding":[{"system":"https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode","code":"TOO_MANY_MATCHES"}]}}]}`),
			wantErr: []error{pds.ErrTooManyMatches}},
		{name: "too many matches sent with 400", answer: reply(400, outcomeJSON("multiple-matches", "TOO_MANY_MATCHES", "")),
			wantErr: []error{pds.ErrTooManyMatches, shcrkit.ErrInvalidRequest}},
		{name: "other outcome with 200", answer: reply(200, `{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"not-supported","diagnostics":"no example"}]}`)},
		{name: "invalid search data", answer: reply(400, outcomeJSON("value", "INVALID_SEARCH_DATA", "bad")),
			wantErr: []error{shcrkit.ErrInvalidRequest}},
		{name: "app-restricted many results", answer: reply(403, outcomeJSON("value", "INVALID_VALUE", "")),
			wantErr: []error{shcrkit.ErrForbidden}},
		{name: "entry not a patient", answer: reply(200, searchsetJSON(entryJSON("1", `{"resourceType":"RelatedPerson"}`))),
			wantErr: []error{shcrkit.ErrMalformedResponse}},
		{name: "score out of range", answer: reply(200, searchsetJSON(entryJSON("1.5", patientJSON("9490000019", "U", "1")))),
			wantErr: []error{shcrkit.ErrMalformedResponse}},
		{name: "not a bundle", answer: reply(200, patientJSON("9490000019", "U", "1")),
			wantErr: []error{shcrkit.ErrMalformedResponse}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.answer)
			ms, err := f.client(t).Search(context.Background(), q)
			if tt.want == nil {
				require.Error(t, err)
				for _, w := range tt.wantErr {
					assert.ErrorIs(t, err, w)
				}
				var apiErr *shcrkit.APIError
				if errors.Is(err, pds.ErrTooManyMatches) {
					require.True(t, errors.As(err, &apiErr))
					assert.Equal(t, "TOO_MANY_MATCHES", apiErr.Code)
					assert.Equal(t, f.requests()[0].Header.Get("X-Request-ID"), apiErr.RequestID)
				}
				assert.NotContains(t, err.Error(), "Fernsby")
				return
			}
			require.NoError(t, err)
			require.NotNil(t, ms)
			got := make([]string, len(ms))
			for i, m := range ms {
				got[i] = m.Patient.NHSNumber().String()
				if tt.scores != nil {
					assert.Equal(t, tt.scores[i], m.Score)
				}
				assert.Empty(t, m.Patient.Superseded())
			}
			assert.Equal(t, tt.want, got)
			r := f.requests()[0]
			assert.Equal(t, "/personal-demographics/FHIR/R4/Patient", r.URL.Path)
			assert.Equal(t, q.Values(), r.URL.Query())
		})
	}
}

func TestSearchAgainstFake(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	pop := map[shcrkit.NHSNumber]pdstest.Person{}
	for _, p := range pdstest.Population() {
		pop[p.NHSNumber] = p
	}
	amelia := pop[pdstest.Patients.Normal]
	tests := []struct {
		name    string
		q       pds.SearchQuery
		first   shcrkit.NHSNumber // best match, when any
		n       int               // number of matches, -1 for too many
		check   func(t *testing.T, ms []pds.Match)
		wantErr error
	}{
		{name: "exact", q: pds.SearchQuery{Family: "hartley", Given: []string{"AMELIA"}, BirthDate: born(amelia.BirthDate)},
			first: pdstest.Patients.Normal, n: 1, check: func(t *testing.T, ms []pds.Match) { assert.Equal(t, 1.0, ms[0].Score) }},
		{name: "shared surname and birthday", q: pds.SearchQuery{Family: pdstest.SharedSurname, BirthDate: born(amelia.BirthDate)}, n: 3},
		{name: "too many for the limit", q: pds.SearchQuery{Family: pdstest.SharedSurname, BirthDate: born(amelia.BirthDate), MaxResults: 2},
			n: -1, wantErr: pds.ErrTooManyMatches},
		{name: "date range", q: pds.SearchQuery{Family: pdstest.SharedSurname, BirthDate: pds.DateRange{From: "1950-01-01", To: "1999-12-31"}}, n: 5},
		{name: "wildcard scores below exact", q: pds.SearchQuery{Family: "Hart*", Given: []string{"Amelia"}, BirthDate: born(amelia.BirthDate)},
			first: pdstest.Patients.Normal, n: 2, check: func(t *testing.T, ms []pds.Match) {
				assert.Equal(t, 0.9, ms[0].Score)
				assert.Equal(t, 0.9, ms[1].Score)
			}},
		{name: "exact-match drops wildcard matches", q: pds.SearchQuery{Family: "Hart*", BirthDate: born(amelia.BirthDate), ExactMatch: true}, n: 0},
		{name: "fuzzy ranks exact over homophone", q: pds.SearchQuery{Family: "Hartley", Given: []string{"Amelia"}, BirthDate: born(amelia.BirthDate), Fuzzy: true},
			first: pdstest.Patients.Normal, n: 2, check: func(t *testing.T, ms []pds.Match) {
				assert.Equal(t, 1.0, ms[0].Score)
				assert.Less(t, ms[1].Score, 1.0)
				n, _ := ms[1].Patient.UsualName()
				assert.Equal(t, "Hartly", n.Family)
			}},
		{name: "history finds a previous surname", q: pds.SearchQuery{Family: pdstest.SharedSurname, BirthDate: born("1996-04-09"), History: true},
			first: pdstest.SyntheticNHSNumber(15), n: 1, check: func(t *testing.T, ms []pds.Match) {
				assert.Less(t, ms[0].Score, 1.0)
				assert.Len(t, ms[0].Patient.Names(), 1, "a search returns no old names")
			}},
		{name: "no history, no previous surname", q: pds.SearchQuery{Family: pdstest.SharedSurname, BirthDate: born("1996-04-09")}, n: 0},
		{name: "fuzzy finds transposed names", q: pds.SearchQuery{Family: "Owen", Given: []string{"Morgan"}, BirthDate: born("1973-10-17"), Fuzzy: true},
			first: pdstest.SyntheticNHSNumber(16), n: 1},
		{name: "restricted patient found without location", q: pds.SearchQuery{Family: "Ashdown", BirthDate: born("1991-09-05")},
			first: pdstest.Patients.Restricted, n: 1, check: func(t *testing.T, ms []pds.Match) {
				assert.True(t, ms[0].Patient.Confidentiality().Restricted())
				assert.Empty(t, ms[0].Patient.Resource.Address)
			}},
		{name: "restricted patient hidden from postcode search", q: pds.SearchQuery{Family: "Ashdown", BirthDate: born("1991-09-05"), Postcode: "SP4 7RD"}, n: 0},
		{name: "postcode ignoring spaces and case", q: pds.SearchQuery{Family: pdstest.SharedSurname, BirthDate: born(amelia.BirthDate), Postcode: "yo624qt"}, n: 2},
		{name: "postcode wildcard", q: pds.SearchQuery{Family: pdstest.SharedSurname, BirthDate: born(amelia.BirthDate), Postcode: "PE1*"},
			first: pdstest.SyntheticNHSNumber(11), n: 1},
		{name: "GP", q: pds.SearchQuery{Family: pdstest.SharedSurname, BirthDate: born(amelia.BirthDate), GeneralPractitioner: "Y30002"},
			first: pdstest.SyntheticNHSNumber(11), n: 1},
		{name: "email ignoring case", q: pds.SearchQuery{Family: pdstest.SharedSurname, BirthDate: born(amelia.BirthDate), Email: "Amelia.Hartley@example.com"},
			first: pdstest.Patients.Normal, n: 1},
		{name: "phone", q: pds.SearchQuery{Family: pdstest.SharedSurname, BirthDate: born(amelia.BirthDate), Phone: "01632 960104"},
			first: pdstest.SyntheticNHSNumber(10), n: 1},
		{name: "gender", q: pds.SearchQuery{Family: pdstest.SharedSurname, BirthDate: born(amelia.BirthDate), Gender: pds.GenderMale}, n: 2},
		{name: "death date", q: pds.SearchQuery{Family: "Pembury", BirthDate: born("1931-05-02"), DeathDate: pds.DateRange{From: "2023-01-01"}},
			first: pdstest.Patients.Deceased, n: 1, check: func(t *testing.T, ms []pds.Match) { _, dead := ms[0].Patient.Deceased(); assert.True(t, dead) }},
		{name: "death date not matching", q: pds.SearchQuery{Family: "Pembury", BirthDate: born("1931-05-02"), DeathDate: pds.DateRange{To: "2000-01-01"}}, n: 0},
		{name: "redacted never found", q: pds.SearchQuery{Family: "Voss", BirthDate: born("1975-01-30")}, n: 0},
		{name: "superseded resolves to one record", q: pds.SearchQuery{Family: "Marlow", BirthDate: born("1968-08-19")},
			first: pdstest.Patients.Surviving, n: 1},
		{name: "second given name not recorded lowers the score", q: pds.SearchQuery{Family: "Morgan", Given: []string{"Owen", "Gareth"}, BirthDate: born("1973-10-17")},
			first: pdstest.SyntheticNHSNumber(16), n: 1, check: func(t *testing.T, ms []pds.Match) { assert.Less(t, ms[0].Score, 1.0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := c.Search(ctx, tt.q)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, ms)
			require.Len(t, ms, tt.n)
			if tt.first != "" {
				assert.Equal(t, tt.first, ms[0].Patient.NHSNumber())
			}
			for i := 1; i < len(ms); i++ {
				assert.GreaterOrEqual(t, ms[i-1].Score, ms[i].Score)
			}
			if tt.check != nil {
				tt.check(t, ms)
			}
		})
	}
}

func TestSearchApplicationRestricted(t *testing.T) {
	srv := pdstest.NewServer(pdstest.WithAccessMode(pds.AccessApplicationRestricted))
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	ms, err := c.Search(ctx, pds.SearchQuery{Family: "Hartley", Given: []string{"Amelia"}, BirthDate: born("1984-03-14"), MaxResults: 1})
	require.NoError(t, err)
	require.Len(t, ms, 1)

	_, err = c.Search(ctx, pds.SearchQuery{Family: "Hartley", BirthDate: born("1984-03-14")})
	assert.ErrorIs(t, err, pds.ErrTooManyMatches, "the service's default is one result")

	// A healthcare worker client against an application-restricted
	// service: the service refuses more than one result.
	hcw, err := srv.NewClient(pds.WithAccessMode(pds.AccessHealthcareWorker))
	require.NoError(t, err)
	_, err = hcw.Search(ctx, pds.SearchQuery{Family: "Hartley", BirthDate: born("1984-03-14"), MaxResults: 5})
	assert.ErrorIs(t, err, shcrkit.ErrForbidden)
	var apiErr *shcrkit.APIError
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, "INVALID_VALUE", apiErr.Code)
}
