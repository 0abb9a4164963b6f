package export

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/digest"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
)

// ErrNoCheckpoint means the checkpoint is missing while the bucket already
// holds an export (digests or data objects): starting over would reuse the
// first generations' names and export everything again on top of them.
var ErrNoCheckpoint = errors.New("checkpoint missing")

// RebuildCommand is what the operator runs to rebuild a lost checkpoint
// (docs/runbook.md, "Lost checkpoint").
const RebuildCommand = "orgwarden run auditexport --rebuild-checkpoint"

// existing is what the bucket holds of an export without a checkpoint.
type existing struct {
	digests []string // digest keys, any generation
	newest  int64    // newest generation with a digest
	orphans []string // data objects of generations after newest: no digest lists them
}

func (e existing) empty() bool { return len(e.digests) == 0 && len(e.orphans) == 0 }

// survey lists the digests and the data objects no digest can list yet.
func (r *run) survey(ctx context.Context) (existing, error) {
	var ex existing
	l := r.x.layout
	if err := r.list(ctx, l.DigestPrefix(), func(key string) {
		if g, ok := l.ParseDigestKey(key); ok {
			ex.digests = append(ex.digests, key)
			ex.newest = max(ex.newest, g)
		}
	}); err != nil {
		return ex, err
	}
	var data []string
	if err := r.list(ctx, l.DataPrefix(), func(key string) {
		if n, ok := l.ParseDataKey(key); ok && n.Generation > ex.newest {
			data = append(data, key)
		}
	}); err != nil {
		return ex, err
	}
	// Generations are listed in no particular order: filter again now that
	// the newest digest is known.
	for _, key := range data {
		if n, _ := l.ParseDataKey(key); n.Generation > ex.newest {
			ex.orphans = append(ex.orphans, key)
		}
	}
	return ex, nil
}

func (r *run) list(ctx context.Context, prefix string, fn func(string)) error {
	p := s3.NewListObjectsV2Paginator(r.x.s3, &s3.ListObjectsV2Input{Bucket: aws.String(r.x.cfg.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", r.x.cfg.Bucket, prefix, err)
		}
		for _, o := range page.Contents {
			fn(aws.ToString(o.Key))
		}
	}
	return nil
}

// missingCheckpoint decides what a run does when the checkpoint is
// missing: a fresh export when the bucket holds none; otherwise it refuses,
// unless asked to rebuild the checkpoint from the digest chain.
func (r *run) missingCheckpoint(ctx context.Context) (*checkpoint.State, error) {
	ex, err := r.survey(ctx)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s is missing; looking for an existing export: %w", r.store.Location(), err)
	}
	if ex.empty() {
		return &checkpoint.State{Format: checkpoint.Format, OrgID: r.x.cfg.OrgID}, nil
	}
	if !r.req.RebuildCheckpoint {
		return nil, fmt.Errorf("%w: s3://%s holds this export (%d digests, newest generation %d; %d data objects no digest lists) but there is no checkpoint at s3://%s; refusing to start over on top of it: if ORGWARDEN_AUDIT_STATE_BUCKET is right and the checkpoint was lost, rebuild it from the digest chain with `%s`",
			ErrNoCheckpoint, r.x.cfg.Bucket, len(ex.digests), ex.newest, len(ex.orphans), r.store.Location(), RebuildCommand)
	}
	st, err := r.rebuild(ctx, ex)
	if err != nil {
		return nil, fmt.Errorf("rebuild checkpoint %s from the digest chain: %w", r.store.Location(), err)
	}
	return st, nil
}

// rebuild makes a checkpoint from the digest chain: every digest from the
// newest back to generation 1 must parse, belong to this organization and
// hash to what its successor recorded, or nothing is rebuilt. The rebuilt
// checkpoint continues after the newest digest: its covered ranges, its
// hash, and the recent objects the next lookback window dedupes against.
// Data objects of later generations (a generation that was open when the
// checkpoint was lost) are listed as foreign by the next digest: no digest
// sealed them, and their events are exported again.
func (r *run) rebuild(ctx context.Context, ex existing) (*checkpoint.State, error) {
	st := &checkpoint.State{Format: checkpoint.Format, OrgID: r.x.cfg.OrgID, Generation: ex.newest}
	l := r.x.layout
	lookback := int64(r.x.cfg.Lookback / time.Second)
	var recentFrom int64
	var wantSum string
	for g := ex.newest; g >= 1; g-- {
		key := l.DigestKey(g)
		body, err := r.x.digests.Get(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("generation %d: %w (run orgwarden verify)", g, err)
		}
		sum := digest.Sum(body)
		if wantSum != "" && sum != wantSum {
			return nil, fmt.Errorf("digest %s hashes to %s, generation %d recorded %s: the chain is broken (run orgwarden verify)", key, sum, g+1, wantSum)
		}
		d, err := digest.Parse(body)
		if err != nil {
			return nil, fmt.Errorf("digest %s: %w (run orgwarden verify)", key, err)
		}
		if d.Generation != g || d.OrgID != r.x.cfg.OrgID {
			return nil, fmt.Errorf("digest %s says generation %d of %s (run orgwarden verify)", key, d.Generation, d.OrgID)
		}
		if g == ex.newest {
			st.Digest = &checkpoint.DigestRef{Generation: g, Key: key, SHA256: sum}
			for _, c := range d.Covered {
				st.Covered = st.Covered.Add(checkpoint.Span{From: c.From, To: c.To})
			}
			recentFrom = r.start.Unix()
			if end := st.Covered.End(); end > 0 {
				recentFrom = min(recentFrom, end)
			}
			recentFrom -= lookback
		}
		for _, o := range d.Objects {
			st.Newest = max(st.Newest, o.Newest)
			if o.Events > 0 && o.Newest >= recentFrom {
				st.Recent = append(st.Recent, checkpoint.ObjectRef{Key: o.Key, Oldest: o.Oldest, Newest: o.Newest, Events: o.Events})
			}
		}
		if d.Previous != nil {
			wantSum = d.Previous.SHA256
		}
	}
	slices.SortFunc(st.Recent, func(a, b checkpoint.ObjectRef) int { return strings.Compare(a.Key, b.Key) })
	for _, key := range ex.orphans {
		info, err := r.x.data.Hash(ctx, key)
		if err != nil && !errors.Is(err, objects.ErrNotFound) {
			return nil, err
		}
		if err == nil {
			r.orphans = append(r.orphans, info)
		}
		// The new generation's slices are numbered past the orphans', so
		// its keys do not run into them.
		if n, ok := r.x.layout.ParseDataKey(key); ok {
			st.NextSlice = max(st.NextSlice, n.Slice+1)
		}
	}
	r.x.log.WarnContext(ctx, "checkpoint rebuilt from the digest chain", "generation", st.Generation,
		"covered_to", digest.Time(st.Covered.End()), "recent_objects", len(st.Recent), "unsealed_objects", len(r.orphans))
	return st, nil
}
