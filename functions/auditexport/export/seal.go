package export

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/digest"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
)

// seal closes this run's generation: outstanding intents are resolved, the
// digest's content is fixed in the checkpoint, the digest is written, and
// the checkpoint moves to the next generation.
func (r *run) seal(ctx context.Context) (digest.Link, error) {
	if err := r.fixSeal(ctx, ""); err != nil {
		return digest.Link{}, err
	}
	return r.finishSeal(ctx)
}

// recover finishes a generation left open by a run that ended early (or is
// stuck past its lease): it resolves the intents that run recorded, then
// seals the generation on its behalf.
func (r *run) recover(ctx context.Context) (digest.Link, error) {
	o := r.st.Open
	r.x.log.WarnContext(ctx, "recovering an unfinished generation", "generation", o.Generation, "run", o.RunID,
		"objects", len(o.Objects), "intents", len(o.Writing), "sealed", o.Sealed != nil)
	if o.Sealed == nil {
		if err := r.fixSeal(ctx, r.id); err != nil {
			return digest.Link{}, err
		}
	}
	return r.finishSeal(ctx)
}

// fixSeal resolves the open generation's intents, then fixes its digest's
// content in the checkpoint (open.sealed). recoveredBy, when set, names the
// run sealing the generation for the run that wrote it.
func (r *run) fixSeal(ctx context.Context, recoveredBy string) error {
	if err := r.resolveIntents(ctx); err != nil {
		return err
	}
	return r.commit(ctx, func(st *checkpoint.State) {
		if recoveredBy != "" {
			st.Open.RecoveredBy = recoveredBy
		}
		st.Open.Sealed = &checkpoint.Seal{At: r.x.now().Unix(), By: r.id}
		r.pruneRecent(st)
	})
}

// resolveIntents settles every key the open generation announced and did
// not record. A key that holds exactly the content its intent recorded is
// adopted (read back and recorded, its slice moved past its events). A key
// that holds anything else is foreign: flagged, never adopted, and its
// slice's events are read again by the job. An empty key is fenced with an
// empty object, written once like any other: the run that announced it
// cannot write it later, so no object ever appears that no digest lists.
func (r *run) resolveIntents(ctx context.Context) error {
	if r.dry {
		// A dry run's writers never fail, and it has no zombie to fence.
		r.mu.Lock()
		r.st.Open.Writing = nil
		r.mu.Unlock()
		return nil
	}
	r.mu.Lock()
	intents := append([]checkpoint.Intent(nil), r.st.Open.Writing...)
	r.mu.Unlock()
	for _, in := range intents {
		info, foreign, err := r.settle(ctx, in)
		if err != nil {
			return fmt.Errorf("settle %s: %w", in.Key, err)
		}
		if foreign {
			err = r.commit(ctx, func(st *checkpoint.State) {
				markForeign(st.Open, info)
				// The slice's next object takes another number; its events
				// are paged again from its cursor.
				if s := sliceOf(st, in.Slice); s != nil {
					s.Seq = max(s.Seq, in.Seq+1)
				}
			})
			if err != nil {
				return err
			}
			r.flagForeign(ctx, info, "")
			continue
		}
		err = r.commit(ctx, func(st *checkpoint.State) {
			applyDone(st, sliceOf(st, in.Slice), info, in.Seq, r.recentFrom(st))
		})
		if err != nil {
			return err
		}
		r.count(info)
	}
	return nil
}

// settle finds out what an announced key holds: the intended object (the
// hash recorded before its upload matches), nothing (it is fenced with an
// empty object), or something foreign.
func (r *run) settle(ctx context.Context, in checkpoint.Intent) (info objects.Info, foreign bool, err error) {
	for range 2 {
		found, err := r.x.data.Hash(ctx, in.Key)
		if errors.Is(err, objects.ErrNotFound) {
			info, err := r.x.data.Create(ctx, in.Key).Close()
			if errors.Is(err, objects.ErrExists) {
				continue // written meanwhile (the announcing run, late): look again
			}
			return info, false, err
		}
		if err != nil {
			return objects.Info{}, false, err
		}
		// The intended content, or a fence (an empty object) another
		// recovering run wrote, are the export's; anything else is not.
		if in.SHA256 == "" || found.SHA256 != in.SHA256 {
			if found.SHA256 != r.x.data.EmptySHA256() {
				return found, true, nil
			}
		}
		info, err = r.x.data.Read(ctx, in.Key, nil)
		return info, false, err
	}
	return objects.Info{}, false, fmt.Errorf("%s appeared while it was being fenced and then vanished", in.Key)
}

func sliceOf(st *checkpoint.State, id int64) *checkpoint.Slice {
	if st.Job == nil {
		return nil
	}
	for i := range st.Job.Slices {
		if st.Job.Slices[i].ID == id {
			return &st.Job.Slices[i]
		}
	}
	return nil
}

// finishSeal writes the sealed generation's digest, whose bytes follow from
// the checkpoint alone (so a retry or a recovering run writes the same
// bytes), and closes the generation.
func (r *run) finishSeal(ctx context.Context) (digest.Link, error) {
	r.mu.Lock()
	d := digestOf(r.st)
	r.mu.Unlock()
	body, err := digest.Encode(d)
	if err != nil {
		return digest.Link{}, err
	}
	link := digest.Link{Generation: d.Generation, Key: r.x.layout.DigestKey(d.Generation), SHA256: digest.Sum(body)}
	if !r.dry {
		if err := r.x.digests.Put(ctx, link.Key, body); err != nil {
			return digest.Link{}, err
		}
	}
	if err := r.commit(ctx, func(st *checkpoint.State) {
		st.Generation = link.Generation
		st.Digest = &checkpoint.DigestRef{Generation: link.Generation, Key: link.Key, SHA256: link.SHA256}
		st.Open = nil
	}); err != nil {
		return digest.Link{}, err
	}
	return link, nil
}

func digestOf(st *checkpoint.State) digest.Digest {
	o := st.Open
	d := digest.Digest{
		OrgID:       st.OrgID,
		Generation:  o.Generation,
		RunID:       o.RunID,
		RecoveredBy: o.RecoveredBy,
		StartedAt:   digest.Time(o.StartedAt),
		Objects:     o.Objects,
		Foreign:     o.Foreign,
	}
	if o.Sealed != nil {
		d.SealedAt = digest.Time(o.Sealed.At)
	}
	if st.Digest != nil {
		d.Previous = &digest.Link{Generation: st.Digest.Generation, Key: st.Digest.Key, SHA256: st.Digest.SHA256}
	}
	for _, c := range st.Covered {
		d.Covered = append(d.Covered, digest.Range{From: c.From, To: c.To})
	}
	return d
}
