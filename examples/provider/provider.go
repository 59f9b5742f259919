package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/examples/internal/shcrprovider"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
)

// demo is Brackenfield started beside the fake world.
type demo struct {
	world   *shcrtest.World
	att     *shcrprovider.Attached
	log     *audit.Log
	kept    *kept
	dir     string
	closers []func()
}

func (d *demo) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

func start(ctx context.Context) (d *demo, err error) {
	d = &demo{}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if d.world, err = shcrtest.NewWorld(); err != nil {
		return nil, err
	}
	d.closers = append(d.closers, d.world.Close)
	if d.dir, err = os.MkdirTemp("", "shcrkit-provider-audit-"); err != nil {
		return nil, err
	}
	d.closers = append(d.closers, func() { os.RemoveAll(d.dir) })
	if d.log, err = audit.OpenLog(d.dir, audit.WithOrigin("brackenfield.shcrkit.example")); err != nil {
		return nil, err
	}
	d.closers = append(d.closers, func() { d.log.Close() })
	d.kept = &kept{}
	d.att, err = shcrprovider.Attach(ctx, d.world, audit.Multi(d.log, d.kept), pdstest.Patients.Normal, pdstest.Patients.Minimal)
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, d.att.Server.Close)
	return d, nil
}

func (d *demo) describe(w io.Writer) {
	fmt.Fprintf(w, "%s (%s) serving at %s behind its guard\n", shcrprovider.Name, shcrprovider.Custodian, d.att.Server.URL)
	fmt.Fprintf(w, "published %d pointers to the NRL at %s\n", len(d.att.Server.Pointers()), d.world.NRL.URL)
	for _, p := range d.att.Server.Pointers() {
		fmt.Fprintf(w, "    %s  %s  %s\n", p.ID, p.Type.Display, p.ContentType)
	}
	fmt.Fprintln(w)
}

// demonstrate calls Brackenfield as the world's consumer does: a read, a
// search, and a read by a role the provider's policy refuses.
func (d *demo) demonstrate(ctx context.Context, w io.Writer) error {
	remote, err := shcr.NewRemote(d.att.Directory, shcr.RemoteConfig{})
	if err != nil {
		return err
	}
	doctor := d.world.Requester
	clerk := doctor
	clerk.Name, clerk.RoleCode, clerk.RoleName, clerk.Activities = "Sam Okoro", "S8000:G8000:R8008", "Receptionist", nil
	ptr := d.att.Server.Pointers()[0]

	c, err := remote.Fetch(ctx, shcr.FetchRequest{Requester: doctor, Purpose: shcrkit.PurposeDirectCare, Pointer: ptr})
	if err != nil {
		return err
	}
	n, _ := io.Copy(io.Discard, c.Body)
	c.Close()
	fmt.Fprintf(w, "%s read %s: %d bytes of %s\n", doctor.Name, ptr.ID, n, c.ContentType)

	s, err := remote.Search(ctx, shcr.SearchRequest{Requester: doctor, Purpose: shcrkit.PurposeDirectCare,
		Custodian: shcrprovider.Custodian, ResourceType: "AllergyIntolerance", Patient: ptr.NHSNumber})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s searched AllergyIntolerance: %d bytes\n", doctor.Name, len(s.Resource))

	_, err = remote.Fetch(ctx, shcr.FetchRequest{Requester: clerk, Purpose: shcrkit.PurposeDirectCare, Pointer: ptr})
	var api *shcrkit.APIError
	if !errors.As(err, &api) {
		return fmt.Errorf("the clerk's read was not refused by the provider: %v", err)
	}
	fmt.Fprintf(w, "%s (%s) refused: %d %s\n\n", clerk.Name, clerk.RoleName, api.StatusCode, api.Code)
	return nil
}

// verify prints the provider's trail and verifies its log.
func (d *demo) verify(ctx context.Context, w io.Writer) error {
	events := d.kept.events()
	fmt.Fprintf(w, "%s's audit trail: %d incoming requests\n", shcrprovider.Name, len(events))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    WHO\tFROM\tACTION\tRESOURCE\tOUTCOME\tRULE\tREQUEST ID")
	for _, e := range events {
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Requester.Name, e.Requester.Organisation,
			e.Action, strings.TrimSpace(e.Resource), e.Outcome, e.Rule, e.RequestID)
	}
	_ = tw.Flush()
	if err := d.log.Verify(ctx); err != nil {
		return fmt.Errorf("the provider's audit log does not verify: %w", err)
	}
	fmt.Fprintf(w, "\naudit log verified: %d events\n", d.log.Size())
	return nil
}

// kept keeps a copy of the events written to the log, to print them
// without reading the log (which would itself be an audited access).
type kept struct {
	mu sync.Mutex
	ev []audit.Event
}

var _ audit.Sink = (*kept)(nil)

// Write implements audit.Sink.
func (k *kept) Write(_ context.Context, e audit.Event) error {
	k.mu.Lock()
	k.ev = append(k.ev, e.Clone())
	k.mu.Unlock()
	return nil
}

func (k *kept) events() []audit.Event {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]audit.Event(nil), k.ev...)
}
