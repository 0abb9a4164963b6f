package adminclient

import (
	"context"
	"errors"
	"fmt"
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

func (e *opError) Error() string { return e.op + ": " + describe(e.err) }

// describe says what went wrong in words that lead to the fix: the status,
// the server's own message (the SDK's Error() has only the status), and
// for a refused key or a rate limit, what to change.
func describe(err error) string {
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr == nil {
		return err.Error()
	}
	msg := fmt.Sprintf("HTTP %d", apiErr.StatusCode)
	if text := http.StatusText(apiErr.StatusCode); text != "" {
		msg += " " + text
	}
	if m := strings.TrimSpace(apiErr.Message); m != "" {
		if len(m) > 300 {
			m = m[:300] + "..."
		}
		msg += ": " + strings.Join(strings.Fields(m), " ")
	}
	switch apiErr.StatusCode {
	case http.StatusUnauthorized:
		msg += " (the admin key was refused: check that OPENAI_ADMIN_KEY, or the secret OPENAI_ADMIN_KEY_SECRET_ARN names, holds a current admin key of this organization)"
	case http.StatusForbidden:
		msg += " (the key may not do this: use an organization admin key, created by an owner at platform.openai.com/settings/organization/admin-keys)"
	case http.StatusTooManyRequests:
		msg += " (rate limited after every retry: lower ORGWARDEN_RATE_LIMIT or ORGWARDEN_MAX_CONCURRENCY)"
	}
	return msg
}
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
