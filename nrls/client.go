package nrls

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/textclip"
)

// Paths of the NRL's service roots below an NHS API platform host
// (https://sandbox.api.service.nhs.uk, https://int.api.service.nhs.uk,
// https://api.service.nhs.uk). A consumer client (Search, Count, Get) uses
// the consumer root, a producer client (Create, Update, Supersede, Delete,
// and Search, Count and Get over its own pointers) the producer root.
const (
	ConsumerPath = "/record-locator/consumer/FHIR/R4"
	ProducerPath = "/record-locator/producer/FHIR/R4"
)

// Client talks to the National Record Locator as a consumer or a producer,
// depending on its base URL. It is safe for concurrent use.
type Client struct {
	handle    // for the SDK's own packages (shcr), through fhirhttp.Of
	http      *fhirhttp.Client
	logger    *slog.Logger
	searchGET bool
}

// handle names the embedded fhirhttp.Handle so that the field is
// unexported.
type handle = fhirhttp.Handle

// NewClient returns a client of the NRL at baseURL (e.g.
// "https://api.service.nhs.uk" + ConsumerPath). The service refuses requests that do not name
// the organisation they are made for: each call takes it from the session
// in its context (shcrkit.WithSession) or from WithEndUserOrganisation,
// the application's default.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	var o options
	id := fhirhttp.Identity{OrganisationHeader: fhirhttp.HeaderEndUserOrganisation, RequireOrganisation: true, Service: "NRL"}
	hc, err := fhirhttp.Build(baseURL, id, &o, &o.cfg, opts)
	if err != nil {
		return nil, err
	}
	return &Client{handle: fhirhttp.NewHandle(hc), http: hc, logger: hc.Config().Logger, searchGET: o.searchGET}, nil
}

// usable fails a call on a Client not made by NewClient (nil, or its
// zero value).
func (c *Client) usable() error {
	if c == nil || c.http == nil {
		return fmt.Errorf("%w: the nrls.Client was not made by NewClient", shcrkit.ErrInvalidOption)
	}
	return nil
}

// pathIDPattern is the service's pattern for an ID in a request path.
var pathIDPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// Get reads one pointer by its logical ID. A pointer that does not exist
// is an error matching shcrkit.ErrNotFound; one whose type the
// organisation may not read matches shcrkit.ErrForbidden.
func (c *Client) Get(ctx context.Context, id string) (Pointer, error) {
	if err := c.usable(); err != nil {
		return Pointer{}, err
	}
	if !pathIDPattern.MatchString(id) {
		return Pointer{}, fmt.Errorf("%w: pointer ID must be 1 to 64 letters, digits, '-' and '.'", shcrkit.ErrInvalidRequest)
	}
	resp, err := c.http.Do(ctx, &fhirhttp.Request{Path: "/DocumentReference/" + url.PathEscape(id)})
	if err != nil {
		return Pointer{}, err
	}
	if err := resp.CheckJSONContentType(); err != nil {
		return Pointer{}, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	resp.Body = resp.ClearedBody() // as decodeSearch does
	var e resourceEntry
	if err := fhirhttp.DecodeJSON(resp.Body, &e); err != nil {
		// The strict model refused it; a stored pointer with a stray code
		// is still read (see decodeDocumentReference).
		p, perr := ParsePointer(resp.Body)
		if perr != nil {
			return Pointer{}, fmt.Errorf("%w [request %s]", perr, resp.RequestID)
		}
		e = resourceEntry{ResourceType: "DocumentReference", DocumentReference: p.Resource}
	}
	if e.ResourceType != "DocumentReference" {
		return Pointer{}, fmt.Errorf("%w: answer is a %q, not a DocumentReference [request %s]",
			shcrkit.ErrMalformedResponse, textclip.Clip(e.ResourceType, 40), resp.RequestID)
	}
	p := PointerFrom(e.DocumentReference)
	if p.ID != id {
		// A read that answers with another pointer is an index fault; the
		// answer must not be taken for the pointer asked for.
		return Pointer{}, fmt.Errorf("%w: answer is a different pointer from the one asked for [request %s]",
			shcrkit.ErrMalformedResponse, resp.RequestID)
	}
	return p, nil
}

// resourceEntry decodes a DocumentReference together with its
// resourceType in one pass.
type resourceEntry struct {
	ResourceType string `json:"resourceType"`
	fhir.DocumentReference
}
