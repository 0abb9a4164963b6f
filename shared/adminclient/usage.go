package adminclient

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strconv"
)

// UsageEndpoint is one of the usage endpoints or costs, by its path under
// /organization.
type UsageEndpoint string

const (
	UsageCompletions             UsageEndpoint = "usage/completions"
	UsageEmbeddings              UsageEndpoint = "usage/embeddings"
	UsageModerations             UsageEndpoint = "usage/moderations"
	UsageImages                  UsageEndpoint = "usage/images"
	UsageAudioSpeeches           UsageEndpoint = "usage/audio_speeches"
	UsageAudioTranscriptions     UsageEndpoint = "usage/audio_transcriptions"
	UsageVectorStores            UsageEndpoint = "usage/vector_stores"
	UsageCodeInterpreterSessions UsageEndpoint = "usage/code_interpreter_sessions"
	UsageFileSearchCalls         UsageEndpoint = "usage/file_search_calls"
	UsageWebSearchCalls          UsageEndpoint = "usage/web_search_calls"
	Costs                        UsageEndpoint = "costs"
)

// UsageEndpoints is every usage endpoint and costs, in the spec's order.
var UsageEndpoints = []UsageEndpoint{UsageCompletions, UsageEmbeddings, UsageModerations, UsageImages, UsageAudioSpeeches,
	UsageAudioTranscriptions, UsageVectorStores, UsageCodeInterpreterSessions, UsageFileSearchCalls, UsageWebSearchCalls, Costs}

// Table is the endpoint's name as a table name: "usage_completions", "costs".
func (e UsageEndpoint) Table() string {
	b := []byte(e)
	for i, c := range b {
		if c == '/' {
			b[i] = '_'
		}
	}
	return string(b)
}

// InventoryGroupBy is what the endpoint can group by among project_id,
// api_key_id and model (and line_item for costs), as the spec allows: the
// grouping an inventory asks for, one result per project, key and model.
func (e UsageEndpoint) InventoryGroupBy() []string {
	switch e {
	case UsageVectorStores, UsageCodeInterpreterSessions:
		return []string{"project_id"}
	case UsageFileSearchCalls:
		return []string{"project_id", "api_key_id"}
	case Costs:
		return []string{"project_id", "api_key_id", "line_item"}
	}
	return []string{"project_id", "api_key_id", "model"}
}

// UsageQuery selects buckets. Times are Unix seconds; zero fields take the
// API's defaults, except Limit.
type UsageQuery struct {
	StartTime int64 // required, inclusive
	EndTime   int64 // exclusive; 0: now
	// BucketWidth is 1m, 1h or 1d ("": 1d; costs take only 1d).
	BucketWidth string
	GroupBy     []string
	ProjectIDs  []string
	UserIDs     []string // not on costs, vector stores, code interpreter sessions
	APIKeyIDs   []string // not on vector stores, code interpreter sessions
	Models      []string // not on costs, vector stores, code interpreter sessions, file search calls
	// Limit is buckets a page; 0 means the most the API allows for the
	// width (1d: 31, costs 180; 1h: 168; 1m: 1440), the fewest calls.
	Limit int
}

// UsageBucket is one time bucket, with each result as the API sent it.
type UsageBucket struct {
	StartTime, EndTime int64
	Results            []json.RawMessage
	// Raw is the whole bucket object as the API sent it.
	Raw json.RawMessage
}

// UsagePage is one page of buckets.
type UsagePage struct {
	Buckets  []UsageBucket
	HasMore  bool
	NextPage string
}

func (q UsageQuery) values(ep UsageEndpoint) (url.Values, error) {
	if q.StartTime <= 0 {
		return nil, fmt.Errorf("%s: a start time is required", ep)
	}
	v := url.Values{"start_time": {strconv.FormatInt(q.StartTime, 10)}}
	if q.EndTime != 0 {
		v.Set("end_time", strconv.FormatInt(q.EndTime, 10))
	}
	width := q.BucketWidth
	if width == "" {
		width = "1d"
	}
	v.Set("bucket_width", width)
	limit := q.Limit
	if limit == 0 {
		limit = map[string]int{"1d": 31, "1h": 168, "1m": 1440}[width]
		if ep == Costs {
			limit = 180
		}
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	// Arrays as the SDK sends them (key[]=v), which the API takes for
	// these parameters whatever the spec's spelling.
	for name, vals := range map[string][]string{"group_by": q.GroupBy, "project_ids": q.ProjectIDs, "user_ids": q.UserIDs,
		"api_key_ids": q.APIKeyIDs, "models": q.Models} {
		if len(vals) > 0 {
			v[name+"[]"] = slices.Clone(vals)
		}
	}
	return v, nil
}

// UsagePages yields the pages of buckets from q.StartTime on, following
// next_page until the API says there are no more; a page that says more
// follow without a next_page ends the sequence with ErrIncompleteList.
// Building it sends nothing; each range reads from the first page again.
func (c *Client) UsagePages(ctx context.Context, ep UsageEndpoint, q UsageQuery) iter.Seq2[UsagePage, error] {
	op := "get " + string(ep)
	fetch := func(ctx context.Context, cursor string) (listPage[UsagePage], error) {
		v, err := q.values(ep)
		if err != nil {
			return listPage[UsagePage]{}, err
		}
		if cursor != "" {
			v.Set("page", cursor)
		}
		var body []byte
		if err := c.sdk.Get(ctx, "organization/"+string(ep), rawQuery(v), &body); err != nil {
			return listPage[UsagePage]{}, wrap(op, err)
		}
		page, known, err := parseUsagePage(body)
		if err != nil {
			return listPage[UsagePage]{}, fmt.Errorf("%s: %w", op, err)
		}
		return listPage[UsagePage]{items: []UsagePage{page}, hasMore: page.HasMore, moreKnown: known, cursor: page.NextPage}, nil
	}
	return func(yield func(UsagePage, error) bool) {
		for p, err := range paginate(ctx, op, c.opts.MaxPages, "", fetch) {
			if err != nil {
				yield(UsagePage{}, err)
				return
			}
			if !yield(p.items[0], nil) {
				return
			}
		}
	}
}

// UsageBuckets yields every bucket of the query, oldest first.
func (c *Client) UsageBuckets(ctx context.Context, ep UsageEndpoint, q UsageQuery) iter.Seq2[UsageBucket, error] {
	return func(yield func(UsageBucket, error) bool) {
		for page, err := range c.UsagePages(ctx, ep, q) {
			if err != nil {
				yield(UsageBucket{}, err)
				return
			}
			for _, b := range page.Buckets {
				if !yield(b, nil) {
					return
				}
			}
		}
	}
}

func parseUsagePage(body []byte) (UsagePage, bool, error) {
	var doc struct {
		Data     []json.RawMessage `json:"data"`
		HasMore  *bool             `json:"has_more"`
		NextPage *string           `json:"next_page"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return UsagePage{}, false, fmt.Errorf("decode page: %w", err)
	}
	page := UsagePage{HasMore: doc.HasMore != nil && *doc.HasMore, Buckets: make([]UsageBucket, 0, len(doc.Data))}
	if doc.NextPage != nil {
		page.NextPage = *doc.NextPage
	}
	for i, raw := range doc.Data {
		var b struct {
			StartTime *int64            `json:"start_time"`
			EndTime   *int64            `json:"end_time"`
			Results   []json.RawMessage `json:"results"`
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			return UsagePage{}, false, fmt.Errorf("decode bucket %d: %w", i, err)
		}
		if b.StartTime == nil || b.EndTime == nil {
			return UsagePage{}, false, fmt.Errorf("decode bucket %d: no start_time or end_time", i)
		}
		bucket := UsageBucket{StartTime: *b.StartTime, EndTime: *b.EndTime, Raw: append(json.RawMessage(nil), raw...),
			Results: make([]json.RawMessage, len(b.Results))}
		for j, r := range b.Results {
			bucket.Results[j] = append(json.RawMessage(nil), r...)
		}
		page.Buckets = append(page.Buckets, bucket)
	}
	return page, doc.HasMore != nil, nil
}

// rawQuery is a query string the SDK sends as is.
type rawQuery url.Values

func (q rawQuery) URLQuery() (url.Values, error) { return url.Values(q), nil }
