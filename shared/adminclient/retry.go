package adminclient

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3/option"
)

// RetryNotice says that the SDK is about to retry a call, and roughly how
// long it waits first, so a person at a terminal sees what is happening
// instead of silence (Options.OnRetry).
type RetryNotice struct {
	Method, Path string
	// Status is the HTTP status that caused the retry, 0 for a connection
	// error.
	Status int
	// Wait is what Retry-After-Ms or Retry-After asked for, else the SDK's
	// backoff before jitter.
	Wait time.Duration
	// Retry numbers the coming retry, from 1 to MaxRetries.
	Retry, MaxRetries int
}

// String reads "waiting 27s: 429 Too Many Requests on GET
// /organization/invites, retry 2/6".
func (n RetryNotice) String() string {
	why := "connection failed"
	if n.Status != 0 {
		why = strings.TrimSpace(strconv.Itoa(n.Status) + " " + http.StatusText(n.Status))
	}
	return fmt.Sprintf("waiting %s: %s on %s %s, retry %d/%d", n.Wait.Round(100*time.Millisecond), why, n.Method, n.Path, n.Retry, n.MaxRetries)
}

// notifyRetry reports each response the SDK will retry. It mirrors the
// SDK's rule (408, 409, 429, 5xx, connection errors, x-should-retry) and
// its wait; the wait shown can differ by the SDK's jitter.
func (c *Client) notifyRetry(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	res, err := next(req)
	if c.opts.OnRetry == nil || c.opts.MaxRetries < 0 {
		return res, err
	}
	done, _ := strconv.Atoi(req.Header.Get("X-Stainless-Retry-Count"))
	if done >= c.opts.MaxRetries || !retryable(res) || req.Context().Err() != nil {
		return res, err
	}
	n := RetryNotice{Method: req.Method, Path: apiPath(req.URL, c.opts.BaseURL), Retry: done + 1, MaxRetries: c.opts.MaxRetries,
		Wait: backoff(done, c.opts.MaxRetryDelay)}
	if res != nil {
		n.Status = res.StatusCode
		if d, ok := retryAfter(res.Header); ok {
			if d > c.opts.MaxRetryDelay {
				return res, err // the SDK gives up rather than wait that long
			}
			n.Wait = d
		}
	}
	c.opts.OnRetry(n)
	return res, err
}

func retryable(res *http.Response) bool {
	if res == nil {
		return true
	}
	switch res.Header.Get("x-should-retry") {
	case "true":
		return true
	case "false":
		return false
	}
	s := res.StatusCode
	return s == http.StatusRequestTimeout || s == http.StatusConflict || s == http.StatusTooManyRequests || s >= 500
}

func retryAfter(h http.Header) (time.Duration, bool) {
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms >= 0 {
		return time.Duration(ms * float64(time.Millisecond)), true
	}
	v := h.Get("Retry-After")
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t)), true
	}
	return 0, false
}

// backoff is the SDK's wait without Retry-After: 0.5s doubling per retry,
// at most maxDelay.
func backoff(retries int, maxDelay time.Duration) time.Duration {
	d := 500 * time.Millisecond
	for range retries {
		if d *= 2; d >= maxDelay {
			return maxDelay
		}
	}
	return min(d, maxDelay)
}

// apiPath is the request path below the base URL's path (/v1).
func apiPath(u *url.URL, base string) string {
	p := u.Path
	if b, err := url.Parse(base); err == nil {
		p = strings.TrimPrefix(p, strings.TrimSuffix(b.Path, "/"))
	}
	return p
}
