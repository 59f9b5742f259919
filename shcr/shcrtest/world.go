package shcrtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/auth/authtest"
	"github.com/shcrkit/shcrkit/internal/jws"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/internal/synthetic"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
)

// custodianKestrel is the fifth region of the world: a shared care record
// with no seed pointers, for tests that need records spread over five
// custodians.
const custodianKestrel shcrkit.ODSCode = "RKS"

// consumerASID is the ASID of the world's calling system, the Ssp-From of
// its requests through the proxy.
const consumerASID = "200000000001"

// How each region of the world authenticates, so that every combination
// the SDK supports is exercised.
var regionAuth = map[shcrkit.ODSCode]struct {
	signing auth.Algorithm
	access  bool   // requires an OAuth2 access token
	header  string // identity header beside the access token
}{
	nrlstest.CustodianNorth: {signing: auth.RS256, access: true},
	nrlstest.CustodianSouth: {signing: auth.ES256, access: true},
	nrlstest.CustodianEast:  {signing: jws.None},
	nrlstest.CustodianWest:  {signing: auth.RS512, access: true, header: "X-Request-Identity"},
	custodianKestrel:        {signing: auth.RS256, access: true},
}

// World is a complete fake of the national services and five regional
// shared care records, wired together: a token endpoint (authtest), PDS
// (pdstest), the NRL (nrlstest) with its pointers leading to the regions,
// a Spine Secure Proxy, and a directory and policy that fit. Use it for
// tests of the whole journey and for examples.
//
// Every service checks access tokens from the token endpoint; each region
// checks identity tokens its own way (RS256, ES256, unsigned in the GP
// Connect style, RS512 in a named header). Regions serve TLS with test
// certificates that the directory trusts.
type World struct {
	// Tokens is the OAuth2 token endpoint of every service.
	Tokens *authtest.Server
	// PDS is the demographics service.
	PDS *pdstest.Server
	// NRL is the record locator.
	NRL *nrlstest.Server
	// Proxy is the Spine Secure Proxy.
	Proxy *Proxy
	// Regions are the regional shared care records: North Riding, Wessex
	// Vale, Fenland Coast, Mercia Hills (the NRL fake's custodians) and
	// Kestrel Sound (ODS code RKS, with no seed pointers).
	Regions []*Server
	// Policy is the world's access policy: the Riverside Urgent Care
	// Record (QRU) with the emergency department nrlstest.ConsumerODS as a
	// member, the five regions as remote shared care records, and an
	// agreement with each, of varying scope.
	Policy *rbac.Policy
	// Directory lists the regions with their credentials, and the proxy.
	Directory *shcr.Directory
	// Requester is a doctor in the emergency department the policy
	// serves (nrlstest.ConsumerODS); its System.ASID is the Ssp-From of the
	// world's requests through the proxy.
	Requester shcrkit.Requester
	// TokenSource is the calling application's access tokens (signed-JWT
	// client credentials, cached).
	TokenSource oauth2.TokenSource
	// APIKey is the calling application's API key at Tokens, under which
	// TokenSource's public key is registered.
	APIKey string
	// Evidence is the emergency department's own records of legitimate
	// relationships: an attendance (Encounter "Encounter/ed-<n>", in
	// progress) for every patient of synthetic.Numbers, in its order
	// from 1, and nothing else. Journeys of World.Client verify claimed
	// relationships against it and PDS (shcr.StandardVerifiers).
	Evidence *EvidenceStore

	localID atomic.Int64
}

// keySet holds the keys of worlds: the calling application's, which signs
// its client assertions, and those that sign identity tokens. Like the
// real ones, they are one set for every world in the process, since
// making RSA keys is slow.
type keySet struct {
	app         *rsa.PrivateKey
	identityRSA *rsa.PrivateKey
	identityEC  *ecdsa.PrivateKey
}

var worldKeys = sync.OnceValues(func() (keySet, error) {
	var k keySet
	var err error
	if k.app, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return k, err
	}
	if k.identityRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return k, err
	}
	k.identityEC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return k, err
})

// NewWorld starts a World. Close it when done.
func NewWorld() (w *World, err error) {
	w = &World{}
	defer func() {
		if err != nil {
			w.Close()
			w = nil
		}
	}()
	policy, err := rbac.LoadPolicy(bytes.NewReader(samplepolicy.WorldYAML()))
	if err != nil {
		return nil, fmt.Errorf("shcrtest: the world policy does not load: %w", err)
	}
	w.Policy = policy
	w.Requester = shcrkit.Requester{
		UserID: "555000000101", Name: "Dr Nia Ferreira", RoleProfileID: "555000000102",
		RoleCode: "S8000:G8000:R8000", RoleName: "Medical Practitioner", Activities: []string{"B0360", "B0380"},
		Organisation: nrlstest.ConsumerODS, OrganisationName: "Riverside Emergency Department", AssuranceLevel: 3,
		System: shcrkit.System{Name: "Riverside ED EPR", Version: "3.1", ASID: consumerASID},
	}

	// The calling application and its access tokens.
	w.Tokens = authtest.NewServer()
	keys, err := worldKeys()
	if err != nil {
		return nil, err
	}
	appKey := keys.app
	const apiKey, kid = "riverside-ed-epr", "riverside-1"
	if err := w.Tokens.Register(apiKey, kid, &appKey.PublicKey); err != nil {
		return nil, err
	}
	w.APIKey = apiKey
	w.TokenSource, err = auth.NewSignedJWT(auth.SignedJWTConfig{APIKey: apiKey, TokenURL: w.Tokens.TokenURL(), KeyID: kid,
		PrivateKey: appKey, HTTPClient: w.Tokens.HTTPClient()})
	if err != nil {
		return nil, err
	}

	if w.Evidence, err = NewEvidenceStore(); err != nil {
		return nil, err
	}
	for i, nhs := range synthetic.Numbers() {
		if err := w.Evidence.Add(shcr.Evidence{Kind: shcrkit.RelationshipEncounter, Reference: fmt.Sprintf("Encounter/ed-%d", i+1),
			Patient: nhs, Organisations: []shcrkit.ODSCode{nrlstest.ConsumerODS}, Status: "in-progress", Active: true}); err != nil {
			return nil, err
		}
	}

	w.PDS = pdstest.NewServer(pdstest.WithTokenValidator(w.Tokens.Validate))
	w.NRL = nrlstest.NewServer(nrlstest.WithTokenValidator(w.Tokens.Validate))
	if w.Proxy, err = newProxy(consumerASID); err != nil {
		return nil, err
	}

	regions := synthetic.Regions()
	regions = append(regions, synthetic.Region{ShCR: custodianKestrel, ShCRName: "Kestrel Sound Care Record",
		Name: "Kestrel Sound", ShCRASID: "900000000105"})
	var pointers []nrls.Pointer
	for _, nhs := range synthetic.Numbers() {
		pointers = append(pointers, w.NRL.Pointers(nhs)...)
	}
	var dc shcr.DirectoryConfig
	for _, c := range regions {
		ep, err := w.startRegion(c, pointers, keys)
		if err != nil {
			return nil, err
		}
		dc.Endpoints = append(dc.Endpoints, ep)
	}
	dc.SSP = &shcr.SSP{ProxyURL: w.Proxy.URL, ConsumerASID: consumerASID}
	if w.Directory, err = shcr.NewDirectory(dc); err != nil {
		return nil, err
	}
	return w, nil
}

// startRegion starts the region of c, serving pointers, behind the proxy,
// with its NRL pointers rebased to it, and returns its directory entry.
func (w *World) startRegion(c synthetic.Region, pointers []nrls.Pointer, keys keySet) (shcr.Endpoint, error) {
	ra := regionAuth[c.ShCR]
	ropts := []Option{WithASID(c.ShCRASID), WithPointers(pointers), WithTrustedProxy(w.Proxy.certificate())}
	ident := shcr.Identity{Signing: ra.signing, Header: ra.header}
	switch ra.signing {
	case auth.RS256, auth.RS512:
		ropts = append(ropts, WithIdentitySigning(ra.signing, &keys.identityRSA.PublicKey))
		ident.Key, ident.KeyID = keys.identityRSA, "riverside-identity-rsa"
	case auth.ES256:
		ropts = append(ropts, WithIdentitySigning(ra.signing, &keys.identityEC.PublicKey))
		ident.Key, ident.KeyID = keys.identityEC, "riverside-identity-ec"
	}
	if ra.access {
		ropts = append(ropts, WithTokenValidator(w.Tokens.Validate))
	}
	if ra.header != "" {
		ropts = append(ropts, withIdentityHeader(ra.header))
	}
	s, err := NewUnstartedServer(append(ropts, WithCustodian(c.ShCR))...)
	if err != nil {
		return shcr.Endpoint{}, err
	}
	s.Start()
	w.Regions = append(w.Regions, s)
	if err := w.Proxy.addProvider(s); err != nil {
		return shcr.Endpoint{}, err
	}
	if c.ShCRBaseURL != "" {
		if err := w.NRL.Rebase(c.ShCR, s.URL); err != nil {
			return shcr.Endpoint{}, err
		}
	}
	roots := x509.NewCertPool()
	roots.AddCert(s.Certificate())
	ep := shcr.Endpoint{Name: c.ShCRName, Custodians: []shcrkit.ODSCode{c.ShCR}, BaseURL: s.URL, ASID: c.ShCRASID,
		RootCAs: roots, Identity: ident}
	if ra.access {
		ep.TokenSource = w.TokenSource
	}
	return ep, nil
}

// Close shuts every server down.
func (w *World) Close() {
	for _, s := range w.Regions {
		s.Close()
	}
	if w.Proxy != nil {
		w.Proxy.Close()
	}
	if w.NRL != nil {
		w.NRL.Close()
	}
	if w.PDS != nil {
		w.PDS.Close()
	}
	if w.Tokens != nil {
		w.Tokens.Close()
	}
}

// Region returns the region serving custodian, or nil.
func (w *World) Region(custodian shcrkit.ODSCode) *Server {
	for _, s := range w.Regions {
		if s.Custodian() == custodian {
			return s
		}
	}
	return nil
}

// SetLatency gives every answer of PDS, the NRL and every region d of
// latency (0 for none), before and beside any fault injected there.
func (w *World) SetLatency(d time.Duration) {
	w.PDS.SetLatency(d)
	w.NRL.SetLatency(d)
	for _, s := range w.Regions {
		s.SetLatency(d)
	}
}

// Config returns a journey configuration wired to the world: PDS and NRL
// clients shared by every user (no end-user organisation or role of their
// own: each journey takes them from its requester), policy and directory,
// relationship verifiers over PDS and World.Evidence, with sink as the
// audit sink.
func (w *World) Config(sink audit.Sink) (shcr.Config, error) {
	p, err := w.PDS.NewClient(pds.WithTokenSource(w.TokenSource))
	if err != nil {
		return shcr.Config{}, err
	}
	n, err := nrls.NewClient(w.NRL.URL+nrls.ConsumerPath, nrls.WithHTTPClient(w.NRL.HTTPClient()), nrls.WithTokenSource(w.TokenSource))
	if err != nil {
		return shcr.Config{}, err
	}
	return shcr.Config{PDS: p, NRL: n, Policy: w.Policy, Audit: sink, Directory: w.Directory,
		Relationships: shcr.StandardVerifiers(w.Policy, w.Evidence)}, nil
}

// Client returns a journey client wired to the world, with sink as the
// audit sink; edit, when given, adjusts the configuration first (a
// timeout, an alert hook).
func (w *World) Client(sink audit.Sink, edit ...func(*shcr.Config)) (*shcr.Client, error) {
	cfg, err := w.Config(sink)
	if err != nil {
		return nil, err
	}
	for _, e := range edit {
		e(&cfg)
	}
	return shcr.New(cfg)
}

// AddPointer files a pointer in the NRL and the record it leads to in the
// custodian's region. When spec.URL is empty it is set to the record's
// address at the region (an ssp:// one when spec.Retrieval is SSP, with
// the region's ASID); when spec.LocalID is empty one is made up. record,
// when given, is served instead of the document made up for the pointer
// (see WithPointers).
func (w *World) AddPointer(spec nrls.PointerSpec, record ...Document) (nrls.Pointer, error) {
	region := w.Region(spec.Custodian)
	if region == nil {
		return nrls.Pointer{}, fmt.Errorf("%w: no region holds custodian %s", shcrkit.ErrInvalidOption, spec.Custodian)
	}
	if spec.LocalID == "" {
		spec.LocalID = fmt.Sprintf("w%06d", w.localID.Add(1))
	}
	id := string(spec.Custodian) + "-" + spec.LocalID
	if spec.URL == "" {
		spec.URL = region.documentURL(id)
		if spec.Retrieval == nrls.RetrievalSSP {
			spec.URL = "ssp" + spec.URL[len("https"):]
			spec.ProviderASID = region.asid()
		}
	}
	if spec.PracticeSetting.Code == "" {
		spec.PracticeSetting = nrls.Concept{Code: "224891009", Display: "Healthcare services"}
	}
	p, err := nrls.NewPointer(spec)
	if err != nil {
		return nrls.Pointer{}, err
	}
	if _, err := w.NRL.AddPointer(p); err != nil {
		return nrls.Pointer{}, err
	}
	r := documentFor(p)
	if len(record) > 0 {
		r = record[0]
		r.PointerID = p.ID
	}
	if err := region.addDocument(r); err != nil {
		return nrls.Pointer{}, err
	}
	return p, nil
}
