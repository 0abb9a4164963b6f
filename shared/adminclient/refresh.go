package adminclient

import (
	"context"
	"io"
	"net/http"

	"github.com/openai/openai-go/v3/option"

	"github.com/orgwarden/orgwarden/shared/logging"
)

// credential is the admin key a client authenticates with now.
type credential struct {
	key logging.Secret
	id  string
}

// self is the key the client uses now, which it refuses to delete.
func (c *Client) self() *credential { return c.auth.Load() }

// reauthenticate sends every request with the client's current key and,
// when the API answers 401 and Options.Refresh yields another key (the
// secret was rotated since the key was read), retries the request once with
// it; later requests use it too. A warm Lambda container so recovers at
// once after a rotation instead of failing until its cached key expires.
func (c *Client) reauthenticate(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	used := c.auth.Load()
	req.Header.Set("Authorization", "Bearer "+used.key.Reveal())
	res, err := next(req)
	if err != nil || res.StatusCode != http.StatusUnauthorized || c.opts.Refresh == nil {
		return res, err
	}
	fresh, rerr := c.refresh(req.Context(), used)
	if rerr != nil {
		c.log.WarnContext(req.Context(), "admin key rejected (401) and could not be re-read", "error", logging.RedactError(rerr))
		return res, err
	}
	if fresh == used {
		return res, err // the source still holds the rejected key
	}
	retry := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return res, err
		}
		body, berr := req.GetBody()
		if berr != nil {
			return res, err
		}
		retry.Body = body
	}
	retry.Header.Set("Authorization", "Bearer "+fresh.key.Reveal())
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return next(retry)
}

// refresh replaces the key used, once for all the requests it failed:
// a request that finds another key already in place uses that one.
func (c *Client) refresh(ctx context.Context, used *credential) (*credential, error) {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	if now := c.auth.Load(); now != used {
		return now, nil
	}
	key, id, err := c.opts.Refresh(ctx)
	if err != nil {
		return used, err
	}
	if key == "" || key == used.key {
		return used, nil
	}
	fresh := &credential{key: key, id: id}
	c.auth.Store(fresh)
	c.log.InfoContext(ctx, "admin key refreshed after a 401", "key_id", id)
	return fresh, nil
}
