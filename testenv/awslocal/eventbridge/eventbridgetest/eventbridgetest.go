// Package eventbridgetest starts the local eventbridge emulator for a test and closes it
// when the test ends, as net/http/httptest stands beside net/http: the
// emulator package itself links no "testing", so the demo and the command
// line that serve it do not either.
package eventbridgetest

import (
	"testing"

	"github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge"
	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/loopbacktest"
)

// New starts a Server for a test and closes it when the test ends.
func New(tb testing.TB, opts ...eventbridge.Option) *eventbridge.Server {
	tb.Helper()
	return loopbacktest.ForTest(tb, func() (*eventbridge.Server, error) { return eventbridge.Start(opts...) })
}
