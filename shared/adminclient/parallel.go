package adminclient

import (
	"context"
	"errors"
	"sync"
)

// ForEach calls fn for every item with at most c.Concurrency() calls at a
// time. It does not stop at the first failure: a job that revokes access
// must try every project, so it returns every error, joined. It stops
// starting new calls when ctx is done.
func ForEach[T any](ctx context.Context, c *Client, items []T, fn func(context.Context, T) error) error {
	return forEach(ctx, c.opts.Concurrency, items, fn)
}

func forEach[T any](ctx context.Context, limit int, items []T, fn func(context.Context, T) error) error {
	if limit <= 0 {
		limit = 1
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, limit)
	)
	for _, item := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return errors.Join(append(errs, ctx.Err())...)
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(ctx, item); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
