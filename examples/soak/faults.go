package main

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/auth/authtest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
)

// Invariants the soak checks.
const (
	invNoDataWithoutAudit = "no data without an acknowledged audit event"
	invNoGrowth           = "no growth of goroutines, files or memory once steady"
	invLatencyRecovers    = "latency returns to its pre-fault level after each fault"
	invLogVerifies        = "the audit log verifies at the end"
	invNoAckLost          = "no acknowledged audit event is missing from the log"
)

// fault is one entry of the schedule. Faults take slots in turn, from
// 15% of the run to 75%; each is active for the first third of its slot
// (long ones for two thirds), and the rest of the slot is quiet, so that
// recovery from each can be seen on its own.
type fault struct {
	kind  string
	long  bool
	start func(h *harness)
	stop  func(h *harness)
}

const (
	firstSlot = 0.15
	slotWidth = 0.06
)

// window returns the fractions of the run when the i-th fault is active.
func window(i int, long bool) (from, to float64) {
	from = firstSlot + slotWidth*float64(i)
	if long {
		return from, from + slotWidth*2/3
	}
	return from, from + slotWidth/3
}

// The regions the schedule picks on (the world's custodians).
const (
	slowRegion shcrkit.ODSCode = "RWV" // 503 storm, then hanging answers
	downRegion shcrkit.ODSCode = "RFC" // down for a while
)

// schedule is the faults in order. Every kind the soak promises is here;
// each ends before the next starts, so that recovery from each can be
// seen, and the last fifth of the run is quiet.
var schedule = []fault{
	{kind: "latency spike (PDS, NRL +300 ms)",
		start: func(h *harness) {
			h.world.PDS.SetLatency(h.cfg.Latency + 300*time.Millisecond)
			h.world.NRL.SetLatency(h.cfg.Latency + 300*time.Millisecond)
		},
		stop: func(h *harness) { h.world.PDS.SetLatency(h.cfg.Latency); h.world.NRL.SetLatency(h.cfg.Latency) }},
	{kind: "429 with Retry-After (NRL)",
		start: func(h *harness) {
			h.world.NRL.InjectFault("", "", -1, shcrtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"})
		},
		stop: func(h *harness) { h.world.NRL.ClearFaults() }},
	{kind: "503 storm (" + string(slowRegion) + ")",
		start: func(h *harness) {
			h.world.Region(slowRegion).InjectFault("", "", -1, shcrtest.Fault{Status: http.StatusServiceUnavailable})
		},
		stop: func(h *harness) { h.world.Region(slowRegion).ClearFaults() }},
	{kind: "connection resets (NRL, PDS)",
		start: func(h *harness) {
			h.world.NRL.InjectFault("", "", 25, shcrtest.Fault{Reset: true})
			h.world.PDS.InjectFault("", "", 25, pdstest.Fault{Reset: true})
		},
		stop: func(h *harness) { h.world.NRL.ClearFaults(); h.world.PDS.ClearFaults() }},
	{kind: "hanging answers (" + string(slowRegion) + ")",
		start: func(h *harness) {
			h.world.Region(slowRegion).InjectFault("", "", 20, shcrtest.Fault{Hang: true})
		},
		stop: func(h *harness) { h.world.Region(slowRegion).ClearFaults() }},
	{kind: "regional ShCR down (" + string(downRegion) + ")", long: true,
		start: func(h *harness) {
			h.world.Region(downRegion).InjectFault("", "", -1, shcrtest.Fault{Reset: true})
			h.world.Proxy.InjectFault("", "", -1, shcrtest.Fault{Status: http.StatusBadGateway})
		},
		stop: func(h *harness) { h.world.Region(downRegion).ClearFaults(); h.world.Proxy.ClearFaults() }},
	{kind: "token endpoint failing",
		start: func(h *harness) {
			h.world.Tokens.InjectFault("", "", -1, authtest.Fault{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable"})
			// A 401 makes the SDK drop its cached token and ask again.
			h.world.PDS.InjectFault("", "", 3, pdstest.Fault{Status: http.StatusUnauthorized})
		},
		stop: func(h *harness) { h.world.Tokens.ClearFaults() }},
	{kind: "audit store slow (+200 ms)",
		start: func(h *harness) { h.sink.slow.Store(int64(200 * time.Millisecond)) },
		stop:  func(h *harness) { h.sink.slow.Store(0) }},
	{kind: "audit store failing",
		start: func(h *harness) { h.sink.fail.Store(true) },
		stop:  func(h *harness) { h.sink.fail.Store(false) }},
	{kind: "process restart (audit log reopened)",
		start: func(h *harness) {
			if err := h.restart(); err != nil {
				h.cancel(fmt.Errorf("restart failed: %w", err))
			}
		},
		stop: func(*harness) {}},
}

// schedule injects each fault at its time and clears it at its end.
func (h *harness) schedule(ctx context.Context) {
	for i, f := range schedule {
		from, to := window(i, f.long)
		if !h.sleepUntil(ctx, from) {
			return
		}
		h.mu.Lock()
		h.active[f.kind] = true
		h.current.Faults = append(h.current.Faults, f.kind)
		h.faults = append(h.faults, faultWindow{Kind: f.kind, StartS: time.Since(h.start).Seconds()})
		h.mu.Unlock()
		f.start(h)
		h.sleepUntil(ctx, to)
		f.stop(h)
		h.mu.Lock()
		delete(h.active, f.kind)
		h.faults[len(h.faults)-1].EndS = time.Since(h.start).Seconds()
		h.mu.Unlock()
	}
}

// sleepUntil waits until fraction of the run has passed; false when the
// run ended first.
func (h *harness) sleepUntil(ctx context.Context, fraction float64) bool {
	at := h.start.Add(time.Duration(fraction * float64(h.cfg.Duration)))
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// clearFaults removes whatever fault is still in place.
func (h *harness) clearFaults() {
	w := h.world
	w.PDS.ClearFaults()
	w.NRL.ClearFaults()
	w.Proxy.ClearFaults()
	for _, r := range w.Regions {
		r.ClearFaults()
	}
	w.Tokens.ClearFaults()
	w.PDS.SetLatency(h.cfg.Latency)
	w.NRL.SetLatency(h.cfg.Latency)
	h.sink.slow.Store(0)
	h.sink.fail.Store(false)
}

// broke records a broken invariant and ends the run at once.
func (h *harness) broke(name, detail string) {
	h.invMu.Lock()
	inv := h.invariants[name]
	first := inv.Held
	inv.Held = false
	if first {
		inv.Detail = detail
	}
	h.invMu.Unlock()
	if first {
		h.cancel(fmt.Errorf("invariant broken: %s: %s", name, detail))
	}
}

// check counts n checks of an invariant.
func (h *harness) check(name string, n int) {
	h.invMu.Lock()
	h.invariants[name].Checks += n
	h.invMu.Unlock()
}

// quiet reports whether no fault is active now and none was during the
// last interval.
func (h *harness) quiet(iv interval) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.active) == 0 && len(iv.Faults) == 0
}

// checkGrowth compares a quiet interval's resources with the first
// (steady) one: a leak of one goroutine, file or connection per journey
// grows far past these bounds within minutes.
func (h *harness) checkGrowth(base *interval, ivs []interval) {
	iv := ivs[len(ivs)-1]
	if len(ivs) < 2 || !h.quiet(iv) || !h.quiet(ivs[len(ivs)-2]) {
		return
	}
	h.check(invNoGrowth, 1)
	b := base.resources
	switch {
	case iv.Goroutines > 2*b.Goroutines+100:
		h.broke(invNoGrowth, fmt.Sprintf("goroutines %d against %d when steady", iv.Goroutines, b.Goroutines))
	case b.OpenFiles >= 0 && iv.OpenFiles > 2*b.OpenFiles+64:
		h.broke(invNoGrowth, fmt.Sprintf("open files %d against %d when steady", iv.OpenFiles, b.OpenFiles))
	case iv.HeapMB > 3*b.HeapMB+256:
		h.broke(invNoGrowth, fmt.Sprintf("heap %.0f MB against %.0f MB when steady", iv.HeapMB, b.HeapMB))
	}
}

// recoveryAfter is how long after a fault latency must be back to normal:
// long enough for retries that waited out a Retry-After, and for journeys
// caught by a hang to time out.
func (h *harness) recoveryAfter() time.Duration {
	return min(8*time.Second, h.cfg.Duration/50)
}

// checkRecovery looks at the journeys started in the window after each
// fault's recovery time (when no other fault was active): their p95 must
// be within four times the steady p95, or 500 ms above it when that is
// larger (a shared machine's noise stays well inside that; a service
// still down, at seconds a journey, does not).
func (h *harness) checkRecovery(base *interval) {
	if base == nil || base.Completed == 0 {
		return
	}
	limit := time.Duration(max(4*base.P95, base.P95+500) * float64(time.Millisecond))
	after := h.recoveryAfter()
	now := time.Since(h.start)
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.faults {
		f := &h.faults[i]
		if f.EndS == 0 || f.recovered {
			continue
		}
		from := time.Duration(f.EndS*float64(time.Second)) + after
		to := from + after
		if now < to+15*time.Second && now < time.Duration(h.cfg.Duration) {
			continue // journeys of the window may still be running
		}
		f.recovered = true
		if h.faultDuring(from, to) {
			continue
		}
		var took []time.Duration
		for _, j := range h.journeys {
			if j.at >= from && j.at < to {
				took = append(took, j.took)
			}
		}
		if len(took) < 5 {
			continue
		}
		_, p95, _, _ := percentiles(took)
		h.check(invLatencyRecovers, 1)
		if time.Duration(p95*float64(time.Millisecond)) > limit {
			go h.broke(invLatencyRecovers, fmt.Sprintf("p95 %.0f ms in the %s after %q ended, against %.0f ms when steady", p95, after, f.Kind, base.P95))
		}
	}
}

// faultDuring reports whether any fault was active in [from, to).
func (h *harness) faultDuring(from, to time.Duration) bool {
	for _, f := range h.faults {
		start := time.Duration(f.StartS * float64(time.Second))
		end := time.Duration(f.EndS * float64(time.Second))
		if f.EndS == 0 {
			end = time.Duration(1 << 62)
		}
		if start < to && end >= from {
			return true
		}
	}
	return false
}

// finalChecks looks at the recoveries not yet checked, verifies the audit
// log, checks that every acknowledged event is in it, and that resources
// came back down once load stopped.
func (h *harness) finalChecks(rep *report, base *interval) {
	ctx := context.Background()
	h.checkRecovery(base)
	h.app.mu.Lock()
	defer h.app.mu.Unlock()
	log := h.app.log
	h.check(invLogVerifies, 1)
	if err := log.Verify(ctx); err != nil {
		h.broke(invLogVerifies, err.Error())
	}
	h.acks.mu.Lock()
	missing := make(map[uint64]int, len(h.acks.keys))
	for k, n := range h.acks.keys {
		missing[k] = n
	}
	rep.AuditEvents = h.acks.count
	h.acks.mu.Unlock()
	reader := shcrkit.Requester{UserID: "555000000999", Name: "Soak verifier", Organisation: h.world.Requester.Organisation,
		RoleProfileID: "555000000998", RoleCode: "S8000:G8000:R5080", System: shcrkit.System{Name: "soak"}}
	for e, err := range log.Query(ctx, reader, audit.Filter{}) {
		if err != nil {
			h.broke(invNoAckLost, "reading the log: "+err.Error())
			return
		}
		if n, ok := missing[eventKey(e)]; ok {
			if n <= 1 {
				delete(missing, eventKey(e))
			} else {
				missing[eventKey(e)] = n - 1
			}
		}
	}
	h.check(invNoAckLost, int(rep.AuditEvents))
	if len(missing) > 0 {
		h.broke(invNoAckLost, fmt.Sprintf("%d acknowledged events are not in the log", len(missing)))
	}
	if base != nil {
		// Once load has stopped, what the journeys held must be let go.
		runtime.GC()
		end := sample()
		h.check(invNoGrowth, 1)
		if end.Goroutines > base.Goroutines+100 {
			h.broke(invNoGrowth, fmt.Sprintf("%d goroutines after the run against %d when steady", end.Goroutines, base.Goroutines))
		}
	}
}

// finish fills in the report's totals.
func (h *harness) finish(rep *report, elapsed time.Duration) {
	h.mu.Lock()
	total := h.total
	rep.Faults = append([]faultWindow(nil), h.faults...)
	h.mu.Unlock()
	total.ToS = elapsed.Seconds()
	var all []time.Duration
	for _, j := range h.journeys {
		all = append(all, j.took)
	}
	total.P50, total.P95, total.P99, total.Max = percentiles(all)
	total.latencies = nil
	rep.Total = total
	rep.End = sample()
	rep.StartResources, rep.EndResources = rep.Start, rep.End
	rep.Total.resources = rep.End
	rep.JourneysPerSecondPerCore = float64(total.Completed) / elapsed.Seconds() / float64(rep.Cores)
	if rep.AuditEvents == 0 {
		h.acks.mu.Lock()
		rep.AuditEvents = h.acks.count
		h.acks.mu.Unlock()
	}
	rep.AuditEventsPerSecond = float64(rep.AuditEvents) / elapsed.Seconds()
	h.invMu.Lock()
	for _, name := range []string{invNoDataWithoutAudit, invNoGrowth, invLatencyRecovers, invLogVerifies, invNoAckLost} {
		rep.Invariants = append(rep.Invariants, *h.invariants[name])
	}
	h.invMu.Unlock()
	fmt.Fprintf(h.out, "\ntotal: %d started, %d completed, %d skipped in %.0f s; p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		total.Started, total.Completed, total.Skipped, elapsed.Seconds(), total.P50, total.P95, total.P99, total.Max)
	fmt.Fprintf(h.out, "       %.2f journeys/s per core (%d cores), %.0f audit events/s, %d retries, %d tokens fetched\n",
		rep.JourneysPerSecondPerCore, rep.Cores, rep.AuditEventsPerSecond, total.Retries, total.Tokens)
	fmt.Fprintf(h.out, "       resources at start: %d goroutines, %.0f MB heap, %d files; at end: %d goroutines, %.0f MB heap, %d files\n",
		rep.Start.Goroutines, rep.Start.HeapMB, rep.Start.OpenFiles, rep.End.Goroutines, rep.End.HeapMB, rep.End.OpenFiles)
	fmt.Fprintf(h.out, "faults injected: %d\n", len(rep.Faults))
	for _, f := range rep.Faults {
		fmt.Fprintf(h.out, "  %6.1f-%6.1f s  %s\n", f.StartS, f.EndS, f.Kind)
	}
	fmt.Fprintln(h.out, "invariants:")
	for _, inv := range rep.Invariants {
		state := "held"
		if !inv.Held {
			state = "BROKEN: " + inv.Detail
		}
		fmt.Fprintf(h.out, "  %-58s %6d checks  %s\n", inv.Name, inv.Checks, state)
	}
}
