package investigation

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
)

// FlagKind is a reason for a privacy officer to look at some accesses.
type FlagKind string

// Kinds of flag, in the order QueryReview reports them.
const (
	// FlagBreakGlass: emergency access that overrode the usual controls
	// (purpose BTG, or a break-glass reason given).
	FlagBreakGlass FlagKind = "break-glass"
	// FlagSelfClaimed: access on a self-claimed legitimate relationship.
	FlagSelfClaimed FlagKind = "self-claimed-relationship"
	// FlagAdHocSharing: a record shared outside any agreement on a
	// professional's one-off judgement (Event.AdHocSharing); always
	// reviewed.
	FlagAdHocSharing FlagKind = "ad-hoc-sharing"
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
	// FlagOwnRecord: a user looking at their own record (see
	// ReviewConfig.Staff).
	FlagOwnRecord FlagKind = "own-record"
	// FlagSameSurnameAndAddress: a user looking at the record of a patient
	// who shares both their family name and their address: a relative or
	// a neighbour (see ReviewConfig.Staff and PatientPostcode).
	FlagSameSurnameAndAddress FlagKind = "same-surname-and-address"
	// FlagAfterDischarge: repeated access to a patient after the
	// patient was discharged from the user's organisation's care (see
	// ReviewConfig.Discharged).
	FlagAfterDischarge FlagKind = "after-discharge"
)

var flagOrder = []FlagKind{FlagBreakGlass, FlagSelfClaimed, FlagAdHocSharing, FlagRefused, FlagOutOfHours, FlagOwnRecord, FlagSameSurnameAndAddress,
	FlagSameSurname, FlagAfterDischarge, FlagVolumeSpike, FlagNoLaterCare}

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

// ReviewConfig sets the rules of QueryReview. The zero value uses the
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
	// time. QueryReview calls it once per user and patient, with the earliest
	// successful access; nil leaves the no-later-care flag out.
	LaterCare func(ctx context.Context, access audit.Event) (bool, error)
	// Staff returns the demographics of a user of an organisation, which
	// the trail does not hold: their own NHS number, family name and home
	// postcode, or a zero Staff when unknown. QueryReview calls it once per
	// user and organisation; nil leaves the own-record and
	// same-surname-and-address flags out.
	Staff func(ctx context.Context, userID string, org shcrkit.ODSCode) (Staff, error)
	// PatientPostcode returns a patient's home postcode from the caller's
	// records ("" when unknown), once per patient, for the
	// same-surname-and-address flag.
	PatientPostcode func(ctx context.Context, patient shcrkit.NHSNumber) (string, error)
	// Discharged returns when the access's patient was discharged from
	// the care of the access's organisation, or the zero time when they
	// are still in its care or it is not known. QueryReview calls it once per
	// user and patient; nil leaves the after-discharge flag out.
	Discharged func(ctx context.Context, access audit.Event) (time.Time, error)
	// AfterDischargeMinimum: a user's accesses to a patient after their
	// discharge are flagged when there are at least this many (default
	// 2: one look to write up a discharge is expected).
	AfterDischargeMinimum int
}

// Staff is what review knows of a member of staff beyond the trail.
type Staff struct {
	// NHSNumber is the person's own NHS number.
	NHSNumber shcrkit.NHSNumber
	// Family is their family name.
	Family string
	// Postcode is their home postcode.
	Postcode string
}

func (c ReviewConfig) validate() error {
	h := c.Hours
	if h.Start < 0 || h.End > 24*time.Hour || h.End < h.Start {
		return fmt.Errorf("%w: working hours %v..%v", audit.ErrInvalidOption, h.Start, h.End)
	}
	for _, d := range h.Days {
		if d < time.Sunday || d > time.Saturday {
			return fmt.Errorf("%w: weekday %d", audit.ErrInvalidOption, d)
		}
	}
	if c.VolumeFactor < 0 || c.VolumeMinimum < 0 || c.VolumeBaselineDays < 0 || c.AfterDischargeMinimum < 0 {
		return fmt.Errorf("%w: negative volume rule", audit.ErrInvalidOption)
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
			return c, fmt.Errorf("%w: loading Europe/London (set WorkingHours.Location): %v", audit.ErrInvalidOption, err)
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
	if c.AfterDischargeMinimum == 0 {
		c.AfterDischargeMinimum = 2
	}
	return c, nil
}

func (h WorkingHours) inHours(t time.Time) bool {
	lt := t.In(h.Location)
	if !slices.Contains(h.Days, lt.Weekday()) {
		return false
	}
	// The wall-clock time, not the time elapsed since midnight: on the
	// days the clocks change the two differ by an hour.
	off := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute +
		time.Duration(lt.Second())*time.Second + time.Duration(lt.Nanosecond())
	return off >= h.Start && off < h.End
}

// review flags events as QueryReview documents.
func review(ctx context.Context, events iter.Seq2[audit.Event, error], cfg ReviewConfig) ([]Flag, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := newReviewer(cfg)
	for e, err := range events {
		if err != nil {
			return nil, err
		}
		if e.Service == audit.ServiceAudit {
			continue
		}
		if err := r.observe(ctx, e); err != nil {
			return nil, err
		}
	}
	return r.flags(ctx)
}

// QueryReview queries src with f on behalf of reader (an audited read)
// and flags what it finds for a privacy officer, with the rules of cfg:
// break-glass access,
// self-claimed relationships, refused attempts, access out of hours, a
// user looking at their own record or at a patient with their own surname
// (and, with staff demographics, their own address), repeated access after
// the patient's discharge, a user's volume far above their own usual
// rate, and access with no later recorded care. The flags that need what
// the trail does not hold take it from cfg's callbacks and are left out
// without them. Events of the audit log itself (ServiceAudit) are not
// flagged. Flags come in the order of the FlagKind constants, then by
// first event, and each names its events.
func QueryReview(ctx context.Context, src audit.Reader, reader shcrkit.Requester, f audit.Filter, cfg ReviewConfig) ([]Flag, error) {
	if src == nil {
		return nil, errNoReader
	}
	return review(ctx, src.Query(ctx, reader, f), cfg)
}

// reviewer holds what review learns as the events go by. Each flag kind
// has a method of its own: the per-event checks run from observe, the
// ones that need every event at the end from flags.
type reviewer struct {
	cfg    ReviewConfig
	groups map[groupKey]*Flag
	// For the volume flag: each user's patients and events per day.
	dayPatients map[userDay]map[shcrkit.NHSNumber]bool
	daySeqs     map[userDay][]uint64
	// For the later-care and after-discharge flags: each user's first
	// successful access to each patient, and all of them.
	firstAccess map[userPatient]audit.Event
	accesses    map[userPatient][]seqAt
	// Lookups made once each.
	staff     map[userKey]Staff
	postcodes map[shcrkit.NHSNumber]string
}

type groupKey struct {
	kind    FlagKind
	user    string
	org     shcrkit.ODSCode
	patient shcrkit.NHSNumber
}

type userKey struct {
	user string
	org  shcrkit.ODSCode
}

type userDay struct {
	userKey
	day string
}

type userPatient struct {
	userKey
	patient shcrkit.NHSNumber
}

// seqAt is an event's sequence number and time.
type seqAt struct {
	seq uint64
	at  time.Time
}

// seqsAfter returns the sequence numbers of the accesses made after t.
func seqsAfter(as []seqAt, t time.Time) []uint64 {
	var out []uint64
	for _, a := range as {
		if a.at.After(t) {
			out = append(out, a.seq)
		}
	}
	return out
}

func newReviewer(cfg ReviewConfig) *reviewer {
	return &reviewer{cfg: cfg, groups: map[groupKey]*Flag{}, dayPatients: map[userDay]map[shcrkit.NHSNumber]bool{},
		daySeqs: map[userDay][]uint64{}, firstAccess: map[userPatient]audit.Event{}, accesses: map[userPatient][]seqAt{},
		staff: map[userKey]Staff{}, postcodes: map[shcrkit.NHSNumber]string{}}
}

// add puts e under the flag of its kind, user and patient.
func (r *reviewer) add(kind FlagKind, e audit.Event, detail string) {
	k := groupKey{kind, e.Requester.UserID, e.Requester.Organisation, e.Patient}
	f := r.groups[k]
	if f == nil {
		f = &Flag{Kind: kind, UserID: k.user, Organisation: k.org, Patient: k.patient, Detail: detail}
		r.groups[k] = f
	}
	f.Seqs = append(f.Seqs, e.Seq)
}

func (r *reviewer) observe(ctx context.Context, e audit.Event) error {
	r.breakGlass(e)
	r.selfClaimed(e)
	r.adHocSharing(e)
	r.refused(e)
	r.outOfHours(e)
	r.sameSurname(e)
	if err := r.closeToHome(ctx, e); err != nil {
		return err
	}
	r.tally(e)
	return nil
}

func (r *reviewer) breakGlass(e audit.Event) {
	if e.Purpose == shcrkit.PurposeBreakGlass || e.BreakGlassReason != "" || e.Relationship == shcrkit.RelationshipEmergency {
		r.add(FlagBreakGlass, e, "emergency access overriding the usual controls")
	}
}

func (r *reviewer) selfClaimed(e audit.Event) {
	if e.Relationship == shcrkit.RelationshipSelfClaimed {
		r.add(FlagSelfClaimed, e, "access on a self-claimed legitimate relationship")
	}
}

func (r *reviewer) adHocSharing(e audit.Event) {
	if e.AdHocSharing != "" {
		r.add(FlagAdHocSharing, e, "record shared ad hoc, outside any sharing agreement")
	}
}

func (r *reviewer) refused(e audit.Event) {
	if e.Outcome == audit.OutcomeRefused {
		r.add(FlagRefused, e, "access refused")
	}
}

func (r *reviewer) outOfHours(e audit.Event) {
	if !r.cfg.Hours.inHours(e.Time) {
		r.add(FlagOutOfHours, e, "access outside working hours")
	}
}

func (r *reviewer) sameSurname(e audit.Event) {
	if sameSurname(e.UserFamily, e.PatientFamily) {
		r.add(FlagSameSurname, e, "user and patient share a family name")
	}
}

// closeToHome flags a user's own record, and a patient who shares the
// user's family name and home postcode.
func (r *reviewer) closeToHome(ctx context.Context, e audit.Event) error {
	if r.cfg.Staff == nil || e.Patient == "" {
		return nil
	}
	u := userKey{e.Requester.UserID, e.Requester.Organisation}
	st, ok := r.staff[u]
	if !ok {
		var err error
		if st, err = r.cfg.Staff(ctx, u.user, u.org); err != nil {
			return fmt.Errorf("audit: staff demographics: %w", err)
		}
		r.staff[u] = st
	}
	if st.NHSNumber != "" && st.NHSNumber == e.Patient {
		r.add(FlagOwnRecord, e, "user looked at their own record")
		return nil
	}
	family := st.Family
	if family == "" {
		family = e.UserFamily
	}
	if r.cfg.PatientPostcode == nil || st.Postcode == "" || !sameSurname(family, e.PatientFamily) {
		return nil
	}
	pc, ok := r.postcodes[e.Patient]
	if !ok {
		var err error
		if pc, err = r.cfg.PatientPostcode(ctx, e.Patient); err != nil {
			return fmt.Errorf("audit: patient postcode: %w", err)
		}
		r.postcodes[e.Patient] = pc
	}
	if samePostcode(pc, st.Postcode) {
		r.add(FlagSameSurnameAndAddress, e, "user and patient share a family name and an address")
	}
	return nil
}

// tally counts successful accesses to patients, for the flags decided at
// the end.
func (r *reviewer) tally(e audit.Event) {
	if e.Patient == "" || e.Outcome != audit.OutcomeSuccess {
		return
	}
	u := userKey{e.Requester.UserID, e.Requester.Organisation}
	d := userDay{u, e.Time.In(r.cfg.Hours.Location).Format(time.DateOnly)}
	if r.dayPatients[d] == nil {
		r.dayPatients[d] = map[shcrkit.NHSNumber]bool{}
	}
	r.dayPatients[d][e.Patient] = true
	r.daySeqs[d] = append(r.daySeqs[d], e.Seq)
	if r.cfg.LaterCare == nil && r.cfg.Discharged == nil {
		return // nothing asks for the accesses' history: keep none
	}
	p := userPatient{u, e.Patient}
	if _, ok := r.firstAccess[p]; !ok {
		r.firstAccess[p] = e
	}
	r.accesses[p] = append(r.accesses[p], seqAt{e.Seq, e.Time})
}

// volumeSpikes compares each of a user's days with the median of their
// other days.
func (r *reviewer) volumeSpikes() []Flag {
	byUser := map[userKey][]userDay{}
	for d := range r.dayPatients {
		byUser[d.userKey] = append(byUser[d.userKey], d)
	}
	var out []Flag
	for _, days := range byUser {
		for _, d := range days {
			count := len(r.dayPatients[d])
			if count < r.cfg.VolumeMinimum {
				continue
			}
			var others []int
			for _, o := range days {
				if o != d {
					others = append(others, len(r.dayPatients[o]))
				}
			}
			if len(others) < r.cfg.VolumeBaselineDays {
				continue
			}
			if usual := median(others); float64(count) > r.cfg.VolumeFactor*usual {
				out = append(out, Flag{Kind: FlagVolumeSpike, UserID: d.user, Organisation: d.org, Seqs: r.daySeqs[d],
					Detail: fmt.Sprintf("%d patients on %s against a usual %.1f a day", count, d.day, usual)})
			}
		}
	}
	return out
}

// perPatient calls check for each user's first successful access to
// each patient and collects the flags it returns; what names the check
// in its errors.
func (r *reviewer) perPatient(ctx context.Context, what string, check func(context.Context, userPatient, audit.Event) (*Flag, error)) ([]Flag, error) {
	var out []Flag
	for p, e := range r.firstAccess {
		f, err := check(ctx, p, e)
		if err != nil {
			return nil, fmt.Errorf("audit: %s: %w", what, err)
		}
		if f != nil {
			f.UserID, f.Organisation, f.Patient = p.user, p.org, p.patient
			out = append(out, *f)
		}
	}
	return out, nil
}

// noLaterCare flags access to a patient for whom the user's
// organisation recorded no care afterwards.
func (r *reviewer) noLaterCare(ctx context.Context, p userPatient, e audit.Event) (*Flag, error) {
	ok, err := r.cfg.LaterCare(ctx, e)
	if err != nil || ok {
		return nil, err
	}
	seqs := make([]uint64, 0, len(r.accesses[p]))
	for _, a := range r.accesses[p] {
		seqs = append(seqs, a.seq)
	}
	return &Flag{Kind: FlagNoLaterCare, Seqs: seqs, Detail: "no care recorded after the access"}, nil
}

// afterDischarge flags a user's repeated access to a patient after the
// patient left their organisation's care.
func (r *reviewer) afterDischarge(ctx context.Context, p userPatient, e audit.Event) (*Flag, error) {
	left, err := r.cfg.Discharged(ctx, e)
	if err != nil || left.IsZero() {
		return nil, err
	}
	seqs := seqsAfter(r.accesses[p], left)
	if len(seqs) < r.cfg.AfterDischargeMinimum {
		return nil, nil
	}
	return &Flag{Kind: FlagAfterDischarge, Seqs: seqs,
		Detail: fmt.Sprintf("%d accesses after discharge on %s", len(seqs), left.UTC().Format(time.DateOnly))}, nil
}

// flags returns every flag, sorted.
func (r *reviewer) flags(ctx context.Context) ([]Flag, error) {
	flags := make([]Flag, 0, len(r.groups))
	for _, f := range r.groups {
		flags = append(flags, *f)
	}
	flags = append(flags, r.volumeSpikes()...)
	if r.cfg.LaterCare != nil {
		later, err := r.perPatient(ctx, "later-care check", r.noLaterCare)
		if err != nil {
			return nil, err
		}
		flags = append(flags, later...)
	}
	if r.cfg.Discharged != nil {
		discharged, err := r.perPatient(ctx, "discharge check", r.afterDischarge)
		if err != nil {
			return nil, err
		}
		flags = append(flags, discharged...)
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

// sameSurname reports whether two family names, as two systems may
// write them, are the same family: equal once case, accents, apostrophes
// and the spaces and hyphens between parts are set aside, or sharing a
// part other than a particle (a double-barrelled "Smith-Jones" and
// "Jones"). An empty name matches nothing.
func sameSurname(a, b string) bool {
	pa, pb := surnameParts(a), surnameParts(b)
	if len(pa) == 0 || len(pb) == 0 {
		return false
	}
	if slices.Equal(pa, pb) {
		return true
	}
	for _, p := range pa {
		if !surnameParticles[p] && slices.Contains(pb, p) {
			return true
		}
	}
	return false
}

// surnameParticles are the parts of a family name that alone say nothing
// of the family.
var surnameParticles = map[string]bool{
	"van": true, "von": true, "de": true, "der": true, "den": true, "del": true, "della": true,
	"di": true, "da": true, "das": true, "dos": true, "du": true, "la": true, "le": true, "st": true,
	"ter": true, "ten": true, "al": true, "el": true, "bin": true, "ibn": true,
}

// surnameParts splits a family name into its parts, folded: lower case,
// accents off, apostrophes and other marks dropped; spaces, hyphens and
// any other separator split.
func surnameParts(s string) []string {
	var parts []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			parts = append(parts, b.String())
			b.Reset()
		}
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteString(foldAccent(r))
		case unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || r == '-':
			flush()
		}
		// Apostrophes, full stops and other marks join: O'Brien, O’Brien
		// and OBrien are one name.
	}
	flush()
	return parts
}

// accentFolds maps the accented Latin letters of names to their plain
// letters.
var accentFolds = func() map[rune]string {
	m := map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ł': "l", 'ð': "d", 'þ': "th"}
	for plain, accented := range map[string]string{
		"a": "àáâãäåāăą", "c": "çćĉċč", "d": "ď", "e": "èéêëēĕėęě", "g": "ĝğġģ", "h": "ĥħ",
		"i": "ìíîïĩīĭįı", "j": "ĵ", "k": "ķ", "l": "ĺļľŀ", "n": "ñńņňŉ", "o": "òóôõöōŏő",
		"r": "ŕŗř", "s": "śŝşšș", "t": "ţťŧț", "u": "ùúûüũūŭůűų", "w": "ŵ", "y": "ýÿŷ", "z": "źżž",
	} {
		for _, r := range accented {
			m[r] = plain
		}
	}
	return m
}()

func foldAccent(r rune) string {
	if f, ok := accentFolds[r]; ok {
		return f
	}
	return string(r)
}

// samePostcode compares postcodes ignoring case and spaces.
func samePostcode(a, b string) bool {
	norm := func(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), "")) }
	a, b = norm(a), norm(b)
	return a != "" && a == b
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
