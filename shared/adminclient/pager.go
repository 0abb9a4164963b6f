package adminclient

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/openai/openai-go/v3/packages/pagination"
)

// DefaultMaxPages is the page ceiling of every list unless Options say
// otherwise: at 100 items a page, ten million items. The largest list
// orgwarden reads (a million-event audit backfill) is a hundredth of it.
const DefaultMaxPages = 100_000

// ErrIncompleteList marks a list the API answered only in part: a page
// says more follow (has_more) but names no cursor to reach them, or names
// a cursor the list has already followed. Reading that as the end of the
// list would make a half-read answer look complete (an offboarding that
// misses the keys on page 2, an export window marked complete with a gap),
// so it is an error, and a transient one: the API's answer may be
// consistent again on the next attempt.
var ErrIncompleteList = errors.New("incomplete list")

// ErrPageCeiling is returned when a list runs past Options.MaxPages pages:
// a cursor that never ends would otherwise keep a run going until Lambda
// kills it, with nothing reported.
var ErrPageCeiling = errors.New("page ceiling reached")

// pageRereads is how many times a page with a missing or repeated cursor
// is read again before the list fails: a list served by several replicas
// may answer inconsistently for a moment.
const pageRereads = 2

// listPage is one page of any list family, reduced to what paging needs.
type listPage[T any] struct {
	items []T
	// hasMore is the page's has_more; moreKnown is false when the page did
	// not say (has_more absent or not a boolean), which is not "no more".
	hasMore, moreKnown bool
	// cursor is where the next page starts, by the family's rule; "" when
	// the page names none.
	cursor string
}

// fetchPage reads the page after the cursor ("" for the first page). Its
// errors already name the operation.
type fetchPage[T any] func(ctx context.Context, after string) (listPage[T], error)

// paginate is the one paging loop every list goes through, the SDK's
// typed lists and the raw audit pages alike. It starts after start, and
// ends only when a page says has_more false. It yields each page once it
// has been checked, then at most one error and stops:
//   - ErrIncompleteList when a page says more follow and names no cursor,
//     or a cursor already followed (after pageRereads re-reads);
//   - ErrPageCeiling before reading page maxPages+1.
func paginate[T any](ctx context.Context, op string, maxPages int, start string, fetch fetchPage[T]) iter.Seq2[listPage[T], error] {
	return func(yield func(listPage[T], error) bool) {
		followed := map[string]bool{}
		if start != "" {
			followed[start] = true
		}
		after := start
		for n := 1; ; n++ {
			if n > maxPages {
				yield(listPage[T]{}, fmt.Errorf("%s: %w: %d pages read and the API still says more follow (after %q); raise the ceiling (Options.MaxPages) if the list is really that long",
					op, ErrPageCeiling, maxPages, after))
				return
			}
			var page listPage[T]
			for read := 0; ; read++ {
				var err error
				if page, err = fetch(ctx, after); err != nil {
					yield(listPage[T]{}, err)
					return
				}
				bad := checkPage(page, followed)
				if bad == "" {
					break
				}
				if read == pageRereads || ctx.Err() != nil {
					yield(listPage[T]{}, fmt.Errorf("%s: page %d (after %q) %s, read %d times: %w", op, n, after, bad, read+1, ErrIncompleteList))
					return
				}
			}
			if !yield(page, nil) || !page.hasMore {
				return
			}
			followed[page.cursor] = true
			after = page.cursor
		}
	}
}

// checkPage says what is wrong with a page, or "".
func checkPage[T any](p listPage[T], followed map[string]bool) string {
	switch {
	case !p.moreKnown:
		return "does not say whether more pages follow (no has_more)"
	case !p.hasMore:
		return ""
	case p.cursor == "":
		return "says more pages follow (has_more) but names no cursor (last_id)"
	case followed[p.cursor]:
		return fmt.Sprintf("names cursor %q, which this list has already followed", p.cursor)
	}
	return ""
}

// items flattens pages into their items, stopping at the first error.
func items[T any](pages iter.Seq2[listPage[T], error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for p, err := range pages {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, v := range p.items {
				if !yield(v, nil) {
					return
				}
			}
		}
	}
}

// idCursor adapts the SDK's "id cursor" lists (family A: users, invites,
// projects, project users, service accounts, project keys, audit logs),
// whose next page starts after the page's last_id.
func idCursor[T any](op string, list func(ctx context.Context, after string) (*pagination.ConversationCursorPage[T], error)) fetchPage[T] {
	return func(ctx context.Context, after string) (listPage[T], error) {
		res, err := list(ctx, after)
		if err != nil {
			return listPage[T]{}, wrap(op, err)
		}
		return listPage[T]{items: res.Data, hasMore: res.HasMore, moreKnown: res.JSON.HasMore.Valid(), cursor: res.LastID}, nil
	}
}

// itemCursor adapts the admin-key list (family A′), whose next page starts
// after the page's last item, as the SDK pages it.
func itemCursor[T any](op string, id func(T) string, list func(ctx context.Context, after string) (*pagination.CursorPage[T], error)) fetchPage[T] {
	return func(ctx context.Context, after string) (listPage[T], error) {
		res, err := list(ctx, after)
		if err != nil {
			return listPage[T]{}, wrap(op, err)
		}
		p := listPage[T]{items: res.Data, hasMore: res.HasMore, moreKnown: res.JSON.HasMore.Valid()}
		if n := len(res.Data); n > 0 {
			p.cursor = id(res.Data[n-1])
		}
		return p, nil
	}
}
