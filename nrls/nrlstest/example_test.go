package nrlstest_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

// Point a region's seed pointers at a fake shared care record, then find
// them as a consumer would.
func ExampleNewServer() {
	north := httptest.NewServer(http.NotFoundHandler()) // stands in for a fake ShCR
	defer north.Close()

	srv := nrlstest.NewServer()
	defer srv.Close()
	if err := srv.Rebase(nrlstest.CustodianNorth, north.URL+"/fhir"); err != nil {
		log.Fatal(err)
	}
	c := srv.Client()
	ptrs, err := c.Search(context.Background(), pdstest.Patients.Normal, nrls.WithCustodian(nrlstest.CustodianNorth))
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range ptrs {
		fmt.Println(p.ID, p.Retrieval, strings.Replace(p.URL, strings.TrimPrefix(north.URL, "http://"), "north", 1))
	}
	// Output:
	// RNR-000001 SSP ssp://north/fhir/records/RNR-000001
	// RNR-000002 Direct http://north/fhir/records/RNR-000002
	// RNR-000005 Direct http://north/fhir/records/RNR-000005
}

// Make the service fail the way tests of a client's resilience need.
func ExampleServer_InjectFault() {
	srv := nrlstest.NewServer()
	defer srv.Close()
	srv.InjectFault(http.MethodPost, nrls.ConsumerPath+"/DocumentReference/_search", 1,
		nrlstest.Fault{Status: http.StatusServiceUnavailable, Code: "SERVICE_UNAVAILABLE", RetryAfter: "0"})

	c := srv.Client()
	ptrs, err := c.Search(context.Background(), pdstest.Patients.Restricted)
	fmt.Println(len(ptrs), err)
	for _, r := range srv.Requests() {
		fmt.Println(r.Method, r.Status)
	}
	// Output:
	// 2 <nil>
	// POST 503
	// POST 200
}
