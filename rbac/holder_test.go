package rbac_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withoutEastmoor is the example policy with the Eastmoor agreement no
// longer covering care plans: a policy whose decisions differ visibly.
func withoutEastmoor(t *testing.T) []byte {
	t.Helper()
	text := string(samplepolicy.YAML())
	old := "categories: [demographics, appointments, care-plans, mental-health, observations, summary-record, clinical-summary, sensitive-records]"
	require.Contains(t, text, old)
	return []byte(strings.Replace(text, old, "categories: [demographics, appointments]", 1))
}

func eastmoorPlan() rbac.Request {
	req := baseRequest()
	req.Custodian, req.RecordType = "RE1", typeEmergencyPlan
	return req
}

func TestHolderReload(t *testing.T) {
	old := samplepolicy.Load()
	h, err := rbac.NewHolder(old)
	require.NoError(t, err)
	require.True(t, h.Policy().Decide(eastmoorPlan()).Allowed)

	// A policy that does not load leaves the old one serving, and says why.
	_, err = h.Reload([]byte("version: 2\n"))
	require.ErrorIs(t, err, rbac.ErrInvalidPolicy)
	assert.Contains(t, err.Error(), "the one in force stays")
	assert.Same(t, old, h.Policy())
	assert.True(t, h.Policy().Decide(eastmoorPlan()).Allowed)

	p, err := h.Reload(withoutEastmoor(t))
	require.NoError(t, err)
	assert.Same(t, p, h.Policy())
	d := h.Policy().Decide(eastmoorPlan())
	require.False(t, d.Allowed)
	assert.Contains(t, d.Reason(), "does not cover category care-plans")
	// A decision in flight on the policy taken before the swap finishes
	// on it.
	assert.True(t, old.Decide(eastmoorPlan()).Allowed)

	prev, err := h.Swap(old)
	require.NoError(t, err)
	assert.Same(t, p, prev)
	_, err = h.Swap(nil)
	require.Error(t, err)
	assert.Same(t, old, h.Policy())

	_, err = rbac.NewHolder(nil)
	require.ErrorIs(t, err, rbac.ErrInvalidPolicy)

	_, err = h.Reload([]byte("not: [a policy"))
	require.ErrorIs(t, err, rbac.ErrInvalidPolicy)
	assert.Same(t, old, h.Policy())
}

func TestHolderSwapsUnder64ConcurrentDecisions(t *testing.T) {
	a := samplepolicy.Load()
	h, err := rbac.NewHolder(a)
	require.NoError(t, err)
	texts := [][]byte{withoutEastmoor(t), samplepolicy.YAML()}

	const deciders, rounds, perDecider = 64, 8, 20
	var wg sync.WaitGroup
	errs := make(chan string, deciders)
	start := make(chan struct{})
	for range deciders {
		wg.Go(func() {
			<-start
			req := eastmoorPlan()
			boundary := baseRequest()
			for range perDecider {
				// One user action's decisions all use the policy taken at
				// its start, whatever is swapped in meanwhile.
				p := h.Policy()
				first := p.Decide(req)
				if !p.Decide(boundary).Allowed {
					errs <- "boundary refused"
					return
				}
				if again := p.Decide(req); again.Allowed != first.Allowed || again.Rule != first.Rule {
					errs <- "one policy gave two answers: " + first.String() + " / " + again.String()
					return
				}
			}
		})
	}
	wg.Go(func() {
		<-start
		for i := range rounds {
			if _, err := h.Reload(texts[i%2]); err != nil {
				errs <- err.Error()
			}
			if _, err := h.Reload([]byte("not: [a policy")); err == nil {
				errs <- "a broken policy was loaded"
			}
		}
	})
	close(start)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// rounds is even: the last text loaded is the example policy.
	assert.True(t, h.Policy().Decide(eastmoorPlan()).Allowed)
}

func TestHolderWatchReloadsAChangedFile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "policy.yaml")
		require.NoError(t, os.WriteFile(path, samplepolicy.YAML(), 0o600))
		p, err := rbac.LoadPolicyFile(path)
		require.NoError(t, err)
		h, err := rbac.NewHolder(p)
		require.NoError(t, err)

		type outcome struct {
			p   *rbac.Policy
			err error
		}
		var mu sync.Mutex
		var reports []outcome
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- h.Watch(ctx, path, time.Minute, func(p *rbac.Policy, err error) {
				mu.Lock()
				reports = append(reports, outcome{p, err})
				mu.Unlock()
			})
		}()
		tick := func() {
			time.Sleep(time.Minute)
			synctest.Wait()
		}
		count := func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(reports)
		}
		// report reads a report under the lock the watcher appends under.
		report := func(i int) outcome {
			mu.Lock()
			defer mu.Unlock()
			return reports[i]
		}

		tick()
		assert.Zero(t, count(), "an unchanged file is not reloaded")
		assert.Same(t, p, h.Policy())

		require.NoError(t, os.WriteFile(path, withoutEastmoor(t), 0o600))
		tick()
		require.Equal(t, 1, count())
		require.NoError(t, report(0).err)
		assert.Same(t, report(0).p, h.Policy())
		assert.False(t, h.Policy().Decide(eastmoorPlan()).Allowed)

		// A broken file is reported once and the policy in force stays.
		require.NoError(t, os.WriteFile(path, []byte("version: 1\nname: broken\n"), 0o600))
		tick()
		tick()
		require.Equal(t, 2, count())
		require.ErrorIs(t, report(1).err, rbac.ErrInvalidPolicy)
		assert.Same(t, report(0).p, h.Policy())

		require.NoError(t, os.Remove(path))
		tick()
		tick()
		require.Equal(t, 3, count())
		assert.ErrorIs(t, report(2).err, os.ErrNotExist)

		require.NoError(t, os.WriteFile(path, samplepolicy.YAML(), 0o600))
		tick()
		require.Equal(t, 4, count())
		require.NoError(t, report(3).err)
		assert.True(t, h.Policy().Decide(eastmoorPlan()).Allowed)

		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
		assert.Error(t, h.Watch(t.Context(), path, 0, nil))
	})
}

func TestHolderDecideDoesNotAllocate(t *testing.T) {
	h, err := rbac.NewHolder(samplepolicy.Load())
	require.NoError(t, err)
	req := eastmoorPlan()
	req.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipEncounter}
	req.Verification = rbac.Verification{Status: rbac.VerificationVerified, Verifier: "encounter", Evidence: "Encounter/enc-1"}
	d := h.Policy().Decide(req)
	require.True(t, d.Allowed, d.String())
	assert.Zero(t, testing.AllocsPerRun(200, func() { d = h.Policy().Decide(req) }))
}

func TestHolderWatchRefusesANilContext(t *testing.T) {
	h, err := rbac.NewHolder(samplepolicy.Load())
	require.NoError(t, err)
	var ctx context.Context
	assert.ErrorIs(t, h.Watch(ctx, "policy.yaml", time.Minute, nil), shcrkit.ErrInvalidRequest)
}
