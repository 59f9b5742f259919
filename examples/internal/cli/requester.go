package cli

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/shcrkit/shcrkit"
)

// LoadRequester reads a JSON file describing a requester (a
// shcrkit.Requester, as -requester and -reader take) and validates it.
func LoadRequester(path string) (shcrkit.Requester, error) {
	var r shcrkit.Requester
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, r.Validate()
}
