package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/console"
	"github.com/shcrkit/shcrkit/examples/internal/cli"
	"github.com/shcrkit/shcrkit/internal/version"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/rbac/report"
)

// privacyOfficer is who the console shows as signed in: the console sits
// behind the vendor's own login, which this example does not have.
var privacyOfficer = shcrkit.Requester{
	UserID: "555000000901", Name: "Priya Okafor", RoleProfileID: "555000000902", RoleCode: "S8000:G8000:R5080",
	RoleName: "Privacy Officer", Organisation: "RX1", OrganisationName: "Riverside Hospitals (privacy office)",
	System: shcrkit.System{Name: "Investigation console", Version: version.SDK},
}

// whereToLook ends the journey with where the patient information page and
// the investigation console are, or how to serve them. With -serve it
// serves them until ctx ends.
func (j *journey) whereToLook(ctx context.Context, policy *rbac.Policy) error {
	fmt.Fprintln(j.out)
	if j.flags.serve == "" {
		fmt.Fprintln(j.out, "    the patient information page (from the enforced policy) and the privacy officer's")
		fmt.Fprintln(j.out, "    investigation console: run again with -serve 127.0.0.1:8088")
		return nil
	}
	if err := checkServe(j.flags.serve); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", j.flags.serve)
	if err != nil {
		return err
	}
	page, err := report.NewPatientInformation(policy, time.Now(), report.Contacts{}).HTML()
	if err != nil {
		return err
	}
	c, err := console.New(console.Config{Reader: j.log, Sink: j.log, Verifier: j.log,
		Viewer: func(*http.Request) (shcrkit.Requester, bool) { return privacyOfficer, true }})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /patient-information", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	mux.Handle("/console/", http.StripPrefix("/console", c))
	srv := &http.Server{Handler: loopbackHost(mux), ReadHeaderTimeout: 10 * time.Second}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(j.out, "    patient information page: %s/patient-information\n", base)
	fmt.Fprintf(j.out, "    investigation console:    %s/console/ (signed in as %s, %s)\n", base, privacyOfficer.Name, privacyOfficer.RoleName)
	fmt.Fprintln(j.out, "    serving until interrupted (Ctrl-C)")
	go func() {
		<-ctx.Done()
		shut, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkServe checks a -serve address: host:port, the host a loopback
// address or localhost.
func checkServe(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-serve: %w", err)
	}
	if !cli.IsLoopbackHost(host) {
		return errors.New("-serve takes a loopback address: the console has no login of its own")
	}
	return nil
}

// loopbackHost serves only requests whose Host names a loopback address.
// Listening on loopback keeps other machines out, but not another web
// site: a page whose name its owner points at 127.0.0.1 (DNS rebinding)
// reaches the console from the officer's browser as its own origin, with
// its own name in Host, and the console, with no login of its own, would
// show it the trail and take its forms.
func loopbackHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		if !cli.IsLoopbackHost(host) {
			http.Error(w, "this server answers only to a loopback host name", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
