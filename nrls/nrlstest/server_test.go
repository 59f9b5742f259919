package nrlstest_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/ptr"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func TestInvalidOptions(t *testing.T) {
	tests := map[string]nrlstest.Option{
		"nil validator":           nrlstest.WithTokenValidator(nil),
		"consumer types, bad ODS": nrlstest.WithConsumerTypes("", nrls.TypeMentalHealthCrisisPlan),
		"consumer types, none":    nrlstest.WithConsumerTypes(nrlstest.ConsumerODS),
		"producer types, unknown": nrlstest.WithProducerTypes(nrlstest.CustodianNorth, "410970009"),
		"nil clock":               nrlstest.WithClock(nil),
		"nil option":              nil,
	}
	for name, opt := range tests {
		t.Run(name, func(t *testing.T) {
			srv, err := nrlstest.NewUnstartedServer(opt)
			assert.Nil(t, srv)
			if name != "nil option" {
				assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			} else {
				assert.Error(t, err)
			}
			assert.Panics(t, func() { nrlstest.NewServer(opt) }, "like httptest.NewServer")
		})
	}
}

func TestTokenValidator(t *testing.T) {
	srv := newServer(t, nrlstest.WithTokenValidator(func(tok string) error {
		if tok != "good" {
			return errors.New("refused")
		}
		return nil
	}))
	for name, tc := range map[string]struct {
		opts []nrls.Option
		ok   bool
	}{
		"no token":   {nil, false},
		"bad token":  {[]nrls.Option{nrls.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "bad"}))}, false},
		"good token": {[]nrls.Option{nrls.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "good"}))}, true},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := srv.NewClient(tc.opts...)
			require.NoError(t, err)
			_, err = c.Search(ctx, pdstest.Patients.Normal)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, shcrkit.ErrUnauthorized)
			var ae *shcrkit.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, "ACCESS_DENIED", ae.Code)
		})
	}
}

func TestPointerURLBases(t *testing.T) {
	srv := newServer(t)
	for base, custodian := range map[string]shcrkit.ODSCode{"/records": nrlstest.CustodianNorth,
		"https://a.example/?q=1": nrlstest.CustodianNorth, "https://a.example": "rnr"} {
		assert.ErrorIs(t, srv.Rebase(custodian, base), shcrkit.ErrInvalidOption, base)
	}
	require.NoError(t, srv.Rebase(nrlstest.CustodianNorth, "http://127.0.0.1:4001/north/"))
	for _, p := range srv.Pointers(pdstest.Patients.Normal) {
		switch {
		case p.Custodian != nrlstest.CustodianNorth:
			assert.Contains(t, p.URL, ".shcr.example/")
		case p.IsSSP():
			assert.Equal(t, "ssp://127.0.0.1:4001/north/records/"+p.ID, p.URL)
		default:
			assert.Equal(t, "http://127.0.0.1:4001/north/records/"+p.ID, p.URL)
		}
	}

	// A shared care record started later: rebase its pointers.
	east := httptest.NewServer(http.NotFoundHandler())
	defer east.Close()
	require.NoError(t, srv.Rebase(nrlstest.CustodianEast, east.URL))
	require.NoError(t, srv.Rebase(nrlstest.CustodianNorth, "https://north.test/fhir"))
	c, err := srv.NewClient()
	require.NoError(t, err)
	ps, err := c.Search(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	seen := 0
	for _, p := range ps {
		switch p.Custodian {
		case nrlstest.CustodianEast:
			assert.Equal(t, "ssp://"+strings.TrimPrefix(east.URL, "http://")+"/records/"+p.ID, p.URL)
			seen++
		case nrlstest.CustodianNorth:
			assert.True(t, strings.HasPrefix(p.URL, "ssp://north.test/fhir/records/") ||
				strings.HasPrefix(p.URL, "https://north.test/fhir/records/"), p.URL)
			seen++
		}
		require.NoError(t, p.Validate())
	}
	assert.Equal(t, 4, seen)
	got, err := c.Get(ctx, "RFC-000004")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(got.URL, "ssp://127.0.0.1:"), "reads see the new base too")

	assert.ErrorIs(t, srv.Rebase(nrlstest.CustodianEast, "not a url"), shcrkit.ErrInvalidOption)
}

func TestAddPointer(t *testing.T) {
	srv := newServer(t, nrlstest.WithoutSeed())
	spec := nrls.PointerSpec{
		NHSNumber: pdstest.Patients.Minimal, Custodian: nrlstest.CustodianWest, Type: nrls.TypeContingencyPlan,
		URL: "https://mercia-hills.shcr.example/fhir/records/c1", PracticeSetting: nrls.Concept{Code: "224891009", Display: "Healthcare services"},
	}
	p, err := nrls.NewPointer(spec)
	require.NoError(t, err)
	id, err := srv.AddPointer(p)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(id, "RMH-"), id)
	assert.Regexp(t, `^[A-Za-z0-9.]+-[A-Za-z0-9][A-Za-z0-9_\-]*$`, id, "the service's form of a pointer ID")

	spec.LocalID = "mine"
	p, err = nrls.NewPointer(spec)
	require.NoError(t, err)
	id2, err := srv.AddPointer(p)
	require.NoError(t, err)
	assert.Equal(t, "RMH-mine", id2)

	// The same ID again replaces the pointer.
	p.Resource.Description = ptr.To("second version")
	_, err = srv.AddPointer(p)
	require.NoError(t, err)
	got := srv.Pointers(pdstest.Patients.Minimal)
	require.Len(t, got, 2)
	assert.Equal(t, "second version", got[1].Description)

	// Changing the caller's copy afterwards changes nothing stored.
	*p.Resource.Content[0].Attachment.Url = "https://elsewhere.example/x"
	stored, _ := srv.Pointer("RMH-mine")
	assert.Equal(t, "https://mercia-hills.shcr.example/fhir/records/c1", stored.URL)

	p.Resource.Type = nil
	_, err = srv.AddPointer(p)
	assert.ErrorIs(t, err, nrls.ErrInvalidPointer)

	_, ok := srv.Pointer("RMH-none")
	assert.False(t, ok)
}

func TestFaults(t *testing.T) {
	srv := newServer(t)
	c, err := srv.NewClient(nrls.WithMaxAttempts(1))
	require.NoError(t, err)
	srv.InjectFault(http.MethodPost, nrls.ConsumerPath+"/DocumentReference/_search", -1,
		nrlstest.Fault{Status: http.StatusGatewayTimeout, Code: "SERVICE_TIMEOUT"})
	for i := 0; i < 3; i++ {
		_, err = c.Search(ctx, pdstest.Patients.Normal)
		assert.ErrorIs(t, err, shcrkit.ErrUnavailable)
	}
	_, err = c.Get(ctx, "RNR-000001")
	assert.NoError(t, err, "other paths are unaffected")
	srv.ClearFaults()
	_, err = c.Search(ctx, pdstest.Patients.Normal)
	assert.NoError(t, err)
	reqs := srv.Requests()
	require.Len(t, reqs, 5)
	assert.Equal(t, http.StatusGatewayTimeout, reqs[0].Status)

	// A dripping answer still arrives whole.
	srv.InjectFault("", "", 1, nrlstest.Fault{Drip: 50 * time.Microsecond})
	n, err := c.Count(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	assert.Equal(t, 5, n)

	// A hanging answer ends with the client's deadline.
	srv.InjectFault("", "", 1, nrlstest.Fault{Hang: true})
	short, err := srv.NewClient(nrls.WithMaxAttempts(1), nrls.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
	require.NoError(t, err)
	_, err = short.Count(ctx, pdstest.Patients.Normal)
	assert.ErrorIs(t, err, shcrkit.ErrUnavailable)
}

func TestHandlerMountedElsewhere(t *testing.T) {
	srv, err := nrlstest.NewUnstartedServer()
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	c, err := nrls.NewClient(ts.URL+nrls.ConsumerPath, nrls.WithEndUserOrganisation(nrlstest.ConsumerODS))
	require.NoError(t, err)
	ps, err := c.Search(ctx, pdstest.Patients.Normal)
	require.NoError(t, err)
	assert.Len(t, ps, 5)
	assert.Len(t, srv.Requests(), 1)
}

func TestConcurrentUse(t *testing.T) {
	srv := newServer(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := srv.NewClient()
			if err != nil {
				errs <- err
				return
			}
			for j := 0; j < 5; j++ {
				ps, err := c.Search(ctx, pdstest.Patients.Normal)
				if err != nil || len(ps) < 5 {
					errs <- fmt.Errorf("search: %d pointers, %v", len(ps), err)
				}
			}
		}()
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			prod, err := nrls.NewClient(srv.URL+nrls.ProducerPath, nrls.WithHTTPClient(srv.HTTPClient()), nrls.WithEndUserOrganisation(nrlstest.CustodianNorth))
			if err != nil {
				errs <- err
				return
			}
			p, err := nrls.NewPointer(nrls.PointerSpec{
				NHSNumber: pdstest.Patients.Normal, Custodian: nrlstest.CustodianNorth, Type: nrls.TypeNEWS2Chart,
				URL:             fmt.Sprintf("https://north-riding.shcr.example/fhir/records/c%d", i),
				PracticeSetting: nrls.Concept{Code: "224891009", Display: "Healthcare services"},
			})
			if err != nil {
				errs <- err
				return
			}
			id, err := prod.Create(ctx, p)
			if err != nil {
				errs <- err
				return
			}
			if err := srv.Rebase(nrlstest.CustodianSouth, fmt.Sprintf("https://south%d.test", i)); err != nil {
				errs <- err
			}
			if err := prod.Delete(ctx, id); err != nil {
				errs <- err
			}
			_ = srv.Requests()
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Len(t, srv.Pointers(pdstest.Patients.Normal), 5)
}

func TestClientOfUnstartedServer(t *testing.T) {
	srv, err := nrlstest.NewUnstartedServer()
	require.NoError(t, err)
	_, err = srv.NewClient()
	require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
	assert.Panics(t, func() { srv.Client() })
	srv.Start()
	defer srv.Close()
	assert.NotNil(t, srv.Client())
}
