package adminclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/shared/logging"
)

// ErrNotFound is returned by lookups that find nothing.
var ErrNotFound = errors.New("not found")

// ErrDryRun is returned by creates in dry-run mode: there is no result to
// return because nothing was sent.
var ErrDryRun = errors.New("dry run: not sent")

// ErrSelfKey is returned when asked to delete the admin key the client is
// itself using.
var ErrSelfKey = errors.New("refusing to delete the admin key this client is using")

// StatusCode returns the HTTP status of an API error, or 0.
func StatusCode(err error) int {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

// IsNotFound reports a 404 from the API.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// IsTransient reports errors worth retrying later: rate limiting, server
// errors, timeouts, broken connections and lists the API answered only in
// part (ErrIncompleteList). Everything else (400, 401, 403, 404, 409 after
// the SDK's own retries, bad input, ErrPageCeiling) will fail the same way
// again.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrIncompleteList) {
		return true
	}
	switch code := StatusCode(err); {
	case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code >= 500:
		return true
	case code != 0:
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) || errors.Is(err, errConnection)
}

// errConnection marks transport failures the SDK reports as plain errors
// (e.g. "EOF" after a reset).
var errConnection = errors.New("connection failed")

// wrap adds the operation to err and masks key material in its message.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if StatusCode(err) == 0 && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && isTransportError(err) {
		err = errors.Join(errConnection, err)
	}
	return logging.RedactError(&opError{op: op, err: err})
}

type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

func isTransportError(err error) bool {
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	s := err.Error()
	for _, frag := range []string{"EOF", "connection reset", "broken pipe", "connection refused"} {
		if strings.Contains(s, frag) {
			return true
		}
	}
	return false
}
