package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProvider(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out, &errOut), errOut.String())
	s := out.String()
	for _, want := range []string{
		"Brackenfield Care Record (RBF) serving at http://127.0.0.1:",
		"published 4 pointers to the NRL",
		"Dr Nia Ferreira read RBF-",
		"Dr Nia Ferreira searched AllergyIntolerance",
		"Sam Okoro (Receptionist) refused: 403 ACCESS_DENIED",
		"audit trail: 3 incoming requests",
		"agreements/ISA-QRU-RBF-2026",
		"refused  roles",
		"audit log verified: 3 events",
	} {
		assert.Contains(t, s, want)
	}
}

func TestProviderRefusesArguments(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Error(t, run(context.Background(), []string{"extra"}, &out, &errOut))
}
