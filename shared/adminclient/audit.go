package adminclient

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/pagination"
	"github.com/openai/openai-go/v3/packages/param"
)

// AuditFilter selects audit-log events. Zero fields do not filter. Times
// are Unix seconds, compared with the event's effective_at.
type AuditFilter struct {
	EffectiveAtGT, EffectiveAtGTE, EffectiveAtLT, EffectiveAtLTE int64

	ProjectIDs  []string
	EventTypes  []string
	ActorIDs    []string
	ActorEmails []string
	ResourceIDs []string
	TenantOnly  bool

	// After and Before are cursors (event ids): the page after (older than)
	// or before (newer than) that event in the API's newest-first order.
	After, Before string
	// Limit is the page size, 1..100; 0 means the client's page size.
	Limit int
}

// AuditEvent is one audit-log event: the fields orgwarden reads, and the
// event exactly as the API sent it, so exporters keep unknown fields and
// new event types byte for byte.
type AuditEvent struct {
	ID          string
	Type        string
	EffectiveAt int64
	Raw         json.RawMessage
}

// AuditPage is one page of the audit log, newest first.
type AuditPage struct {
	Events  []AuditEvent
	HasMore bool
	FirstID string
	LastID  string
}

func (c *Client) auditParams(f AuditFilter) openai.AdminOrganizationAuditLogListParams {
	opt := func(v int64) param.Opt[int64] {
		if v == 0 {
			return param.Opt[int64]{}
		}
		return openai.Int(v)
	}
	str := func(s string) param.Opt[string] {
		if s == "" {
			return param.Opt[string]{}
		}
		return openai.String(s)
	}
	limit := c.limit()
	if f.Limit > 0 && f.Limit <= 100 {
		limit = openai.Int(int64(f.Limit))
	}
	p := openai.AdminOrganizationAuditLogListParams{
		After: str(f.After), Before: str(f.Before), Limit: limit,
		EffectiveAt: openai.AdminOrganizationAuditLogListParamsEffectiveAt{
			Gt: opt(f.EffectiveAtGT), Gte: opt(f.EffectiveAtGTE), Lt: opt(f.EffectiveAtLT), Lte: opt(f.EffectiveAtLTE),
		},
		ProjectIDs: f.ProjectIDs, EventTypes: f.EventTypes, ActorIDs: f.ActorIDs,
		ActorEmails: f.ActorEmails, ResourceIDs: f.ResourceIDs,
	}
	if f.TenantOnly {
		p.TenantOnly = openai.Bool(true)
	}
	return p
}

// AuditLogPage fetches one page. It goes through the SDK (auth, query
// serialization, retries, middleware) but takes the body as bytes instead of
// the SDK's typed union: the exporter needs each event's exact bytes, and at
// a million events decoding every typed field would dominate the run.
func (c *Client) AuditLogPage(ctx context.Context, f AuditFilter) (AuditPage, error) {
	page, _, err := c.auditLogPage(ctx, f)
	return page, err
}

// auditLogPage also says whether the page said has_more at all: a page
// that does not is not the last one.
func (c *Client) auditLogPage(ctx context.Context, f AuditFilter) (AuditPage, bool, error) {
	var body []byte
	if err := c.sdk.Get(ctx, "organization/audit_logs", c.auditParams(f), &body); err != nil {
		return AuditPage{}, false, wrap("list audit logs", err)
	}
	page, known, err := parseAuditPage(body)
	if err != nil {
		return AuditPage{}, false, fmt.Errorf("list audit logs: %w", err)
	}
	return page, known, nil
}

// parseAuditPage decodes a page, and whether it said has_more.
func parseAuditPage(body []byte) (AuditPage, bool, error) {
	var doc struct {
		Data    []json.RawMessage `json:"data"`
		HasMore *bool             `json:"has_more"`
		FirstID *string           `json:"first_id"`
		LastID  *string           `json:"last_id"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return AuditPage{}, false, fmt.Errorf("decode page: %w", err)
	}
	page := AuditPage{HasMore: doc.HasMore != nil && *doc.HasMore, Events: make([]AuditEvent, 0, len(doc.Data))}
	if doc.FirstID != nil {
		page.FirstID = *doc.FirstID
	}
	// No fallback to the last event's id: a page that says more follow and
	// names no last_id is an incomplete answer (see paginate), not a cursor
	// to guess.
	if doc.LastID != nil {
		page.LastID = *doc.LastID
	}
	for i, raw := range doc.Data {
		var head struct {
			ID          string `json:"id"`
			Type        string `json:"type"`
			EffectiveAt int64  `json:"effective_at"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return AuditPage{}, false, fmt.Errorf("decode event %d: %w", i, err)
		}
		if head.ID == "" {
			return AuditPage{}, false, fmt.Errorf("decode event %d: no id", i)
		}
		page.Events = append(page.Events, AuditEvent{ID: head.ID, Type: head.Type, EffectiveAt: head.EffectiveAt, Raw: raw})
	}
	return page, doc.HasMore != nil, nil
}

// AuditLogPages yields pages from the filter's cursor onwards (older and
// older), until a page says there are no more. It pages through paginate:
// a page that says more follow without a usable last_id, or a run past
// the page ceiling, ends the sequence with an error, never silently.
func (c *Client) AuditLogPages(ctx context.Context, f AuditFilter) iter.Seq2[AuditPage, error] {
	fetch := func(ctx context.Context, cursor string) (listPage[AuditPage], error) {
		g := f
		if cursor != f.After {
			g.After, g.Before = cursor, ""
		}
		page, known, err := c.auditLogPage(ctx, g)
		if err != nil {
			return listPage[AuditPage]{}, err
		}
		return listPage[AuditPage]{items: []AuditPage{page}, hasMore: page.HasMore, moreKnown: known, cursor: page.LastID}, nil
	}
	return func(yield func(AuditPage, error) bool) {
		for p, err := range paginate(ctx, "list audit logs", c.opts.MaxPages, f.After, fetch) {
			if err != nil {
				yield(AuditPage{}, err)
				return
			}
			if !yield(p.items[0], nil) {
				return
			}
		}
	}
}

// AuditLogs yields every matching event, newest first.
func (c *Client) AuditLogs(ctx context.Context, f AuditFilter) iter.Seq2[AuditEvent, error] {
	return func(yield func(AuditEvent, error) bool) {
		for page, err := range c.AuditLogPages(ctx, f) {
			if err != nil {
				yield(AuditEvent{}, err)
				return
			}
			for _, e := range page.Events {
				if !yield(e, nil) {
					return
				}
			}
		}
	}
}

// SDKAuditLogs pages with the SDK's typed auto-pager. It is the baseline
// the exporter's benchmarks compare against, and what callers that want
// typed events use.
func (c *Client) SDKAuditLogs(ctx context.Context, f AuditFilter) iter.Seq2[openai.AdminOrganizationAuditLogListResponse, error] {
	const op = "list audit logs"
	get := func(ctx context.Context, cursor string) (*pagination.ConversationCursorPage[openai.AdminOrganizationAuditLogListResponse], error) {
		g := f
		if cursor != f.After {
			g.After, g.Before = cursor, ""
		}
		return c.org.AuditLogs.List(ctx, c.auditParams(g))
	}
	return items(paginate(ctx, op, c.opts.MaxPages, f.After, idCursor(op, get)))
}
