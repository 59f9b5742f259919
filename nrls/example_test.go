package nrls_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

// Find where a patient's care plans are held, and how to retrieve them.
func ExampleClient_Search() {
	srv := nrlstest.NewServer()
	defer srv.Close()
	c := srv.Client() // or nrls.NewClient("https://api.service.nhs.uk"+nrls.ConsumerPath, nrls.WithEndUserOrganisation(...), ...)

	res, err := c.SearchAll(context.Background(), pdstest.Patients.Normal,
		nrls.WithCategories(nrls.CategoryCarePlan.Code))
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range res.Pointers {
		line := fmt.Sprintf("%s: %s, via %s", p.Custodian, p.Type.Display, p.Retrieval)
		if p.Confidentiality.Restricted() {
			line += " (restricted pointer)"
		}
		fmt.Println(line)
	}
	fmt.Println("entries left out:", len(res.Problems))
	// Output:
	// RNR: Mental health crisis plan, via SSP
	// RWV: Emergency health care plan, via Direct
	// RFC: End of life care plan, via SSP (restricted pointer)
	// entries left out: 0
}

// Publish a pointer to a record, then find it as a consumer.
func ExampleClient_Create() {
	srv := nrlstest.NewServer()
	defer srv.Close()
	producer, err := nrls.NewClient(srv.URL+nrls.ProducerPath, nrls.WithHTTPClient(srv.HTTPClient()), nrls.WithEndUserOrganisation(nrlstest.CustodianWest))
	if err != nil {
		log.Fatal(err)
	}

	p, err := nrls.NewPointer(nrls.PointerSpec{
		NHSNumber:       pdstest.Patients.Minimal,
		Custodian:       nrlstest.CustodianWest,
		Type:            nrls.TypeRespectForm,
		URL:             "ssp://mercia-hills.shcr.example/fhir/records/respect-42",
		ProviderASID:    "900000000104",
		PracticeSetting: nrls.Concept{Code: "224891009", Display: "Healthcare services"},
	})
	if err != nil {
		log.Fatal(err) // a *nrls.ValidationError names each field at fault
	}
	id, err := producer.Create(context.Background(), p)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ID given by the service starts with the custodian:", strings.HasPrefix(id, "RMH-"))

	consumer := srv.Client()
	found, err := consumer.Search(context.Background(), pdstest.Patients.Minimal)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range found {
		fmt.Println(f.Type.Display, "|", f.Category.Display, "|", f.Retrieval, "|", f.ProviderASID)
	}
	// Output:
	// ID given by the service starts with the custodian: true
	// ReSPECT (Recommended Summary Plan for Emergency Care and Treatment) form | Care plan | SSP | 900000000104
}

// Turn an ssp:// pointer into the request to make through the Spine
// Secure Proxy.
func ExamplePointer_SSPURL() {
	p, err := nrls.NewPointer(nrls.PointerSpec{
		NHSNumber: pdstest.Patients.Normal, Custodian: nrlstest.CustodianNorth, Type: nrls.TypeMentalHealthCrisisPlan,
		URL: "ssp://north-riding.shcr.example/fhir/records/RNR-000001", ProviderASID: "900000000101",
		PracticeSetting: nrls.Concept{Code: "788002001", Display: "Adult mental health service"},
	})
	if err != nil {
		log.Fatal(err)
	}
	u, err := p.SSPURL("https://proxy.spine.example")
	if err != nil {
		log.Fatal(err)
	}
	h, err := p.SSPHeaders("200000000610", "5c1c2d2e-8f4e-4d7a-9b1a-0c2d3e4f5a6b", "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u)
	fmt.Println(h.Get("Ssp-From"), "->", h.Get("Ssp-To"), h.Get("Ssp-InteractionID"))
	// Output:
	// https://proxy.spine.example/https%3A%2F%2Fnorth-riding.shcr.example%2Ffhir%2Frecords%2FRNR-000001
	// 200000000610 -> 900000000101 urn:nhs:names:services:nrl:DocumentReference.content.read
}

// Check a pointer against the service's rules before publishing it.
func ExampleValidate() {
	p, err := nrls.NewPointer(nrls.PointerSpec{
		NHSNumber: pdstest.Patients.Normal, Custodian: nrlstest.CustodianNorth, Type: nrls.TypeNEWS2Chart,
		URL:             "ssp://north-riding.shcr.example/fhir/records/news2", // no ProviderASID
		PracticeSetting: nrls.Concept{Code: "224891009", Display: "Healthcare services"},
	})
	fmt.Println(p.ID == "", err)
	// Output:
	// true nrls: invalid pointer: context.related: is required with the provider's ASID when content has an ssp:// URL
}
