package shcrtest_test

import (
	"context"
	"fmt"
	"io"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
)

// A world of fakes: the NRL's pointers for a patient lead to regional
// shared care records that the world's directory can reach, directly or
// through the Spine Secure Proxy.
func Example() {
	w, err := shcrtest.NewWorld()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	remote, err := shcr.NewRemote(w.Directory, shcr.RemoteConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range w.NRL.Pointers(pdstest.Patients.Normal) {
		c, err := remote.Fetch(context.Background(), shcr.FetchRequest{Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare, Pointer: p})
		if err != nil {
			fmt.Println(p.ID, err)
			continue
		}
		route := "direct"
		if c.ViaSSP {
			route = "via SSP"
		}
		if c.Body != nil {
			n, _ := io.Copy(io.Discard, c.Body)
			c.Close()
			fmt.Printf("%s: %s, %s, streamed %t\n", p.ID, c.ContentType, route, n > 0)
		} else {
			fmt.Printf("%s: %s %s in %d pages, %s\n", p.ID, c.ContentType, c.ResourceType, c.Pages, route)
		}
	}
	// Output:
	// RNR-000001: application/pdf, via SSP, streamed true
	// RNR-000002: application/fhir+json Bundle in 3 pages, direct
	// RWV-000003: application/pdf, direct, streamed true
	// RFC-000004: application/pdf, via SSP, streamed true
	// RNR-000005: application/pdf, direct, streamed true
}
