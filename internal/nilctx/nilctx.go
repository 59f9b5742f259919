// Package nilctx refuses a call made with a nil context.Context, which
// the standard library meets with a panic, with an error matching
// shcrkit.ErrInvalidRequest: the one check every entry point of the SDK
// that takes a context makes before it uses it.
package nilctx

import (
	"context"
	"fmt"

	"github.com/shcrkit/shcrkit"
)

// Err is the error of a call with a nil context.
var Err = fmt.Errorf("%w: nil context", shcrkit.ErrInvalidRequest)

// Check returns Err when ctx is nil.
func Check(ctx context.Context) error {
	if ctx == nil {
		return Err
	}
	return nil
}
