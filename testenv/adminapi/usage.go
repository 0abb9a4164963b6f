package adminapi

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Usage and costs are not stored: they are computed per request from usage
// streams fixed at seed time (one project, key, user, model and the
// endpoint's other dimensions, active from..until) and a hash of the stream
// and the bucket, so the same bucket always gives the same numbers, the
// buckets of the recent past exist whatever the clock says, and a large
// organization costs nothing until someone asks for its usage. The bucket
// holding now is scaled by the part of it that has elapsed: it grows as the
// clock moves, as the API's does while a day is still being counted.

// dim is a usage dimension: what results can be grouped and filtered by.
type dim int

const (
	dimProject dim = iota
	dimUser
	dimKey
	dimModel
	dimBatch
	dimTier
	dimSize
	dimSource
	dimContext
	dimVectorStore
	dimLineItem
	nDims
)

// dimNames are the dimensions' names in group_by and in results.
var dimNames = [nDims]string{"project_id", "user_id", "api_key_id", "model", "batch", "service_tier", "size", "source",
	"context_level", "vector_store_id", "line_item"}

// usageEndpoint is one /organization/usage/* operation (or costs).
type usageEndpoint struct {
	path    string
	object  string
	metrics []string // result fields, in order; the first is the stream's primary amount
	dims    []dim    // result dimension fields, in order (all rendered; null unless grouped)
	groupBy []dim    // what group_by accepts
	filters map[string]dim
}

const (
	epCompletions = iota
	epEmbeddings
	epModerations
	epImages
	epSpeeches
	epTranscriptions
	epVectorStores
	epCodeInterpreter
	epFileSearch
	epWebSearch
	nUsageEndpoints
)

var (
	keyDims        = []dim{dimProject, dimUser, dimKey, dimModel}
	keyFilters     = map[string]dim{"project_ids": dimProject, "user_ids": dimUser, "api_key_ids": dimKey, "models": dimModel}
	usageEndpoints = [nUsageEndpoints]usageEndpoint{
		epCompletions: {path: "completions", object: "organization.usage.completions.result",
			metrics: []string{"input_tokens", "output_tokens", "input_cached_tokens", "input_audio_tokens", "output_audio_tokens", "num_model_requests"},
			dims:    []dim{dimProject, dimUser, dimKey, dimModel, dimBatch, dimTier},
			groupBy: []dim{dimProject, dimUser, dimKey, dimModel, dimBatch, dimTier}, filters: keyFilters},
		epEmbeddings: {path: "embeddings", object: "organization.usage.embeddings.result",
			metrics: []string{"input_tokens", "num_model_requests"}, dims: keyDims, groupBy: keyDims, filters: keyFilters},
		epModerations: {path: "moderations", object: "organization.usage.moderations.result",
			metrics: []string{"input_tokens", "num_model_requests"}, dims: keyDims, groupBy: keyDims, filters: keyFilters},
		epImages: {path: "images", object: "organization.usage.images.result",
			metrics: []string{"images", "num_model_requests"},
			dims:    []dim{dimSource, dimSize, dimProject, dimUser, dimKey, dimModel},
			groupBy: []dim{dimProject, dimUser, dimKey, dimModel, dimSize, dimSource},
			filters: map[string]dim{"project_ids": dimProject, "user_ids": dimUser, "api_key_ids": dimKey, "models": dimModel, "sources": dimSource, "sizes": dimSize}},
		epSpeeches: {path: "audio_speeches", object: "organization.usage.audio_speeches.result",
			metrics: []string{"characters", "num_model_requests"}, dims: keyDims, groupBy: keyDims, filters: keyFilters},
		epTranscriptions: {path: "audio_transcriptions", object: "organization.usage.audio_transcriptions.result",
			metrics: []string{"seconds", "num_model_requests"}, dims: keyDims, groupBy: keyDims, filters: keyFilters},
		epVectorStores: {path: "vector_stores", object: "organization.usage.vector_stores.result",
			metrics: []string{"usage_bytes"}, dims: []dim{dimProject}, groupBy: []dim{dimProject}, filters: map[string]dim{"project_ids": dimProject}},
		epCodeInterpreter: {path: "code_interpreter_sessions", object: "organization.usage.code_interpreter_sessions.result",
			metrics: []string{"num_sessions"}, dims: []dim{dimProject}, groupBy: []dim{dimProject}, filters: map[string]dim{"project_ids": dimProject}},
		epFileSearch: {path: "file_search_calls", object: "organization.usage.file_searches.result",
			metrics: []string{"num_requests"}, dims: []dim{dimProject, dimUser, dimKey, dimVectorStore},
			groupBy: []dim{dimProject, dimUser, dimKey, dimVectorStore},
			filters: map[string]dim{"project_ids": dimProject, "user_ids": dimUser, "api_key_ids": dimKey, "vector_store_ids": dimVectorStore}},
		epWebSearch: {path: "web_search_calls", object: "organization.usage.web_searches.result",
			metrics: []string{"num_requests", "num_model_requests"}, dims: []dim{dimProject, dimUser, dimKey, dimModel, dimContext},
			groupBy: []dim{dimProject, dimUser, dimKey, dimModel, dimContext},
			filters: map[string]dim{"project_ids": dimProject, "user_ids": dimUser, "api_key_ids": dimKey, "models": dimModel, "context_levels": dimContext}},
	}
	costsEndpoint = usageEndpoint{path: "costs", object: "organization.costs.result",
		dims:    []dim{dimLineItem, dimProject, dimKey},
		groupBy: []dim{dimProject, dimLineItem, dimKey},
		filters: map[string]dim{"project_ids": dimProject, "api_key_ids": dimKey}}
)

// usageStream is one steady source of usage on one endpoint.
type usageStream struct {
	ep          int
	dims        [nDims]string
	from, until int64   // active in [from, until); until 0 is open
	daily       float64 // primary metric per day, before noise
	id          uint64
}

// usagePrices are USD per unit of each model's line items (per token, image, character, second).
var usagePrices = map[string][2]float64{ // input, output
	"gpt-4o":                 {2.5e-6, 10e-6},
	"gpt-4o-mini":            {0.15e-6, 0.6e-6},
	"gpt-4.1":                {2e-6, 8e-6},
	"o3":                     {2e-6, 8e-6},
	"text-embedding-3-small": {0.02e-6, 0},
	"text-embedding-3-large": {0.13e-6, 0},
	"gpt-image-1":            {0.042, 0},
	"dall-e-3":               {0.04, 0},
	"tts-1":                  {15e-6, 0},
	"gpt-4o-mini-tts":        {12e-6, 0},
	"whisper-1":              {0.0001, 0},
	"gpt-4o-search-preview":  {0.03, 0},
}

// usageSpanDays is how far back seeded usage goes.
const usageSpanDays = 120

// seedUsage lays out the usage streams: a few keys of each project, each
// with its models; storage and sessions per project. It draws from its own
// generator, so the rest of the seed stays as it was.
func (sd *seeder) seedUsage(rng *rand.Rand) {
	start := sd.now - usageSpanDays*day
	var streams []usageStream
	add := func(ep int, dims [nDims]string, from, until int64, daily float64) {
		streams = append(streams, usageStream{ep: ep, dims: dims, from: from, until: until, daily: daily, id: rng.Uint64()})
	}
	perProject := 4
	if len(sd.projects) > 50 {
		perProject = 2
	}
	chat := []string{"gpt-4o", "gpt-4o-mini", "gpt-4.1", "o3"}
	for _, p := range sd.projects {
		until := int64(0)
		if p.archived() {
			until = p.archivedAt
		}
		from := max(start, p.createdAt)
		var used []*projectKey
		for k := range p.keys.all() {
			if k.lastUsedAt != 0 && len(used) < perProject {
				used = append(used, k)
			}
		}
		for _, k := range used {
			var d [nDims]string
			d[dimProject], d[dimKey] = p.id, k.id
			if k.ownerType == ownerUser {
				d[dimUser] = k.ownerID
			}
			kFrom, kUntil := max(from, k.createdAt), until
			if k.lastUsedAt < sd.now-8*day {
				// A stale key: its usage stopped when it was last used.
				kUntil = k.lastUsedAt
				if until != 0 {
					kUntil = min(kUntil, until)
				}
			}
			for _, m := range pickN(rng, chat, 1+rng.IntN(2)) {
				c := d
				c[dimModel], c[dimBatch], c[dimTier] = m, "false", "default"
				if rng.IntN(5) == 0 {
					c[dimBatch] = "true"
				}
				switch rng.IntN(20) {
				case 0:
					c[dimTier] = "priority"
				case 1, 2:
					c[dimTier] = "flex"
				}
				add(epCompletions, c, kFrom, kUntil, float64(200_000+rng.IntN(4_000_000)))
			}
			maybe := func(pct int, ep int, model string, daily float64, set func(*[nDims]string)) {
				if rng.IntN(100) >= pct {
					return
				}
				c := d
				c[dimModel] = model
				if set != nil {
					set(&c)
				}
				add(ep, c, kFrom, kUntil, daily)
			}
			maybe(50, epEmbeddings, []string{"text-embedding-3-small", "text-embedding-3-large"}[rng.IntN(2)], float64(50_000+rng.IntN(2_000_000)), nil)
			maybe(30, epModerations, "omni-moderation-latest", float64(10_000+rng.IntN(300_000)), nil)
			maybe(25, epImages, []string{"gpt-image-1", "dall-e-3"}[rng.IntN(2)], float64(5+rng.IntN(60)), func(c *[nDims]string) {
				c[dimSize] = []string{"1024x1024", "1024x1792", "512x512"}[rng.IntN(3)]
				c[dimSource] = []string{"image.generation", "image.generation", "image.edit"}[rng.IntN(3)]
			})
			maybe(15, epSpeeches, []string{"tts-1", "gpt-4o-mini-tts"}[rng.IntN(2)], float64(2_000+rng.IntN(80_000)), nil)
			maybe(15, epTranscriptions, "whisper-1", float64(300+rng.IntN(20_000)), nil)
			maybe(20, epFileSearch, "", float64(20+rng.IntN(800)), func(c *[nDims]string) {
				c[dimModel] = ""
				c[dimVectorStore] = "vs_" + strings.ToLower(p.id[5:17])
			})
			maybe(20, epWebSearch, "gpt-4o-search-preview", float64(10+rng.IntN(500)), func(c *[nDims]string) {
				c[dimContext] = []string{"low", "medium", "medium", "high"}[rng.IntN(4)]
			})
		}
		if len(used) == 0 {
			continue
		}
		var d [nDims]string
		d[dimProject] = p.id
		if rng.IntN(2) == 0 {
			add(epVectorStores, d, from, until, float64(1<<20+rng.IntN(512<<20)))
		}
		if rng.IntN(5) < 2 {
			add(epCodeInterpreter, d, from, until, float64(1+rng.IntN(40)))
		}
	}
	for _, st := range streams {
		sd.e.usage[st.ep] = append(sd.e.usage[st.ep], st)
	}
}

func pickN(rng *rand.Rand, from []string, n int) []string {
	out := make([]string, 0, n)
	for _, i := range rng.Perm(len(from))[:min(n, len(from))] {
		out = append(out, from[i])
	}
	return out
}

// mix is splitmix64: a well-spread hash of a stream and a bucket.
func mix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// amount is a stream's primary metric in [start, start+width), seen at now.
// Zero when the stream is idle then (about one bucket in eight, more on
// weekends), scaled to the elapsed part of a bucket that has not ended.
func (s *usageStream) amount(start, width, now int64) float64 {
	end := start + width
	if end <= s.from || start >= now || (s.until != 0 && start >= s.until) {
		return 0
	}
	h := mix(s.id ^ mix(uint64(start)^uint64(width)<<48))
	idle := uint64(8)
	if wd := ((start/day)+4)%7 >= 5; wd && width <= day { // Saturday and Sunday
		idle = 3
	}
	if h%idle == 0 {
		return 0
	}
	noise := 0.5 + float64(h>>11)/float64(1<<53) // 0.5 .. 1.5
	v := s.daily * float64(width) / float64(day) * noise
	lo, hi := max(start, s.from), min(end, now)
	if s.until != 0 {
		hi = min(hi, s.until)
	}
	if hi <= lo {
		return 0
	}
	return v * float64(hi-lo) / float64(width)
}

// usageAtom is one stream's contribution to one bucket.
type usageAtom struct {
	dims     [nDims]string
	metrics  []int64
	cost     float64
	quantity float64
	unit     string
}

// atoms computes an endpoint's contributions to a bucket.
func (e *Emulator) atoms(ep int, start, width, now int64) []usageAtom {
	var out []usageAtom
	for i := range e.usage[ep] {
		s := &e.usage[ep][i]
		x := s.amount(start, width, now)
		if x <= 0 {
			continue
		}
		// Round up or down at random, so that rare events (images, sessions)
		// still average their daily rate in minute buckets.
		v := int64(x + float64(mix(s.id^uint64(start))>>11)/float64(1<<53))
		if v == 0 {
			continue
		}
		var m []int64
		h := mix(s.id)
		switch ep {
		case epCompletions:
			m = []int64{v, v * int64(10+h%40) / 100, v * int64(h>>8%50) / 100, 0, 0, v/1500 + 1}
		case epEmbeddings, epModerations:
			m = []int64{v, v/500 + 1}
		case epImages:
			m = []int64{v, v}
		case epSpeeches:
			m = []int64{v, v/400 + 1}
		case epTranscriptions:
			m = []int64{v, v/90 + 1}
		case epWebSearch:
			m = []int64{v, v}
		default:
			m = []int64{v}
		}
		out = append(out, usageAtom{dims: s.dims, metrics: m})
	}
	return out
}

// costAtoms prices every endpoint's usage in a day into line items.
func (e *Emulator) costAtoms(start, width, now int64) []usageAtom {
	var out []usageAtom
	line := func(a usageAtom, item string, cost, qty float64, unit string) {
		var d [nDims]string
		d[dimProject], d[dimKey], d[dimLineItem] = a.dims[dimProject], a.dims[dimKey], item
		out = append(out, usageAtom{dims: d, cost: cost, quantity: qty, unit: unit})
	}
	for ep := range nUsageEndpoints {
		for _, a := range e.atoms(ep, start, width, now) {
			model, p := a.dims[dimModel], usagePrices[a.dims[dimModel]]
			switch ep {
			case epCompletions:
				discount := 1.0
				if a.dims[dimBatch] == "true" || a.dims[dimTier] == "flex" {
					discount = 0.5
				}
				line(a, model+", input", float64(a.metrics[0])*p[0]*discount, float64(a.metrics[0]), "tokens")
				line(a, model+", output", float64(a.metrics[1])*p[1]*discount, float64(a.metrics[1]), "tokens")
			case epEmbeddings:
				line(a, model+", input", float64(a.metrics[0])*p[0], float64(a.metrics[0]), "tokens")
			case epImages:
				line(a, model+", images", float64(a.metrics[0])*p[0], float64(a.metrics[0]), "images")
			case epSpeeches:
				line(a, model+", characters", float64(a.metrics[0])*p[0], float64(a.metrics[0]), "characters")
			case epTranscriptions:
				line(a, model+", duration", float64(a.metrics[0])*p[0], float64(a.metrics[0]), "duration_seconds")
			case epWebSearch:
				line(a, "web search tool calls", float64(a.metrics[0])*0.03, float64(a.metrics[0]), "")
			case epFileSearch:
				line(a, "file search tool calls", float64(a.metrics[0])*0.0025, float64(a.metrics[0]), "")
			case epVectorStores:
				gib := float64(a.metrics[0]) / (1 << 30)
				line(a, "vector store storage", gib*24*0.1/30, gib*24, "gibibyte_hours")
			case epCodeInterpreter:
				line(a, "code interpreter sessions", float64(a.metrics[0])*0.03, float64(a.metrics[0]), "")
			}
		}
	}
	return out
}

// groupAtoms sums atoms by the grouped dimensions, in a stable order.
func groupAtoms(atoms []usageAtom, by []dim) []usageAtom {
	index := map[[nDims]string]int{}
	var out []usageAtom
	for _, a := range atoms {
		var k [nDims]string
		for _, d := range by {
			k[d] = a.dims[d]
		}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, usageAtom{dims: k, metrics: make([]int64, len(a.metrics)), unit: a.unit})
		}
		g := &out[i]
		for j, v := range a.metrics {
			g.metrics[j] += v
		}
		g.cost += a.cost
		g.quantity += a.quantity
		if g.unit != a.unit {
			g.unit = ""
		}
	}
	slices.SortFunc(out, func(a, b usageAtom) int {
		for d := range nDims {
			if c := cmp.Compare(a.dims[d], b.dims[d]); c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

// usageQuery is a parsed usage or costs request.
type usageQuery struct {
	start, end, width int64
	limit             int
	groupBy           []dim
	filters           map[dim]map[string]bool
	batch             *bool
}

var bucketWidths = map[string]struct {
	width         int64
	defLimit, max int
}{"1m": {60, 60, 1440}, "1h": {3600, 24, 168}, "1d": {day, 7, 31}}

func parseUsageQuery(c *call, ep *usageEndpoint, costs bool) (*usageQuery, *apiError) {
	q := &usageQuery{filters: map[dim]map[string]bool{}}
	if !c.q.has("start_time") {
		return nil, invalid("start_time", "'start_time' is required")
	}
	st, err := strconv.ParseInt(c.q.get("start_time"), 10, 64)
	if err != nil || st < 0 {
		return nil, invalid("start_time", "'start_time' must be a Unix time in seconds")
	}
	q.start, q.end = st, c.now
	if c.q.has("end_time") {
		en, err := strconv.ParseInt(c.q.get("end_time"), 10, 64)
		if err != nil || en <= st {
			return nil, invalid("end_time", "'end_time' must be a Unix time in seconds after 'start_time'")
		}
		q.end = en
	}
	bw := c.q.get("bucket_width")
	if bw == "" {
		bw = "1d"
	}
	if costs && bw != "1d" {
		return nil, invalid("bucket_width", "bucket_width must be 1d for costs")
	}
	w, ok := bucketWidths[bw]
	if !ok {
		return nil, invalid("bucket_width", "bucket_width must be one of 1m, 1h, 1d")
	}
	q.width = w.width
	def, maxLimit := w.defLimit, w.max
	if costs {
		def, maxLimit = 7, 180
	}
	q.limit = def
	if c.q.has("limit") {
		n, err := strconv.Atoi(c.q.get("limit"))
		if err != nil || n < 1 || n > maxLimit {
			return nil, invalid("limit", "limit must be an integer between 1 and %d for bucket_width %s", maxLimit, bw)
		}
		q.limit = n
	}
	for _, g := range c.q.array("group_by") {
		i := slices.IndexFunc(ep.groupBy, func(d dim) bool { return dimNames[d] == g })
		if i < 0 {
			names := make([]string, len(ep.groupBy))
			for j, d := range ep.groupBy {
				names[j] = dimNames[d]
			}
			return nil, invalid("group_by", "group_by must be among %s", strings.Join(names, ", "))
		}
		if !slices.Contains(q.groupBy, ep.groupBy[i]) {
			q.groupBy = append(q.groupBy, ep.groupBy[i])
		}
	}
	for name, d := range ep.filters {
		if vals := c.q.array(name); len(vals) > 0 {
			set := map[string]bool{}
			for _, v := range vals {
				set[v] = true
			}
			q.filters[d] = set
		}
	}
	if ep == &usageEndpoints[epCompletions] && c.q.has("batch") {
		b, err := c.q.boolean("batch", false)
		if err != nil {
			return nil, err
		}
		q.batch = &b
	}
	return q, nil
}

func (q *usageQuery) keep(a usageAtom) bool {
	for d, set := range q.filters {
		if !set[a.dims[d]] {
			return false
		}
	}
	return q.batch == nil || a.dims[dimBatch] == strconv.FormatBool(*q.batch)
}

const pagePrefix = "page_"

func encodePage(start int64) string {
	return pagePrefix + base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(start, 10)))
}

func decodePage(s string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, pagePrefix))
	if err != nil || !strings.HasPrefix(s, pagePrefix) {
		return 0, false
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	return v, err == nil
}

// usagePage answers a usage or costs request: buckets aligned to their
// width (UTC), from the start (or the page cursor) up to end_time, limit
// per page. The page is written by hand: a large organization's costs
// grouped by project, key and line item run to tens of megabytes, which
// encoding/json renders several times slower.
func (c *call) usagePage(ep *usageEndpoint, costs bool, atoms func(start, width int64) []usageAtom) (any, *apiError) {
	q, err := parseUsageQuery(c, ep, costs)
	if err != nil {
		return nil, err
	}
	first := q.start - q.start%q.width
	if c.q.has("page") {
		p, ok := decodePage(c.q.get("page"))
		if !ok || p < first || p >= q.end || (p-first)%q.width != 0 {
			return nil, invalid("page", "'page' is not a cursor of this query; use next_page from the previous response")
		}
		first = p
	}
	b := make([]byte, 0, 4096)
	b = append(b, `{"object":"page","data":[`...)
	at, n := first, 0
	for ; at < q.end && n < q.limit; at += q.width {
		var kept []usageAtom
		for _, a := range atoms(at, q.width) {
			if q.keep(a) {
				kept = append(kept, a)
			}
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"object":"bucket","start_time":`...)
		b = strconv.AppendInt(b, at, 10)
		b = append(b, `,"end_time":`...)
		b = strconv.AppendInt(b, at+q.width, 10)
		b = append(b, `,"results":[`...)
		for i, g := range groupAtoms(kept, q.groupBy) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendResult(b, ep, costs, g, q.groupBy)
		}
		b = append(b, "]}"...)
	}
	b = append(b, `],"has_more":`...)
	if at < q.end {
		b = append(b, `true,"next_page":`...)
		b = appendJSONString(b, encodePage(at))
	} else {
		b = append(b, `false,"next_page":null`...)
	}
	return rawJSON(append(b, '}')), nil
}

func appendResult(b []byte, ep *usageEndpoint, costs bool, g usageAtom, by []dim) []byte {
	b = append(b, `{"object":`...)
	b = appendJSONString(b, ep.object)
	if costs {
		b = append(b, `,"amount":{"value":`...)
		b = strconv.AppendFloat(b, math.Round(g.cost*1e6)/1e6, 'f', -1, 64)
		b = append(b, `,"currency":"usd"}`...)
	}
	for i, m := range ep.metrics {
		b = append(b, ',')
		b = appendJSONString(b, m)
		b = append(b, ':')
		b = strconv.AppendInt(b, g.metrics[i], 10)
	}
	for _, d := range ep.dims {
		b = append(b, ',')
		b = appendJSONString(b, dimNames[d])
		b = append(b, ':')
		switch {
		case !slices.Contains(by, d):
			b = append(b, "null"...)
		case d == dimBatch:
			b = strconv.AppendBool(b, g.dims[d] == "true")
		case g.dims[d] == "":
			b = append(b, "null"...)
		default:
			b = appendJSONString(b, g.dims[d])
		}
	}
	if costs {
		if slices.Contains(by, dimLineItem) {
			b = append(b, `,"quantity":`...)
			b = strconv.AppendFloat(b, math.Round(g.quantity*1e3)/1e3, 'f', -1, 64)
			b = append(b, `,"quantity_unit":`...)
			if g.unit != "" {
				b = appendJSONString(b, g.unit)
			} else {
				b = append(b, "null"...)
			}
		} else {
			b = append(b, `,"quantity":null,"quantity_unit":null`...)
		}
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	if plain {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s)
	return append(b, q...)
}
func usageHandler(ep int) handler {
	return func(c *call) (any, *apiError) {
		return c.usagePage(&usageEndpoints[ep], false, func(start, width int64) []usageAtom {
			return c.e.atoms(ep, start, width, c.now)
		})
	}
}

func listCosts(c *call) (any, *apiError) {
	return c.usagePage(&costsEndpoint, true, func(start, width int64) []usageAtom {
		return c.e.costAtoms(start, width, c.now)
	})
}
