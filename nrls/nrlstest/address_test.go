package nrlstest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
)

// TestSelfLinkUsesTheAddressCalled: a search's self link names the host
// the client called (or the one a proxy in front reports), for either API.
func TestSelfLinkUsesTheAddressCalled(t *testing.T) {
	srv := newServer(t)
	q := url.Values{"subject:identifier": {subjectNormal}}
	for _, tt := range []struct {
		name, path, org string
		forward         map[string]string
		want            string
	}{
		{"consumer, direct", consumerPath("/DocumentReference?"), string(nrlstest.ConsumerODS), nil, srv.URL + nrls.ConsumerPath},
		{"consumer, through a proxy", consumerPath("/DocumentReference?"), string(nrlstest.ConsumerODS),
			map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sandbox.test:8443"}, "https://sandbox.test:8443" + nrls.ConsumerPath},
		{"producer, through a proxy", producerPath("/DocumentReference?"), "RNR",
			map[string]string{"X-Forwarded-Host": "sandbox.test:8700"}, "http://sandbox.test:8700" + nrls.ProducerPath},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := headers("")
			h.Set("NHSD-End-User-Organisation-ODS", tt.org)
			for k, v := range tt.forward {
				h.Set(k, v)
			}
			a := send(t, srv, http.MethodGet, tt.path+q.Encode(), h, "")
			require.Equal(t, http.StatusOK, a.status, string(a.body))
			var b struct {
				Link []struct{ Relation, URL string }
			}
			require.NoError(t, json.Unmarshal(a.body, &b))
			require.Len(t, b.Link, 1)
			assert.True(t, strings.HasPrefix(b.Link[0].URL, tt.want+"/DocumentReference?"), b.Link[0].URL)
		})
	}
}

// TestMetadata: each API's CapabilityStatement needs neither a token nor
// the headers every other request needs.
func TestMetadata(t *testing.T) {
	srv := newServer(t, nrlstest.WithTokenValidator(func(string) error { return errors.New("no") }))
	for path, interactions := range map[string][]string{
		consumerPath("/metadata"): {"read", "search-type"},
		producerPath("/metadata"): {"read", "search-type", "create", "update", "delete"},
	} {
		a := send(t, srv, http.MethodGet, path, nil, "")
		require.Equal(t, http.StatusOK, a.status, path)
		var cs struct {
			ResourceType string
			Rest         []struct {
				Resource []struct {
					Type        string
					Interaction []struct{ Code string }
				}
			}
		}
		require.NoError(t, json.Unmarshal(a.body, &cs))
		assert.Equal(t, "CapabilityStatement", cs.ResourceType)
		require.Len(t, cs.Rest, 1)
		require.Len(t, cs.Rest[0].Resource, 1)
		assert.Equal(t, "DocumentReference", cs.Rest[0].Resource[0].Type)
		var got []string
		for _, i := range cs.Rest[0].Resource[0].Interaction {
			got = append(got, i.Code)
		}
		assert.Equal(t, interactions, got, path)
	}
	a := send(t, srv, http.MethodGet, consumerPath("/DocumentReference"), headers(nrlstest.ConsumerODS), "")
	assert.Equal(t, http.StatusUnauthorized, a.status, "everything else still needs a token")
}
