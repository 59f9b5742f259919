package investigation_test

import (
	"context"
	"testing"

	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/investigation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOfficerCannotInvestigateTheirOwnAccesses: a user who made the
// accesses a case is about may not open it, take it on, add to it or
// close it (as "appropriate"); another officer must. Otherwise whoever
// snooped and can reach the console clears themselves, in the
// tamper-evident trail.
func TestOfficerCannotInvestigateTheirOwnAccesses(t *testing.T) {
	ctx := context.Background()
	l, seqs := caseTrail(t)
	book, err := investigation.NewCasebook(l, l)
	require.NoError(t, err)
	subject := caseClinician() // made every access of caseTrail

	_, err = book.Open(ctx, subject, casePatient, []uint64{seqs[0]}, "nothing to see")
	assert.ErrorIs(t, err, investigation.ErrOwnAccess)
	_, err = book.OpenFromFlag(ctx, subject, investigation.Flag{Kind: investigation.FlagSelfClaimed, UserID: subject.UserID,
		Organisation: subject.Organisation, Seqs: []uint64{seqs[0]}}, "")
	assert.ErrorIs(t, err, investigation.ErrOwnAccess)

	id, err := book.Open(ctx, privacyOfficer(), casePatient, []uint64{seqs[0], seqs[2]}, "self-claimed access")
	require.NoError(t, err)
	assert.ErrorIs(t, book.Acknowledge(ctx, subject, id, ""), investigation.ErrOwnAccess)
	assert.ErrorIs(t, book.Note(ctx, subject, id, "it was fine"), investigation.ErrOwnAccess)
	assert.ErrorIs(t, book.Close(ctx, subject, id, investigation.FindingAppropriate, "it was fine"), investigation.ErrOwnAccess)
	c, err := book.Case(ctx, privacyOfficer(), id)
	require.NoError(t, err)
	assert.Equal(t, "opened", c.Status, "nothing the subject tried was recorded")
	require.NoError(t, book.Close(ctx, privacyOfficer(), id, investigation.FindingAppropriate, "clinic list confirms"))
}

// TestFlagWithoutItsUserIsNotAWholeTrailScan: a flag that names no
// patient names the user whose events it is about; one that names
// neither would have OpenFromFlag read the whole trail to find its
// events.
func TestFlagWithoutItsUserIsNotAWholeTrailScan(t *testing.T) {
	ctx := context.Background()
	l, seqs := caseTrail(t)
	book, err := investigation.NewCasebook(l, l)
	require.NoError(t, err)
	before := l.Size()
	_, err = book.OpenFromFlag(ctx, privacyOfficer(), investigation.Flag{Kind: investigation.FlagRefused, Seqs: []uint64{seqs[0]}}, "")
	assert.ErrorIs(t, err, investigation.ErrInvalidCase)
	for e, err := range l.Query(ctx, privacyOfficer(), audit.Filter{Service: audit.ServiceAudit}) {
		require.NoError(t, err)
		if e.Seq > before && e.Action == audit.ActionSearch {
			assert.NotEqual(t, "", e.Query, "no unfiltered read of the trail was made: %+v", e)
		}
	}
}
