package fhirbundle_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/shcrkit/shcrkit/shcr/internal/fhirbundle"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMergeKeepsSelfLinkAndEveryEntry(t *testing.T) {
	var first map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(`{"resourceType":"Bundle","type":"searchset",
		"link":[{"relation":"self","url":"https://a/x"},{"relation":"next","url":"https://a/x?p=2"}],
		"entry":[{"n":1}]}`), &first))
	out, err := fhirbundle.Merge(first, []json.RawMessage{json.RawMessage(`{"n":1}`), json.RawMessage(`{"n":2}`)})
	require.NoError(t, err)
	assert.JSONEq(t, `{"resourceType":"Bundle","type":"searchset",
		"link":[{"relation":"self","url":"https://a/x"}],"entry":[{"n":1},{"n":2}]}`, string(out))

	first = nil
	require.NoError(t, json.Unmarshal([]byte(`{"resourceType":"Bundle","link":[{"relation":"next","url":"n"}],"entry":[]}`), &first))
	out, err = fhirbundle.Merge(first, nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"resourceType":"Bundle"}`, string(out), "no entries and no paging links are left")
}

func TestNext(t *testing.T) {
	tests := []struct {
		name  string
		links []fhirbundle.Link
		want  string
	}{
		{"none", nil, ""},
		{"self only", []fhirbundle.Link{{Relation: "self", URL: "s"}}, ""},
		{"empty next skipped", []fhirbundle.Link{{Relation: "next"}, {Relation: "next", URL: "n2"}}, "n2"},
		{"next", []fhirbundle.Link{{Relation: "self", URL: "s"}, {Relation: "next", URL: "n"}}, "n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fhirbundle.Page{Link: tt.links}
			assert.Equal(t, tt.want, p.Next())
		})
	}
}

func TestMediaType(t *testing.T) {
	assert.Equal(t, "application/pdf", fhirbundle.MediaType(http.Header{"Content-Type": {"application/pdf; charset=binary"}}))
	assert.Equal(t, "application/fhir+json", fhirbundle.MediaType(http.Header{}))
}
