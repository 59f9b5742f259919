// Command provider runs Brackenfield Care Record, a small shared care
// record that serves other regions: a few synthetic records per patient
// behind shcr/provider's Guard, its pointers published to the National
// Record Locator with a provider.Publisher, and every incoming request in
// its own tamper-evident audit log before anything is served.
//
// With no flags it needs no network: it starts the fake world (token
// endpoint, PDS, NRL, regions) in process, starts Brackenfield beside it,
// then makes three calls as the world's consumer would (a record read, a
// FHIR search, and a read by a role the provider's policy refuses) and
// prints Brackenfield's audit trail.
//
//	go run ./examples/provider
//	go run ./examples/provider -serve   # keep serving until interrupted
//
// go run ./examples/journey -provider runs a whole journey against it.
package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/shcrkit/shcrkit/examples/internal/cli"
)

func main() { cli.Main("provider", 0, run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("provider", stderr)
	serve := fs.Bool("serve", false, "keep serving until interrupted")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.NoArgs(fs); err != nil {
		return err
	}
	d, err := start(ctx)
	if err != nil {
		return err
	}
	defer d.close()
	d.describe(stdout)
	if err := d.demonstrate(ctx, stdout); err != nil {
		return err
	}
	if *serve {
		fmt.Fprintf(stdout, "serving at %s until interrupted\n", d.att.Server.URL)
		<-ctx.Done()
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return d.verify(ctx, stdout)
}
