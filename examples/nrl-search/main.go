// Command nrl-search asks the National Record Locator, real or fake, where a
// patient's records are held, and prints the pointers as a table or as JSON.
//
//	go run ./examples/nrl-search -ods Y05868 9278693472
//	go run ./examples/nrl-search -base http://127.0.0.1:8700/record-locator/consumer/FHIR/R4 -ods RXQ01 9490000019
//	go run ./examples/nrl-search -ods Y05868 -get Y05868-1234567
//
// The default base URL is the public NHS sandbox, which needs no
// credentials but does need an end-user organisation (-ods); -token sends a
// bearer token for the integration environments (or set SHCRKIT_TOKEN).
// Every flag can be set in the environment the same way (SHCRKIT_ODS for
// -ods); -h lists them.
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
	"github.com/shcrkit/shcrkit/nrls"
	"golang.org/x/oauth2"
)

func main() { cli.Main("nrl-search", time.Minute, run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("nrl-search", stderr, "nrl-search -ods ODS [flags] NHS-NUMBER", "nrl-search -ods ODS -get POINTER-ID")
	base := fs.String("base", "https://sandbox.api.service.nhs.uk"+nrls.ConsumerPath, "NRL consumer FHIR R4 base URL")
	token := fs.String("token", "", "bearer access token (or $SHCRKIT_TOKEN; none for the sandbox)")
	ods := fs.String("ods", "", "end-user organisation ODS code (required by the service)")
	custodian := fs.String("custodian", "", "only pointers held by this custodian (ODS code)")
	types := fs.String("type", "", "only these record types (SNOMED codes, comma separated)")
	categories := fs.String("category", "", "only these categories (SNOMED codes, comma separated)")
	get := fs.String("get", "", "read one pointer by its ID instead of searching")
	count := fs.Bool("count", false, "print only how many pointers there are")
	viaGET := fs.Bool("via-get", false, "search with GET instead of POST _search")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.Required(fs, "ods"); err != nil {
		return err
	}
	org, err := shcrkit.ParseODSCode(*ods)
	if err != nil {
		return fmt.Errorf("-ods: %w", err)
	}
	opts := []nrls.Option{nrls.WithEndUserOrganisation(org), nrls.WithUserAgent("nrl-search")}
	if *viaGET {
		opts = append(opts, nrls.WithSearchGET())
	}
	if *token != "" {
		opts = append(opts, nrls.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: *token})))
	}
	client, err := nrls.NewClient(*base, opts...)
	if err != nil {
		return err
	}

	if *get != "" {
		p, err := client.Get(ctx, *get)
		if err != nil {
			return err
		}
		return show(stdout, *asJSON, []nrls.Pointer{p}, nil)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("give one NHS number")
	}
	nhs, err := shcrkit.ParseNHSNumber(fs.Arg(0))
	if err != nil {
		return err
	}
	var sopts []nrls.SearchOption
	if *custodian != "" {
		c, err := shcrkit.ParseODSCode(*custodian)
		if err != nil {
			return fmt.Errorf("-custodian: %w", err)
		}
		sopts = append(sopts, nrls.WithCustodian(c))
	}
	if *types != "" {
		sopts = append(sopts, nrls.WithTypes(splitList(*types)...))
	}
	if *categories != "" {
		sopts = append(sopts, nrls.WithCategories(splitList(*categories)...))
	}
	if *count {
		n, err := client.Count(ctx, nhs, sopts...)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, n)
		return err
	}
	res, err := client.SearchAll(ctx, nhs, sopts...)
	if err != nil {
		return err
	}
	return show(stdout, *asJSON, res.Pointers, res.Problems)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func show(w io.Writer, asJSON bool, ptrs []nrls.Pointer, problems []nrls.Problem) error {
	if asJSON {
		out := struct {
			Pointers []nrls.Pointer `json:"pointers"`
			Problems []nrls.Problem `json:"problems,omitempty"`
		}{ptrs, problems}
		if out.Pointers == nil {
			out.Pointers = []nrls.Pointer{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(ptrs) == 0 {
		fmt.Fprintln(w, "no pointers")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCUSTODIAN\tTYPE\tCATEGORY\tCONTENT\tRETRIEVAL\tCONF\tDATE\tURL")
		for _, p := range ptrs {
			date := "-"
			if !p.Date.IsZero() {
				date = p.Date.Format("2006-01-02")
			}
			retrieval := string(p.Retrieval)
			if retrieval == "" && p.IsSSP() {
				retrieval = "SSP"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Custodian, dash(p.Type.Display),
				dash(p.Category.Display), dash(p.ContentType), dash(retrieval), dash(p.Confidentiality.Code()), date, dash(p.URL))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, pr := range problems {
		fmt.Fprintln(w, "left out:", pr.String())
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
