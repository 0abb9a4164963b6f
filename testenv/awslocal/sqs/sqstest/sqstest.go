// Package sqstest starts the local sqs emulator for a test and closes it
// when the test ends, as net/http/httptest stands beside net/http: the
// emulator package itself links no "testing", so the demo and the command
// line that serve it do not either.
package sqstest

import (
	"testing"

	"github.com/orgwarden/orgwarden/testenv/awslocal/internal/loopbacktest"
	"github.com/orgwarden/orgwarden/testenv/awslocal/sqs"
)

// New starts a Server for a test and closes it when the test ends.
func New(tb testing.TB, opts ...sqs.Option) *sqs.Server {
	tb.Helper()
	return loopbacktest.ForTest(tb, func() (*sqs.Server, error) { return sqs.Start(opts...) })
}
