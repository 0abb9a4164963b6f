// Package stacktest starts the local stack emulator for a test and closes it
// when the test ends, as net/http/httptest stands beside net/http: the
// emulator package itself links no "testing", so the demo and the command
// line that serve it do not either.
package stacktest

import (
	"testing"

	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/loopbacktest"
	"github.com/orgwarden/orgwarden/testenv/awslocal/stack"
)

// New starts a Stack for a test and closes it when the test ends.
func New(tb testing.TB, opts stack.Options) *stack.Stack {
	tb.Helper()
	return loopbacktest.ForTest(tb, func() (*stack.Stack, error) { return stack.Start(opts) })
}
