package pds_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func ExampleClient_Get() {
	srv := pdstest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	p, err := c.Get(ctx, pdstest.Patients.Normal)
	if err != nil {
		fmt.Println(err)
		return
	}
	name, _ := p.UsualName()
	fmt.Println(name, p.BirthDate(), p.GPPractice(), p.Confidentiality(), p.Version())

	// A superseded number returns the surviving record.
	p, err = c.Get(ctx, pdstest.Patients.Superseded)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.NHSNumber() == pdstest.Patients.Surviving, p.Superseded() == pdstest.Patients.Superseded)

	// A restricted patient comes back without location data.
	p, err = c.Get(ctx, pdstest.Patients.Restricted)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, hasAddress := p.HomeAddress()
	fmt.Println(p.Confidentiality().Restricted(), hasAddress, p.GPPractice() == "")

	_, err = c.Get(ctx, pdstest.Patients.Invalidated)
	fmt.Println(errors.Is(err, shcrkit.ErrInvalidated), errors.Is(err, shcrkit.ErrNotFound))
	// Output:
	// Amelia Rose Hartley 1984-03-14 Y10001 unrestricted 1
	// true true
	// true false true
	// true true
}

func ExampleClient_Search() {
	srv := pdstest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	matches, err := c.Search(ctx, pds.SearchQuery{
		Family:    pdstest.SharedSurname,
		Given:     []string{"Amelia"},
		BirthDate: pds.DateRange{From: "1984-03-14", To: "1984-03-14"},
		Fuzzy:     true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range matches {
		name, _ := m.Patient.UsualName()
		fmt.Printf("%.2f %s\n", m.Score, name)
	}

	_, err = c.Search(ctx, pds.SearchQuery{
		Family:     pdstest.SharedSurname,
		BirthDate:  pds.DateRange{From: "1984-03-14", To: "1984-03-14"},
		MaxResults: 2,
	})
	fmt.Println(errors.Is(err, pds.ErrTooManyMatches))
	// Output:
	// 1.00 Amelia Rose Hartley
	// 0.75 Amelia Hartly
	// true
}
