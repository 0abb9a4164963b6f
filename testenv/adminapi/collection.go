package adminapi

import (
	"iter"
	"sort"
)

// collection keeps one kind of object in creation order with an id index.
// Deleted ids remember their position, so a client that deletes the last
// item of a page and then asks for after=<that id> continues where it was.
type collection[T any] struct {
	items []entry[T] // ascending seq
	live  map[string]uint64
	gone  map[string]uint64
}

type entry[T any] struct {
	seq uint64
	id  string
	v   T
}

func newCollection[T any]() *collection[T] {
	return &collection[T]{live: map[string]uint64{}, gone: map[string]uint64{}}
}

// add appends v; seq must be larger than every seq already added.
func (c *collection[T]) add(seq uint64, id string, v T) {
	c.items = append(c.items, entry[T]{seq, id, v})
	c.live[id] = seq
	delete(c.gone, id)
}

func (c *collection[T]) pos(seq uint64) int {
	return sort.Search(len(c.items), func(i int) bool { return c.items[i].seq >= seq })
}

func (c *collection[T]) get(id string) (T, bool) {
	seq, ok := c.live[id]
	if !ok {
		var zero T
		return zero, false
	}
	return c.items[c.pos(seq)].v, true
}

func (c *collection[T]) remove(id string) bool {
	seq, ok := c.live[id]
	if !ok {
		return false
	}
	i := c.pos(seq)
	c.items = append(c.items[:i], c.items[i+1:]...)
	delete(c.live, id)
	c.gone[id] = seq
	return true
}

// values returns a copy of the items in creation order, for callers that
// change the collection while walking it or keep the slice.
func (c *collection[T]) values() []T {
	out := make([]T, len(c.items))
	for i, e := range c.items {
		out[i] = e.v
	}
	return out
}

// all walks the items in creation order without copying them. The
// collection must not change during the walk.
func (c *collection[T]) all() iter.Seq[T] {
	return func(yield func(T) bool) {
		for _, e := range c.items {
			if !yield(e.v) {
				return
			}
		}
	}
}

// cursorSeq resolves an after/before id, live or deleted.
func (c *collection[T]) cursorSeq(id string) (uint64, bool) {
	if seq, ok := c.live[id]; ok {
		return seq, true
	}
	seq, ok := c.gone[id]
	return seq, ok
}

// page returns up to limit entries strictly after the cursor (creation
// order, or reverse creation order when desc), keeping those keep accepts,
// and whether more such entries follow. An unknown cursor is errUnknownCursor.
func (c *collection[T]) page(after string, limit int, desc bool, keep func(T) bool) ([]entry[T], bool, error) {
	start, step := 0, 1
	if desc {
		start, step = len(c.items)-1, -1
	}
	if after != "" {
		seq, ok := c.cursorSeq(after)
		if !ok {
			return nil, false, errUnknownCursor
		}
		i := c.pos(seq) // first item with seq >= cursor
		if desc {
			start = i - 1
		} else if i < len(c.items) && c.items[i].seq == seq {
			start = i + 1
		} else {
			start = i
		}
	}
	out := make([]entry[T], 0, min(limit, len(c.items)))
	for i := start; i >= 0 && i < len(c.items); i += step {
		e := c.items[i]
		if keep != nil && !keep(e.v) {
			continue
		}
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, e)
	}
	return out, false, nil
}

// pageBefore returns up to limit entries strictly before the cursor in
// listing order (the ones a previous page would have shown), in listing order.
func (c *collection[T]) pageBefore(before string, limit int, desc bool, keep func(T) bool) ([]entry[T], bool, error) {
	seq, ok := c.cursorSeq(before)
	if !ok {
		return nil, false, errUnknownCursor
	}
	i := c.pos(seq)
	start, step := i-1, -1
	if desc {
		start, step = i, 1
		if i < len(c.items) && c.items[i].seq == seq {
			start = i + 1
		}
	}
	var out []entry[T]
	more := false
	for j := start; j >= 0 && j < len(c.items); j += step {
		e := c.items[j]
		if keep != nil && !keep(e.v) {
			continue
		}
		if len(out) == limit {
			more = true
			break
		}
		out = append(out, e)
	}
	// Collected walking away from the cursor; listing order is the reverse.
	for a, b := 0, len(out)-1; a < b; a, b = a+1, b-1 {
		out[a], out[b] = out[b], out[a]
	}
	return out, more, nil
}

// find is get for a request handler: a missing id is the API's 404 for
// that kind of object.
func (c *collection[T]) find(kind, id string) (T, *apiError) {
	v, ok := c.get(id)
	if !ok {
		return v, notFound(kind, id)
	}
	return v, nil
}
