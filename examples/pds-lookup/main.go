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

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("pds-lookup", stderr, "pds-lookup [flags] NHS-NUMBER", "pds-lookup [flags] -family NAME -birthdate YYYY-MM-DD [search flags]")
	base := fs.String("base", SandboxURL, "PDS FHIR R4 base URL")
	token := fs.String("token", "", "bearer access token (or $SHCRKIT_TOKEN; none for the sandbox)")
	ods := fs.String("ods", "", "end-user organisation ODS code (NHSD-End-User-Organisation-ODS)")
	worker := fs.Bool("healthcare-worker", false, "healthcare worker access (CIS2): allows several matches")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	related := fs.Bool("related", false, "also list the patient's related people")
	family := fs.String("family", "", "search: family name")
	given := fs.String("given", "", "search: given name(s), space separated")
	birth := fs.String("birthdate", "", "search: date of birth yyyy-mm-dd")
	gender := fs.String("gender", "", "search: male, female, other or unknown")
	postcode := fs.String("postcode", "", "search: postcode")
	fuzzy := fs.Bool("fuzzy", false, "search: fuzzy match")
	max := fs.Int("max", 0, "search: most results (1-50)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}

	opts := []pds.Option{pds.WithUserAgent("pds-lookup")}
	if *token != "" {
		opts = append(opts, pds.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: *token})))
	}
	if *ods != "" {
		code, err := shcrkit.ParseODSCode(*ods)
		if err != nil {
			return err
		}
		opts = append(opts, pds.WithEndUserOrganisation(code))
	}
	if *worker {
		opts = append(opts, pds.WithAccessMode(pds.AccessHealthcareWorker))
	}
	client, err := pds.NewClient(*base, opts...)
	if err != nil {
		return err
	}

	var matches []pds.Match
	switch {
	case fs.NArg() == 1:
		nhs, err := shcrkit.ParseNHSNumber(fs.Arg(0))
		if err != nil {
			return err
		}
		p, err := client.Get(ctx, nhs)
		if err != nil {
			return err
		}
		matches = []pds.Match{{Patient: p, Score: 1}}
	case fs.NArg() == 0 && (*family != "" || *birth != "" || *postcode != ""):
		q := pds.SearchQuery{Family: *family, Gender: pds.Gender(*gender), Postcode: *postcode, Fuzzy: *fuzzy, MaxResults: *max}
		if *given != "" {
			q.Given = strings.Fields(*given)
		}
		if *birth != "" {
			q.BirthDate = pds.DateRange{From: *birth, To: *birth}
		}
		if matches, err = client.Search(ctx, q); err != nil {
			return err
		}
	default:
		fs.Usage()
		return errors.New("give one NHS number, or search flags")
	}

	var people map[string][]pds.RelatedPerson
	if *related {
		people = make(map[string][]pds.RelatedPerson)
		for _, m := range matches {
			rp, err := client.RelatedPersons(ctx, m.Patient.NHSNumber())
			if err != nil {
				return err
			}
			people[m.Patient.NHSNumber().String()] = rp
		}
	}
	if *asJSON {
		return printJSON(stdout, matches, people)
	}
	return printTable(stdout, matches, people)
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
