package audit

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
)

// FlagKind is a reason for a privacy officer to look at some accesses.
type FlagKind string

// Kinds of flag, in the order Review reports them.
const (
	// FlagBreakGlass: emergency access that overrode the usual controls
	// (purpose BTG, or a break-glass reason given).
	FlagBreakGlass FlagKind = "break-glass"
	// FlagSelfClaimed: access on a self-claimed legitimate relationship.
	FlagSelfClaimed FlagKind = "self-claimed-relationship"
	// FlagRefused: access attempts that were refused.
	FlagRefused FlagKind = "refused"
	// FlagOutOfHours: access outside working hours.
	FlagOutOfHours FlagKind = "out-of-hours"
	// FlagSameSurname: a user looking at the record of a patient with the
	// same family name (when the events carry both names).
	FlagSameSurname FlagKind = "same-surname"
	// FlagVolumeSpike: a user who looked at far more patients in a day
	// than they usually do.
	FlagVolumeSpike FlagKind = "volume-spike"
	// FlagNoLaterCare: access to a patient for whom the user's
	// organisation recorded no care afterwards (see
	// ReviewConfig.LaterCare).
	FlagNoLaterCare FlagKind = "no-later-care"
)

var flagOrder = []FlagKind{FlagBreakGlass, FlagSelfClaimed, FlagRefused, FlagOutOfHours, FlagSameSurname, FlagVolumeSpike, FlagNoLaterCare}

// Flag is one finding for review, naming the events behind it.
type Flag struct {
	// Kind is what was found.
	Kind FlagKind
	// UserID and Organisation name who made the accesses.
	UserID       string
	Organisation shcrkit.ODSCode
	// Patient is the patient concerned (empty for a volume spike, which
	// spans patients).
	Patient shcrkit.NHSNumber
	// Seqs are the sequence numbers of the events behind the flag,
	// ascending.
	Seqs []uint64
	// Detail explains the flag in words, without patient identifiers.
	Detail string
}

// WorkingHours defines when access is expected. The zero value means
// 08:00 to 18:00, Monday to Friday, in Europe/London.
type WorkingHours struct {
	// Start and End are offsets from local midnight; access at or after
	// Start and before End, on a working day, is in hours.
	Start, End time.Duration
	// Days are the working days (default Monday to Friday).
	Days []time.Weekday
	// Location is the time zone of the hours (default Europe/London).
	Location *time.Location
}

// ReviewConfig sets the rules of Review. The zero value uses the
// defaults given on each field.
type ReviewConfig struct {
	// Hours are the working hours for the out-of-hours flag.
	Hours WorkingHours
	// VolumeFactor: a day on which a user looked at more than this many
	// times their usual daily number of patients is flagged (default 3).
	VolumeFactor float64
	// VolumeMinimum: days with fewer patients than this are never
	// flagged (default 20).
	VolumeMinimum int
	// VolumeBaselineDays: how many other active days a user needs before
	// their usual rate is trusted (default 3).
	VolumeBaselineDays int
	// LaterCare reports whether the caller's records show care for the
	// access's patient by the access's organisation after the access's
	// time. Review calls it once per user and patient, with the earliest
	// successful access; nil leaves the no-later-care flag out.
	LaterCare func(ctx context.Context, access Event) (bool, error)
}

func (c ReviewConfig) validate() error {
	h := c.Hours
	if h.Start < 0 || h.End > 24*time.Hour || h.End < h.Start {
		return fmt.Errorf("%w: working hours %v..%v", ErrInvalidOption, h.Start, h.End)
	}
	for _, d := range h.Days {
		if d < time.Sunday || d > time.Saturday {
			return fmt.Errorf("%w: weekday %d", ErrInvalidOption, d)
		}
	}
	if c.VolumeFactor < 0 || c.VolumeMinimum < 0 || c.VolumeBaselineDays < 0 {
		return fmt.Errorf("%w: negative volume rule", ErrInvalidOption)
	}
	return nil
}

func (c ReviewConfig) withDefaults() (ReviewConfig, error) {
	if err := c.validate(); err != nil {
		return c, err
	}
	if c.Hours.Start == 0 && c.Hours.End == 0 {
		c.Hours.Start, c.Hours.End = 8*time.Hour, 18*time.Hour
	}
	if len(c.Hours.Days) == 0 {
		c.Hours.Days = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	}
	if c.Hours.Location == nil {
		loc, err := time.LoadLocation("Europe/London")
		if err != nil {
			return c, fmt.Errorf("%w: loading Europe/London (set WorkingHours.Location): %v", ErrInvalidOption, err)
		}
		c.Hours.Location = loc
	}
	if c.VolumeFactor == 0 {
		c.VolumeFactor = 3
	}
	if c.VolumeMinimum == 0 {
		c.VolumeMinimum = 20
	}
	if c.VolumeBaselineDays == 0 {
		c.VolumeBaselineDays = 3
	}
	return c, nil
}

// InHours reports whether t falls within the working hours (defaults
// applied as documented on WorkingHours).
func (h WorkingHours) InHours(t time.Time) bool {
	c, err := ReviewConfig{Hours: h}.withDefaults()
	if err != nil {
		return true
	}
	return c.Hours.inHours(t)
}

func (h WorkingHours) inHours(t time.Time) bool {
	lt := t.In(h.Location)
	if !slices.Contains(h.Days, lt.Weekday()) {
		return false
	}
	midnight := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, h.Location)
	off := lt.Sub(midnight)
	return off >= h.Start && off < h.End
}

// Review flags events for a privacy officer: break-glass access,
// self-claimed relationships, refused attempts, access out of hours, a
// user looking at a patient with their own surname, a user's volume far
// above their own usual rate, and (with cfg.LaterCare) access with no
// later recorded care. Events of the audit log itself (ServiceAudit) are
// not flagged. Flags come in the order of the FlagKind constants, then
// by first event.
func Review(ctx context.Context, events iter.Seq2[Event, error], cfg ReviewConfig) ([]Flag, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	type groupKey struct {
		kind    FlagKind
		user    string
		org     shcrkit.ODSCode
		patient shcrkit.NHSNumber
	}
	groups := map[groupKey]*Flag{}
	add := func(kind FlagKind, e Event, detail string) {
		k := groupKey{kind, e.Requester.UserID, e.Requester.Organisation, e.Patient}
		f := groups[k]
		if f == nil {
			f = &Flag{Kind: kind, UserID: k.user, Organisation: k.org, Patient: k.patient, Detail: detail}
			groups[k] = f
		}
		f.Seqs = append(f.Seqs, e.Seq)
	}
	type userDay struct {
		user string
		org  shcrkit.ODSCode
		day  string
	}
	dayPatients := map[userDay]map[shcrkit.NHSNumber]bool{}
	daySeqs := map[userDay][]uint64{}
	type pair struct {
		user    string
		org     shcrkit.ODSCode
		patient shcrkit.NHSNumber
	}
	firstAccess := map[pair]Event{}
	accessSeqs := map[pair][]uint64{}

	for e, err := range events {
		if err != nil {
			return nil, err
		}
		if e.Service == ServiceAudit {
			continue
		}
		if e.Purpose == shcrkit.PurposeBreakGlass || e.BreakGlassReason != "" || e.Relationship == shcrkit.RelationshipEmergency {
			add(FlagBreakGlass, e, "emergency access overriding the usual controls")
		}
		if e.Relationship == shcrkit.RelationshipSelfClaimed {
			add(FlagSelfClaimed, e, "access on a self-claimed legitimate relationship")
		}
		if e.Outcome == OutcomeRefused {
			add(FlagRefused, e, "access refused")
		}
		if !cfg.Hours.inHours(e.Time) {
			add(FlagOutOfHours, e, "access outside working hours")
		}
		if sameSurname(e.UserFamily, e.PatientFamily) {
			add(FlagSameSurname, e, "user and patient share a family name")
		}
		if e.Patient != "" && e.Outcome == OutcomeSuccess {
			k := userDay{e.Requester.UserID, e.Requester.Organisation, e.Time.In(cfg.Hours.Location).Format(time.DateOnly)}
			if dayPatients[k] == nil {
				dayPatients[k] = map[shcrkit.NHSNumber]bool{}
			}
			dayPatients[k][e.Patient] = true
			daySeqs[k] = append(daySeqs[k], e.Seq)
			p := pair{e.Requester.UserID, e.Requester.Organisation, e.Patient}
			if _, ok := firstAccess[p]; !ok {
				firstAccess[p] = e
			}
			accessSeqs[p] = append(accessSeqs[p], e.Seq)
		}
	}

	flags := make([]Flag, 0, len(groups))
	for _, f := range groups {
		flags = append(flags, *f)
	}

	// Volume: each day against the median of the user's other days.
	type userKey struct {
		user string
		org  shcrkit.ODSCode
	}
	byUser := map[userKey][]userDay{}
	for k := range dayPatients {
		u := userKey{k.user, k.org}
		byUser[u] = append(byUser[u], k)
	}
	for _, days := range byUser {
		for _, d := range days {
			count := len(dayPatients[d])
			if count < cfg.VolumeMinimum {
				continue
			}
			var others []int
			for _, o := range days {
				if o != d {
					others = append(others, len(dayPatients[o]))
				}
			}
			if len(others) < cfg.VolumeBaselineDays {
				continue
			}
			usual := median(others)
			if float64(count) > cfg.VolumeFactor*usual {
				flags = append(flags, Flag{
					Kind: FlagVolumeSpike, UserID: d.user, Organisation: d.org, Seqs: daySeqs[d],
					Detail: fmt.Sprintf("%d patients on %s against a usual %.1f a day", count, d.day, usual),
				})
			}
		}
	}

	if cfg.LaterCare != nil {
		for p, e := range firstAccess {
			ok, err := cfg.LaterCare(ctx, e)
			if err != nil {
				return nil, fmt.Errorf("audit: later-care check: %w", err)
			}
			if !ok {
				flags = append(flags, Flag{
					Kind: FlagNoLaterCare, UserID: p.user, Organisation: p.org, Patient: p.patient, Seqs: accessSeqs[p],
					Detail: "no care recorded after the access",
				})
			}
		}
	}

	for i := range flags {
		slices.Sort(flags[i].Seqs)
	}
	slices.SortFunc(flags, func(a, b Flag) int {
		if c := cmp.Compare(slices.Index(flagOrder, a.Kind), slices.Index(flagOrder, b.Kind)); c != 0 {
			return c
		}
		return cmp.Compare(a.Seqs[0], b.Seqs[0])
	})
	return flags, nil
}

// Review queries the log with f on behalf of reader (an audited read)
// and flags what it finds with the rules set by WithReview.
func (l *Log) Review(ctx context.Context, reader shcrkit.Requester, f Filter) ([]Flag, error) {
	return QueryReview(ctx, l, reader, f, l.cfg.review)
}

func sameSurname(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && b != "" && strings.EqualFold(a, b)
}

func median(xs []int) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return float64(s[n/2-1]+s[n/2]) / 2
}
