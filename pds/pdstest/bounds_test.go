package pdstest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit/pds/pdstest"
)

// TestPatchBodiesAndRecordsAreBounded: an update's body was read up to
// the 32 MiB the request log takes, and whatever it added was kept: a
// tester's runaway loop (or anyone reaching the sandbox) could grow a
// record without end, and each answer (the whole record) was kept again
// for de-duplication, 1,024 of them. PDS records are a few kilobytes,
// and the service limits what they hold (a family name is at most 35
// characters).
func TestPatchBodiesAndRecordsAreBounded(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	path := "/Patient/" + pdstest.Patients.Normal.String()

	// One huge body is refused.
	huge := fmt.Sprintf(`{"patches":[{"op":"add","path":"/telecom/-","value":{"system":"email","value":%q}}]}`,
		strings.Repeat("x", 2<<20))
	a := call(t, srv, http.MethodPatch, path, huge, "Content-Type", jsonPatch, "If-Match", `W/"1"`)
	assert.Equal(t, http.StatusRequestEntityTooLarge, a.status, "a 2 MiB update is taken")

	// Many updates, each under the limit, do not grow the record without end.
	version := 1
	for range 40 {
		body := fmt.Sprintf(`{"patches":[{"op":"add","path":"/telecom/-","value":{"system":"email","value":%q}}]}`,
			strings.Repeat("y", 256<<10))
		a := call(t, srv, http.MethodPatch, path, body, "Content-Type", jsonPatch, "If-Match", fmt.Sprintf(`W/"%d"`, version))
		if a.status != http.StatusOK {
			assert.Equal(t, http.StatusBadRequest, a.status)
			assert.Equal(t, "INVALID_UPDATE", a.code())
			break
		}
		version++
	}
	rec, _, ok := srv.Record(pdstest.Patients.Normal)
	require.True(t, ok)
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(b), 1<<20, "the record grew to %d bytes", len(b))
}
