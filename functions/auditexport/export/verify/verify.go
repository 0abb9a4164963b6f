// Package verify checks an audit-log export the way an auditor would: it
// walks every organization's digest chain, re-hashes and re-counts every
// data object, and reports what does not match.
//
// It detects a modified, deleted or inserted data object (an object under
// the data prefix that no digest lists), a modified, deleted or inserted
// digest (a broken hash link, a missing generation number, an unexpected
// key), an event exported twice, and a newest digest that differs from the
// one the checkpoint recorded. Objects of a generation still being written
// are reported as warnings when they match what the checkpoint recorded.
//
// Memory: the digest listings, plus a 16-byte hash per event for the
// duplicate check (off with Options.SkipDuplicates).
//
// An object the export found squatting a key it was about to write is
// listed as foreign by the digest of the generation that found it, and
// reported as a problem (ForeignObject), never counted as exported.
package verify

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/digest"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/layout"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
)

// Options say what to verify.
type Options struct {
	Bucket string
	Prefix string
	// OrgID limits the check to one organization; empty checks every
	// organization found under Prefix.
	OrgID string
	// StateBucket holds the checkpoint; default Bucket.
	StateBucket string
	// SkipState does not read the checkpoint (e.g. no access to it). The
	// deletion of the newest digests then goes unnoticed.
	SkipState bool
	// SkipDuplicates does not check event ids across objects.
	SkipDuplicates bool
	// Concurrency is how many objects are read at once; default 8.
	Concurrency int
}

// Kind classifies a finding.
type Kind string

// Kinds of findings.
const (
	ModifiedObject Kind = "modified object"
	MissingObject  Kind = "missing object"
	InsertedObject Kind = "inserted object"
	ModifiedDigest Kind = "modified digest"
	MissingDigest  Kind = "missing digest"
	InsertedDigest Kind = "inserted digest"
	BrokenChain    Kind = "broken chain"
	DuplicateEvent Kind = "duplicate event"
	StateMismatch  Kind = "checkpoint mismatch"
	Unsealed       Kind = "unsealed object"
	// ForeignObject is an object the export found at a key it was about
	// to write, holding something it did not write: never part of the
	// export, recorded by the digest (or the checkpoint) that found it.
	ForeignObject Kind = "foreign object"
)

// Finding is one thing that is wrong (or, for warnings, worth knowing).
type Finding struct {
	Kind    Kind
	Key     string
	Detail  string
	Warning bool
}

func (f Finding) String() string {
	return fmt.Sprintf("%-18s %s: %s", f.Kind, f.Key, f.Detail)
}

// OrgReport is one organization's result.
type OrgReport struct {
	OrgID    string
	Digests  int
	Newest   int64  // newest generation with a digest
	SealedAt string // the newest digest's sealed_at
	Objects  int
	Events   int64
	Bytes    int64
	Findings []Finding
}

// OK reports whether nothing but warnings was found.
func (o OrgReport) OK() bool {
	for _, f := range o.Findings {
		if !f.Warning {
			return false
		}
	}
	return true
}

// Report is the result of Verify.
type Report struct {
	Bucket, Prefix string
	Orgs           []OrgReport
}

// OK reports whether at least one organization was found and every one
// verified.
func (r Report) OK() bool {
	if len(r.Orgs) == 0 {
		return false
	}
	for _, o := range r.Orgs {
		if !o.OK() {
			return false
		}
	}
	return true
}

// Write prints the report for a terminal.
func (r Report) Write(w io.Writer) error {
	loc := "s3://" + r.Bucket + "/" + r.Prefix
	var b strings.Builder
	if len(r.Orgs) == 0 {
		fmt.Fprintf(&b, "%s: no export found (no digests and no data objects)\nFAILED\n", loc)
	}
	for _, o := range r.Orgs {
		fmt.Fprintf(&b, "%s org %s: %d digests (newest generation %d, sealed %s), %d objects, %d events, %d bytes\n",
			loc, o.OrgID, o.Digests, o.Newest, orDash(o.SealedAt), o.Objects, o.Events, o.Bytes)
		for _, f := range o.Findings {
			prefix := "  PROBLEM "
			if f.Warning {
				prefix = "  warning "
			}
			fmt.Fprintln(&b, prefix+f.String())
		}
	}
	switch {
	case len(r.Orgs) == 0:
	case r.OK():
		fmt.Fprintln(&b, "OK: the digest chain and every object verify")
	default:
		n := 0
		for _, o := range r.Orgs {
			for _, f := range o.Findings {
				if !f.Warning {
					n++
				}
			}
		}
		fmt.Fprintf(&b, "FAILED: %d problem(s)\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Verify checks the export at opts.Bucket/opts.Prefix. Problems found are
// in the report; the error is for failures to check at all (no access,
// no such bucket).
func Verify(ctx context.Context, client *s3.Client, opts Options) (Report, error) {
	opts.Prefix = strings.Trim(opts.Prefix, "/")
	if opts.StateBucket == "" {
		opts.StateBucket = opts.Bucket
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	rep := Report{Bucket: opts.Bucket, Prefix: opts.Prefix}
	orgs := []string{opts.OrgID}
	if opts.OrgID == "" {
		var err error
		if orgs, err = findOrgs(ctx, client, opts); err != nil {
			return rep, err
		}
	}
	for _, org := range orgs {
		l, err := layout.New(opts.Prefix, org)
		if err != nil {
			return rep, err
		}
		v := &verifier{ctx: ctx, s3: client, opts: opts, l: l,
			rep: OrgReport{OrgID: org}, seed: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, seen: map[[2]uint64]struct{}{}}
		if err := v.run(); err != nil {
			return rep, fmt.Errorf("verify org %s: %w", org, err)
		}
		if v.rep.Digests > 0 || v.rep.Objects > 0 || len(v.rep.Findings) > 0 {
			rep.Orgs = append(rep.Orgs, v.rep)
		}
	}
	return rep, nil
}

// findOrgs lists the org_id= folders under the prefix and its digests.
func findOrgs(ctx context.Context, client *s3.Client, opts Options) ([]string, error) {
	set := map[string]bool{}
	for _, under := range []string{"", "_digests/"} {
		base := under
		if opts.Prefix != "" {
			base = opts.Prefix + "/" + under
		}
		p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{
			Bucket: aws.String(opts.Bucket), Prefix: aws.String(base), Delimiter: aws.String("/"),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list s3://%s/%s: %w", opts.Bucket, base, err)
			}
			for _, cp := range page.CommonPrefixes {
				name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), base), "/")
				if org, ok := strings.CutPrefix(name, "org_id="); ok && layout.ValidateOrgID(org) == nil {
					set[org] = true
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

type verifier struct {
	ctx  context.Context
	s3   *s3.Client
	opts Options
	l    layout.Layout
	rep  OrgReport

	mu   sync.Mutex
	seed [2]maphash.Seed
	seen map[[2]uint64]struct{}
}

func (v *verifier) find(kind Kind, key, format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rep.Findings = append(v.rep.Findings, Finding{Kind: kind, Key: key, Detail: fmt.Sprintf(format, args...), Warning: kind == Unsealed})
}

// expected is what a digest (or the checkpoint, for an open generation)
// says an object holds.
type expected struct {
	info       objects.Info
	generation int64
	unsealed   bool
	foreign    bool
}

func (v *verifier) run() error {
	st, err := v.state()
	if err != nil {
		return err
	}
	want, err := v.chain(st)
	if err != nil {
		return err
	}
	keys, err := v.list(v.l.DataPrefix())
	if err != nil {
		return err
	}
	present := map[string]bool{}
	var check []string
	for _, key := range keys {
		present[key] = true
		e, ok := want[key]
		switch {
		case !ok:
			v.find(InsertedObject, key, "no digest lists this object")
		case e.foreign:
			v.find(ForeignObject, key, "found by generation %d at a key it was about to write (SHA-256 %s, %d bytes): not the export's, never sealed; the generation wrote its own object elsewhere",
				e.generation, short(e.info.SHA256), e.info.Bytes)
		case e.unsealed && e.info.SHA256 == "":
			v.find(Unsealed, key, "being written by generation %d, which is not sealed yet", e.generation)
		default:
			check = append(check, key)
		}
	}
	for key, e := range want {
		if !present[key] && !e.unsealed && !e.foreign {
			v.find(MissingObject, key, "listed by digest %d (%d events) but not in the bucket", e.generation, e.info.Events)
		}
	}
	v.checkObjects(check, want)
	slices.SortStableFunc(v.rep.Findings, func(a, b Finding) int {
		if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return nil
}

func (v *verifier) state() (*checkpoint.State, error) {
	if v.opts.SkipState {
		return nil, nil
	}
	st, err := checkpoint.NewStore(v.s3, v.opts.StateBucket, v.l.StateKey(), "").Load(v.ctx)
	if errors.Is(err, checkpoint.ErrCorrupt) {
		v.find(StateMismatch, v.l.StateKey(), "%v", err)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if st.Generation == 0 && st.Open == nil && st.OrgID == "" {
		return nil, nil // no checkpoint
	}
	return st, nil
}

// chain reads every digest, checks the links, and returns what the digests
// (and the checkpoint's open generation) say the data objects hold.
func (v *verifier) chain(st *checkpoint.State) (map[string]expected, error) {
	keys, err := v.list(v.l.DigestPrefix())
	if err != nil {
		return nil, err
	}
	byGen := map[int64]string{}
	var newest int64
	for _, key := range keys {
		gen, ok := v.l.ParseDigestKey(key)
		if !ok {
			v.find(InsertedDigest, key, "not a digest name of this export")
			continue
		}
		byGen[gen] = key
		newest = max(newest, gen)
	}
	if st != nil && st.Generation > newest {
		for g := newest + 1; g <= st.Generation; g++ {
			v.find(MissingDigest, v.l.DigestKey(g), "the checkpoint has sealed generation %d, its digest is gone", g)
		}
	}
	ds := digest.NewStore(v.s3, v.opts.Bucket, "")
	want := map[string]expected{}
	sums := map[int64]string{}
	parsed := map[int64]digest.Digest{}
	for g := int64(1); g <= newest; g++ {
		key, ok := byGen[g]
		if !ok {
			v.find(MissingDigest, v.l.DigestKey(g), "generation %d has no digest (between %d and %d)", g, 1, newest)
			continue
		}
		body, err := ds.Get(v.ctx, key)
		if err != nil {
			if errors.Is(err, objects.ErrNotFound) {
				v.find(MissingDigest, key, "listed but gone")
				continue
			}
			return nil, err
		}
		v.rep.Digests++
		sums[g] = digest.Sum(body)
		d, err := digest.Parse(body)
		if err != nil {
			v.find(ModifiedDigest, key, "%v", err)
			continue
		}
		if d.Generation != g || d.OrgID != v.l.OrgID {
			v.find(ModifiedDigest, key, "says generation %d of %s; its name says generation %d of %s", d.Generation, d.OrgID, g, v.l.OrgID)
			continue
		}
		parsed[g] = d
		if g == newest {
			v.rep.Newest, v.rep.SealedAt = g, d.SealedAt
		}
		for _, o := range d.Objects {
			if prev, dup := want[o.Key]; dup {
				v.find(ModifiedDigest, key, "lists %s, which digest %d lists already", o.Key, prev.generation)
				continue
			}
			if n, ok := v.l.ParseDataKey(o.Key); !ok || n.Generation != g {
				v.find(ModifiedDigest, key, "lists %s, which is not an object of generation %d", o.Key, g)
			}
			want[o.Key] = expected{info: o, generation: g}
		}
		for _, o := range d.Foreign {
			if _, dup := want[o.Key]; !dup {
				want[o.Key] = expected{info: o, generation: g, foreign: true}
			}
		}
	}
	// Links: each digest names its predecessor's hash.
	for g := int64(2); g <= newest; g++ {
		d, ok := parsed[g]
		prevSum, prevOK := sums[g-1]
		if !ok || !prevOK {
			continue
		}
		switch {
		case d.Previous.Generation != g-1 || d.Previous.Key != v.l.DigestKey(g-1):
			v.find(BrokenChain, byGen[g], "links to %s (generation %d), want generation %d", d.Previous.Key, d.Previous.Generation, g-1)
		case d.Previous.SHA256 != prevSum:
			v.find(BrokenChain, byGen[g-1], "hashes to %s but digest %d recorded %s: one of the two was modified", short(prevSum), g, short(d.Previous.SHA256))
		}
	}
	if st != nil {
		v.checkState(st, newest, sums, want)
	}
	return want, nil
}

// checkState compares the newest digest with the hash the checkpoint
// keeps, and adds the open generation's objects as unsealed.
func (v *verifier) checkState(st *checkpoint.State, newest int64, sums map[int64]string, want map[string]expected) {
	if st.Digest != nil && st.Digest.Generation == newest {
		if sum, ok := sums[newest]; ok && sum != st.Digest.SHA256 {
			v.find(ModifiedDigest, st.Digest.Key, "hashes to %s but the checkpoint recorded %s", short(sum), short(st.Digest.SHA256))
		}
	}
	if st.Generation < newest && !(st.Open != nil && st.Open.Sealed != nil && st.Open.Generation == newest) {
		v.find(InsertedDigest, v.l.DigestKey(newest), "the checkpoint has sealed only up to generation %d", st.Generation)
	}
	if o := st.Open; o != nil {
		for _, info := range o.Objects {
			if _, ok := want[info.Key]; !ok {
				want[info.Key] = expected{info: info, generation: o.Generation, unsealed: true}
			}
		}
		for _, info := range o.Foreign {
			if _, ok := want[info.Key]; !ok {
				want[info.Key] = expected{info: info, generation: o.Generation, unsealed: true, foreign: true}
			}
		}
		for _, in := range o.Writing {
			if _, ok := want[in.Key]; !ok {
				want[in.Key] = expected{info: objects.Info{Key: in.Key}, generation: o.Generation, unsealed: true}
			}
		}
	}
}

func (v *verifier) checkObjects(keys []string, want map[string]expected) {
	work := make(chan string)
	var wg sync.WaitGroup
	for range v.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for key := range work {
				v.checkObject(key, want[key])
			}
		}()
	}
	for _, k := range keys {
		work <- k
	}
	close(work)
	wg.Wait()
}

func (v *verifier) checkObject(key string, e expected) {
	name, _ := v.l.ParseDataKey(key)
	checkDay, day := !name.Day.IsZero(), name.Day.Unix()
	var wrongDay []string
	var dups []string
	got, err := v.read(key, func(l objects.Line) error {
		if checkDay && !layout.SameDay(l.EffectiveAt, day) && len(wrongDay) < 3 {
			wrongDay = append(wrongDay, l.ID)
		}
		if !v.opts.SkipDuplicates && v.duplicate(l.ID) && len(dups) < 5 {
			dups = append(dups, l.ID)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, objects.ErrNotFound) {
			v.find(MissingObject, key, "disappeared while verifying")
			return
		}
		// Every object the exporter writes reads back; one that does not was changed.
		v.find(ModifiedObject, key, "not a valid export object: %v", err)
		return
	}
	v.mu.Lock()
	v.rep.Objects++
	v.rep.Events += got.Events
	v.rep.Bytes += got.Bytes
	v.mu.Unlock()
	w := e.info
	if got.SHA256 != w.SHA256 || got.Bytes != w.Bytes {
		v.find(ModifiedObject, key, "SHA-256 %s (%d bytes); generation %d recorded %s (%d bytes)", short(got.SHA256), got.Bytes, e.generation, short(w.SHA256), w.Bytes)
	} else if got.Events != w.Events || got.Oldest != w.Oldest || got.Newest != w.Newest || got.FirstID != w.FirstID || got.LastID != w.LastID {
		v.find(ModifiedDigest, key, "object matches its hash but not its recorded counts (%d events, %d..%d)", w.Events, w.Oldest, w.Newest)
	}
	if len(wrongDay) > 0 {
		v.find(ModifiedObject, key, "events %v are not from the partition's day %s", wrongDay, name.Day.Format(time.DateOnly))
	}
	for _, id := range dups {
		v.find(DuplicateEvent, key, "event %s was already exported in another object", id)
	}
	if e.unsealed {
		v.find(Unsealed, key, "written by generation %d, which is not sealed yet; matches the checkpoint", e.generation)
	}
}

// duplicate reports whether an id was seen before. Ids are kept as 128-bit
// hashes (two independently seeded 64-bit ones), so a false report would
// need a collision that is vanishingly unlikely at any realistic volume.
func (v *verifier) duplicate(id string) bool {
	h := [2]uint64{maphash.String(v.seed[0], id), maphash.String(v.seed[1], id)}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.seen[h]; ok {
		return true
	}
	v.seen[h] = struct{}{}
	return false
}

// read scans one object as stored.
func (v *verifier) read(key string, fn func(objects.Line) error) (objects.Info, error) {
	out, err := v.s3.GetObject(v.ctx, &s3.GetObjectInput{Bucket: aws.String(v.opts.Bucket), Key: aws.String(key)})
	if err != nil {
		return objects.Info{}, objects.Classify(err)
	}
	defer out.Body.Close()
	return objects.Scan(out.Body, fn)
}

func (v *verifier) list(prefix string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(v.s3, &s3.ListObjectsV2Input{Bucket: aws.String(v.opts.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(v.ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", v.opts.Bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out, nil
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "…"
	}
	return sum
}
