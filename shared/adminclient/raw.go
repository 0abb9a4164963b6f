package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"

	"github.com/openai/openai-go/v3/option"
)

// Raw lists: any list endpoint paged through paginate (pager.go), each item
// yielded as the exact bytes of its element of the page's data array. The
// inventory keeps records byte for byte as the API returned them (unknown
// fields, number spelling and field order included), which the SDK's typed
// lists cannot: they decode and re-encode.

// RawCursor says how a list reaches its next page.
type RawCursor int

const (
	// CursorLastID: after=<the page's last_id> (family A: users, invites,
	// projects, project users, service accounts, project keys, rate
	// limits, spend alerts, certificates).
	CursorLastID RawCursor = iota
	// CursorLastItem: after=<the id of the page's last item> (family A′:
	// admin API keys, as the SDK pages them).
	CursorLastItem
	// CursorNext: after=<the page's next> (family B: groups, roles, role
	// assignments).
	CursorNext
	// CursorNextPage: page=<the page's next_page> (family C: usage and
	// costs, whose pages are buckets).
	CursorNextPage
)

// RawList names one list endpoint.
type RawList struct {
	// Path is under the base URL, e.g. "organization/users".
	Path string
	// Query is sent with every page, beside limit and after.
	Query  url.Values
	Cursor RawCursor
	// Limit is the page size; 0 means the client's page size.
	Limit int
	// Op names the list in errors; default "list " + Path.
	Op string
}

// rawPage is what paging needs of one page, whatever the family.
type rawPage struct {
	Data    []json.RawMessage `json:"data"`
	HasMore *bool             `json:"has_more"`
	LastID  *string           `json:"last_id"`
	Next    *string           `json:"next"`
	// NextPage is family C's cursor.
	NextPage *string `json:"next_page"`
}

func (l RawList) op() string {
	if l.Op != "" {
		return l.Op
	}
	return "list " + l.Path
}

// RawItems yields every item of the list, in the API's order, as the bytes
// the API sent.
func (c *Client) RawItems(ctx context.Context, l RawList) iter.Seq2[json.RawMessage, error] {
	op := l.op()
	limit := l.Limit
	if limit <= 0 {
		limit = c.opts.PageSize
	}
	fetch := func(ctx context.Context, cursor string) (listPage[json.RawMessage], error) {
		opts := []option.RequestOption{option.WithQuery("limit", strconv.Itoa(limit))}
		for k, vs := range l.Query {
			for _, v := range vs {
				opts = append(opts, option.WithQueryAdd(k, v))
			}
		}
		if cursor != "" {
			param := "after"
			if l.Cursor == CursorNextPage {
				param = "page"
			}
			opts = append(opts, option.WithQuery(param, cursor))
		}
		var body []byte
		if err := c.sdk.Get(ctx, l.Path, nil, &body, opts...); err != nil {
			return listPage[json.RawMessage]{}, wrap(op, err)
		}
		var p rawPage
		if err := json.Unmarshal(body, &p); err != nil {
			return listPage[json.RawMessage]{}, fmt.Errorf("%s: decode page: %w", op, err)
		}
		page := listPage[json.RawMessage]{items: make([]json.RawMessage, len(p.Data)), moreKnown: p.HasMore != nil, hasMore: p.HasMore != nil && *p.HasMore}
		for i, r := range p.Data {
			// A copy: one record does not keep the page's buffer alive.
			page.items[i] = append(json.RawMessage(nil), r...)
		}
		switch l.Cursor {
		case CursorLastID:
			if p.LastID != nil {
				page.cursor = *p.LastID
			}
		case CursorNext:
			if p.Next != nil {
				page.cursor = *p.Next
			}
		case CursorNextPage:
			if p.NextPage != nil {
				page.cursor = *p.NextPage
			}
		case CursorLastItem:
			if n := len(p.Data); n > 0 {
				var head struct {
					ID string `json:"id"`
				}
				if err := json.Unmarshal(p.Data[n-1], &head); err != nil {
					return listPage[json.RawMessage]{}, fmt.Errorf("%s: decode last item: %w", op, err)
				}
				page.cursor = head.ID
			}
		}
		return page, nil
	}
	return items(paginate(ctx, op, c.opts.MaxPages, "", fetch))
}

// RawObject reads one object (e.g. a project's data retention) as the bytes
// the API sent.
func (c *Client) RawObject(ctx context.Context, path string) (json.RawMessage, error) {
	var body []byte
	if err := c.sdk.Get(ctx, path, nil, &body); err != nil {
		return nil, wrap("get "+path, err)
	}
	// The whitespace around the document (an encoder's newline) is not
	// part of it.
	body = bytes.TrimSpace(body)
	if !json.Valid(body) {
		return nil, fmt.Errorf("get %s: the answer is not JSON", path)
	}
	return body, nil
}
