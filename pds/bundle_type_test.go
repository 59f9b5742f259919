package pds_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
)

// TestSearchRefusesBundleThatIsNotASearchset: PDS answers a search and a
// related-person read with a searchset Bundle; a Bundle of another type
// (a history, a transaction, a document) is not an answer to the search
// and must not be handed back as its matches.
func TestSearchRefusesBundleThatIsNotASearchset(t *testing.T) {
	pat := `{"resourceType":"Patient","id":"9000000009"}`
	rel := `{"resourceType":"RelatedPerson","id":"R1","patient":{}}`
	for _, typ := range []string{"history", "transaction", "document", "collection"} {
		t.Run(typ, func(t *testing.T) {
			f := newFixture(t, reply(http.StatusOK, `{"resourceType":"Bundle","type":"`+typ+`","entry":[{"resource":`+pat+`}]}`))
			_, err := f.client(t).Search(context.Background(), pds.SearchQuery{Family: "Smith", BirthDate: born("2010-10-22")})
			assert.ErrorIs(t, err, shcrkit.ErrMalformedResponse)

			f = newFixture(t, reply(http.StatusOK, `{"resourceType":"Bundle","type":"`+typ+`","entry":[{"resource":`+rel+`}]}`))
			_, err = f.client(t).RelatedPersons(context.Background(), "9000000009")
			assert.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
		})
	}
	// A searchset, or a Bundle that does not say its type, is read.
	for _, body := range []string{
		`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + pat + `}]}`,
		`{"resourceType":"Bundle","entry":[{"resource":` + pat + `}]}`,
	} {
		f := newFixture(t, reply(http.StatusOK, body))
		ms, err := f.client(t).Search(context.Background(), pds.SearchQuery{Family: "Smith", BirthDate: born("2010-10-22")})
		require.NoError(t, err)
		assert.Len(t, ms, 1)
	}
}
