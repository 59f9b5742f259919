// Command sandbox runs the bundled fakes as stand-alone servers, for testers
// working in any language: a token endpoint, PDS, the National Record
// Locator (consumer and producer) and five regional shared care records,
// wired together and seeded with synthetic patients.
//
//	go run ./examples/sandbox                  # listens on 127.0.0.1:8700
//	go run ./examples/sandbox -addr 127.0.0.1:9000 -latency 20ms
//	SHCRKIT_ADDR=127.0.0.1:9000 go run ./examples/sandbox   # any flag, from the environment
//
// Everything is served from one loopback address, by path:
//
//	/oauth2/token                          token endpoint (signed-JWT client credentials)
//	/sandbox/keys?api_key=APP&kid=KID      POST: register your application's public key
//	/sandbox/token                         POST: a ready access token, for curl
//	/sandbox/identity-token?custodian=RFC  GET: an identity token for a regional ShCR
//	/sandbox/identity-keys                 POST: trust your key for identity tokens
//	/sandbox/patients                      GET: the seeded test patients
//	/personal-demographics/FHIR/R4/...     PDS (and its /metadata)
//	/record-locator/consumer/FHIR/R4/...   NRL consumer API (and its /metadata)
//	/record-locator/producer/FHIR/R4/...   NRL producer API (and its /metadata)
//	/shcr/<ODS>/fhir/records/<pointer ID>  the regional shared care records
//	/ssp/<ShCR URL>                        the Spine Secure Proxy, for ssp:// pointers
//
// Every link, Location and fullUrl in an answer names the address the
// tester called (its Host, or X-Forwarded-Proto and X-Forwarded-Host set
// by a proxy in front) and resolves there; identity tokens are for the
// regions' addresses as printed. Pages served from loopback origins may
// call it from a browser (-cors). Each request is logged on standard
// error, NHS numbers masked. Ctrl-C stops it cleanly.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/shcrkit/shcrkit/examples/internal/cli"
)

func main() { cli.Main("sandbox", 0, run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("sandbox", stderr)
	addr := fs.String("addr", "127.0.0.1:8700", "loopback address to listen on (port 0 picks a free one)")
	latency := fs.Duration("latency", 0, "latency added to every answer of every fake")
	quiet := fs.Bool("quiet", false, "do not log each request")
	corsFlag := fs.String("cors", "loopback", `browser origins that may call the sandbox: "loopback" (pages served from a loopback address), "none", or a comma-separated list of origins`)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := cli.NoArgs(fs); err != nil {
		return err
	}
	policy, err := parseCORS(*corsFlag)
	if err != nil {
		return err
	}
	if err := checkLoopback(*addr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()

	sb, err := newSandbox(base, *latency)
	if err != nil {
		ln.Close()
		return err
	}
	defer sb.Close()

	var handler http.Handler = cors(policy, sb)
	if !*quiet {
		handler = logRequests(slog.New(slog.NewTextHandler(stderr, nil)), handler)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "listening on %s\n\n", base)
	sb.printGuide(stdout, base)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "\nstopping")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// checkLoopback refuses to listen anywhere but loopback: the fakes hold no
// real data, but they are not meant to be reached from elsewhere.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	if !cli.IsLoopbackHost(host) {
		return fmt.Errorf("-addr: %q is not a loopback address", host)
	}
	return nil
}
