// Command pds-lookup looks a patient up in the Personal Demographics Service,
// real or fake, by NHS number or by demographics, and prints the result as a
// table or as JSON.
//
//	go run ./examples/pds-lookup 9000000009
//	go run ./examples/pds-lookup -family Smith -birthdate 2010-10-22
//	go run ./examples/pds-lookup -base http://127.0.0.1:8700/personal-demographics/FHIR/R4 -json 9490000012
//
// The default base URL is the public NHS sandbox, which needs no
// credentials; -token sends a bearer token for the integration
// environments (or set SHCRKIT_TOKEN). Every flag can be set in the
// environment the same way (SHCRKIT_BASE for -base); -h lists them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/examples/internal/cli"
	"github.com/shcrkit/shcrkit/pds"
	"golang.org/x/oauth2"
)

// SandboxURL is the public PDS sandbox.
const SandboxURL = "https://sandbox.api.service.nhs.uk/personal-demographics/FHIR/R4"

func main() { cli.Main("pds-lookup", time.Minute, run) }

// options are pds-lookup's flags and arguments.
type options struct {
	base, token, ods string
	worker           bool
	asJSON, related  bool
	// search is the query given by the search flags; birth and given are
	// copied into it only when set.
	search       pds.SearchQuery
	given, birth string
	args         []string
	usage        func()
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	client, err := newClient(o)
	if err != nil {
		return err
	}
	matches, err := lookUp(ctx, client, o)
	if err != nil {
		return err
	}
	var people map[string][]pds.RelatedPerson
	if o.related {
		if people, err = relatedPeople(ctx, client, matches); err != nil {
			return err
		}
	}
	if o.asJSON {
		return printJSON(stdout, matches, people)
	}
	return printTable(stdout, matches, people)
}

// parseOptions reads the flags.
func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := cli.NewFlagSet("pds-lookup", stderr, "pds-lookup [flags] NHS-NUMBER", "pds-lookup [flags] -family NAME -birthdate YYYY-MM-DD [search flags]")
	fs.StringVar(&o.base, "base", SandboxURL, "PDS FHIR R4 base URL")
	fs.StringVar(&o.token, "token", "", "bearer access token (or $SHCRKIT_TOKEN; none for the sandbox)")
	fs.StringVar(&o.ods, "ods", "", "end-user organisation ODS code (NHSD-End-User-Organisation-ODS)")
	fs.BoolVar(&o.worker, "healthcare-worker", false, "healthcare worker access (CIS2): allows several matches")
	fs.BoolVar(&o.asJSON, "json", false, "print JSON instead of a table")
	fs.BoolVar(&o.related, "related", false, "also list the patient's related people")
	fs.StringVar(&o.search.Family, "family", "", "search: family name")
	fs.StringVar(&o.given, "given", "", "search: given name(s), space separated")
	fs.StringVar(&o.birth, "birthdate", "", "search: date of birth yyyy-mm-dd")
	gender := fs.String("gender", "", "search: male, female, other or unknown")
	fs.StringVar(&o.search.Postcode, "postcode", "", "search: postcode")
	fs.BoolVar(&o.search.Fuzzy, "fuzzy", false, "search: fuzzy match")
	fs.IntVar(&o.search.MaxResults, "max", 0, "search: most results (1-50)")
	if err := cli.Parse(fs, args); err != nil {
		return o, err
	}
	o.search.Gender = pds.Gender(*gender)
	if o.given != "" {
		o.search.Given = strings.Fields(o.given)
	}
	if o.birth != "" {
		o.search.BirthDate = pds.DateRange{From: o.birth, To: o.birth}
	}
	o.args, o.usage = fs.Args(), fs.Usage
	return o, nil
}

// newClient is a PDS client set up as the flags say.
func newClient(o options) (*pds.Client, error) {
	opts := []pds.Option{pds.WithUserAgent("pds-lookup")}
	if o.token != "" {
		opts = append(opts, pds.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: o.token})))
	}
	if o.ods != "" {
		code, err := shcrkit.ParseODSCode(o.ods)
		if err != nil {
			return nil, err
		}
		opts = append(opts, pds.WithEndUserOrganisation(code))
	}
	if o.worker {
		opts = append(opts, pds.WithAccessMode(pds.AccessHealthcareWorker))
	}
	return pds.NewClient(o.base, opts...)
}

// lookUp reads the patient by NHS number, or searches by demographics.
func lookUp(ctx context.Context, client *pds.Client, o options) ([]pds.Match, error) {
	switch {
	case len(o.args) == 1:
		nhs, err := shcrkit.ParseNHSNumber(o.args[0])
		if err != nil {
			return nil, err
		}
		p, err := client.Get(ctx, nhs)
		if err != nil {
			return nil, err
		}
		return []pds.Match{{Patient: p, Score: 1}}, nil
	case len(o.args) == 0 && (o.search.Family != "" || o.birth != "" || o.search.Postcode != ""):
		return client.Search(ctx, o.search)
	default:
		o.usage()
		return nil, errors.New("give one NHS number, or search flags")
	}
}

// relatedPeople are the related people of every match, by NHS number.
func relatedPeople(ctx context.Context, client *pds.Client, matches []pds.Match) (map[string][]pds.RelatedPerson, error) {
	people := make(map[string][]pds.RelatedPerson)
	for _, m := range matches {
		rp, err := client.RelatedPersons(ctx, m.Patient.NHSNumber())
		if err != nil {
			return nil, err
		}
		people[m.Patient.NHSNumber().String()] = rp
	}
	return people, nil
}

// row is what the tool shows of one patient.
type row struct {
	NHSNumber       string                 `json:"nhsNumber"`
	Superseded      string                 `json:"supersededNhsNumber,omitempty"`
	Score           float64                `json:"score"`
	Name            string                 `json:"name,omitempty"`
	BirthDate       string                 `json:"birthDate,omitempty"`
	Gender          string                 `json:"gender,omitempty"`
	Postcode        string                 `json:"postcode,omitempty"`
	GP              string                 `json:"gpPractice,omitempty"`
	Confidentiality string                 `json:"confidentiality"`
	Deceased        string                 `json:"deceased,omitempty"`
	Version         string                 `json:"version,omitempty"`
	Related         []relatedRow           `json:"related,omitempty"`
	Resource        map[string]interface{} `json:"resource,omitempty"`
}

type relatedRow struct {
	Name         string   `json:"name,omitempty"`
	Relationship []string `json:"relationship,omitempty"`
}

func rowOf(m pds.Match, related []pds.RelatedPerson) row {
	p := m.Patient
	r := row{
		NHSNumber:       p.NHSNumber().String(),
		Superseded:      p.Superseded().String(),
		Score:           m.Score,
		BirthDate:       p.BirthDate(),
		Gender:          p.Gender(),
		GP:              string(p.GPPractice()),
		Confidentiality: p.Confidentiality().Code(),
		Deceased:        deathDate(p),
		Version:         p.Version(),
	}
	if n, ok := p.UsualName(); ok {
		r.Name = n.String()
	}
	if a, ok := p.HomeAddress(); ok {
		r.Postcode = a.PostalCode
	}
	for _, rp := range related {
		var rr relatedRow
		if n, ok := rp.Name(); ok {
			rr.Name = n.String()
		}
		rr.Relationship = rp.Relationships()
		r.Related = append(r.Related, rr)
	}
	return r
}

func printJSON(w io.Writer, matches []pds.Match, related map[string][]pds.RelatedPerson) error {
	rows := make([]row, 0, len(matches))
	for _, m := range matches {
		rows = append(rows, rowOf(m, related[m.Patient.NHSNumber().String()]))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

func printTable(w io.Writer, matches []pds.Match, related map[string][]pds.RelatedPerson) error {
	if len(matches) == 0 {
		_, err := fmt.Fprintln(w, "no match")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NHS NUMBER\tSCORE\tNAME\tBORN\tGENDER\tPOSTCODE\tGP\tCONF\tDECEASED\tVERSION")
	for _, m := range matches {
		r := rowOf(m, related[m.Patient.NHSNumber().String()])
		nhs := m.Patient.NHSNumber().Format()
		if r.Superseded != "" {
			nhs += " (asked " + m.Patient.Superseded().Format() + ")"
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", nhs, r.Score, dash(r.Name), dash(r.BirthDate),
			dash(r.Gender), dash(r.Postcode), dash(r.GP), dash(r.Confidentiality), dash(r.Deceased), dash(r.Version))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, m := range matches {
		rel := related[m.Patient.NHSNumber().String()]
		if related == nil {
			continue
		}
		fmt.Fprintf(w, "\nrelated to %s:\n", m.Patient.NHSNumber().Format())
		if len(rel) == 0 {
			fmt.Fprintln(w, "  none")
		}
		for _, rr := range rowOf(m, rel).Related {
			fmt.Fprintf(w, "  %s (%s)\n", dash(rr.Name), strings.Join(rr.Relationship, ", "))
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// deathDate is the patient's recorded date of death, or "".
func deathDate(p *pds.Patient) string {
	d, _ := p.Deceased()
	return d
}
