package pdstest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func ExampleNewServer() {
	srv := pdstest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	// Add a patient of your own.
	nhs := pdstest.SyntheticNHSNumber(4000)
	err := srv.AddPatient(pdstest.Person{NHSNumber: nhs, Given: []string{"Noor"}, Family: "Castellan",
		Gender: pds.GenderFemale, BirthDate: "2002-12-01", GP: "Y20001"})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := c.Get(ctx, nhs)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.GPPractice(), p.Version())

	// Make the next get fail as a rate-limited service does.
	srv.InjectFault(http.MethodGet, "/Patient/", 1, pdstest.Fault{Status: http.StatusTooManyRequests, Code: "TOO_MANY_REQUESTS"})
	c2, _ := srv.NewClient(pds.WithMaxAttempts(1))
	_, err = c2.Get(ctx, nhs)
	fmt.Println(errors.Is(err, shcrkit.ErrRateLimited))

	for _, r := range srv.Requests() {
		fmt.Println(r.Method, r.Status)
	}
	// Output:
	// Y20001 1
	// true
	// GET 200
	// GET 429
}
