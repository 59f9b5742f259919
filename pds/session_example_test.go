package pds_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"golang.org/x/oauth2"
)

// One client serves every user: each call carries its user's session, and
// the fake refuses a token sent with another user's organisation.
func ExampleClient_Get_session() {
	srv := pdstest.NewServer()
	defer srv.Close()
	srv.BindToken("token-of-ada", shcrkit.Session{UserID: "555000000001", Organisation: "RX1", RoleProfileID: "100000000001"})
	c, _ := srv.NewClient(pds.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "token-of-ada"})))

	ada := shcrkit.Session{ID: "s-1", UserID: "555000000001", Organisation: "RX1", RoleProfileID: "100000000001"}
	_, err := c.Get(shcrkit.WithSession(context.Background(), ada), pdstest.Patients.Normal)
	fmt.Println(err == nil)
	reqs := srv.Requests()
	fmt.Println(reqs[0].Header.Get("NHSD-End-User-Organisation-ODS"), reqs[0].Header.Get("NHSD-Session-URID"))

	// Ada's token with another organisation's header is refused.
	crossed := ada
	crossed.Organisation = "RX2"
	_, err = c.Get(shcrkit.WithSession(context.Background(), crossed), pdstest.Patients.Normal)
	fmt.Println(errors.Is(err, shcrkit.ErrForbidden))

	// A client fixed to one organisation refuses another's session before sending anything.
	fixed, _ := srv.NewClient(pds.WithEndUserOrganisation("RX1"))
	_, err = fixed.Get(shcrkit.WithSession(context.Background(), crossed), pdstest.Patients.Normal)
	var mismatch *shcrkit.IdentityMismatchError
	fmt.Println(errors.As(err, &mismatch))
	// Output:
	// true
	// RX1 100000000001
	// true
	// true
}
