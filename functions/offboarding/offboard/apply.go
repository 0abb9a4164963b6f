package offboard

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/message"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
)

// Apply: the changes the plan and the record call for, each settled in
// the record as it happens.

// apply makes the changes: per project (concurrently) the person's keys,
// then their membership; then admin keys and invites; then, only when all
// of that succeeded, the organization user. Removing the user last keeps
// the user's project list (the way a retry finds what is left) until
// nothing is left.
func (o *Offboarder) apply(ctx context.Context, req message.Request, w *work, retry retryWork, rec *journal.Record, res *Result) error {
	reason := changeReason(req)
	// The work by project: this attempt's plan, plus keys to retry by id
	// (in projects the person no longer belongs to: no membership to remove).
	// Admin keys to retry join this attempt's admin keys.
	units := slices.Clone(w.projects)
	adminKeys := slices.Clone(w.admin)
	for _, k := range retry.keys {
		if k.Kind == journal.AdminKey {
			adminKeys = append(adminKeys, k)
			continue
		}
		units = append(units, projectWork{keys: []journal.APIKey{k},
			membership: journal.Membership{ProjectID: k.ProjectID, Step: journal.Step{Outcome: journal.AlreadyGone}}})
	}

	errs := []error{o.applyProjects(ctx, reason, w, units, rec, res)}
	errs = append(errs, o.applyAdminKeys(ctx, reason, adminKeys, rec, res)...)
	// Invites go whatever happened above: they are access not yet taken up,
	// and revoking them needs nothing else to have worked.
	errs = append(errs, o.applyInvites(ctx, reason, w.invites, rec, res)...)
	if joined := errors.Join(errs...); joined != nil {
		return joined
	}
	if w.user != nil && rec.Organization != nil && rec.Organization.Outcome == journal.Planned {
		out, err := o.Client.DeleteUser(ctx, w.user.ID, adminclient.UserEmail(*w.user), reason)
		settle(rec.Organization, out, err, o.now())
		res.Done.UserRemoved = applied(out)
		if err != nil {
			return err
		}
	}
	return nil
}

// applyProjects revokes the person's keys and then removes their
// membership, project by project (concurrently), and settles each in the
// record. A project whose keys are not all gone keeps its membership: the
// next attempt finds the key through it.
func (o *Offboarder) applyProjects(ctx context.Context, reason string, w *work, units []projectWork, rec *journal.Record, res *Result) error {
	type keyResult struct {
		key journal.APIKey
		out adminclient.Outcome
		err error
	}
	type projectResult struct {
		keys       []keyResult
		membership *journal.Membership
		out        adminclient.Outcome
		err        error
	}
	results := make([]projectResult, len(units))
	err := adminclient.ForEach(ctx, o.Client, indexes(len(units)), func(ctx context.Context, i int) error {
		pw := units[i]
		r := &results[i]
		var errs []error
		for _, k := range pw.keys {
			if k.Outcome != journal.Planned && k.Outcome != journal.Failed {
				continue
			}
			out, err := o.Client.DeleteProjectAPIKey(ctx, k.ProjectID, k.ID, k.Name, reason)
			r.keys = append(r.keys, keyResult{key: k, out: out, err: err})
			if err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		if pw.member && pw.membership.Outcome == journal.Planned {
			r.membership = &pw.membership
			r.out, r.err = o.Client.RemoveProjectUser(ctx, pw.membership.ProjectID, w.user.ID, reason)
			return r.err
		}
		return nil
	})
	// The record is settled by this goroutine alone, after the workers.
	now := o.now()
	for _, r := range results {
		for _, kr := range r.keys {
			rk := rec.APIKey(kr.key)
			settle(&rk.Step, kr.out, kr.err, now)
			if applied(kr.out) {
				res.Done.APIKeys++
			}
		}
		if r.membership != nil {
			m := rec.Membership(*r.membership)
			settle(&m.Step, r.out, r.err, now)
			if applied(r.out) {
				res.Done.Projects++
			}
		}
	}
	return err
}

// applyAdminKeys revokes the person's admin keys, never the one this job
// is using.
func (o *Offboarder) applyAdminKeys(ctx context.Context, reason string, keys []journal.APIKey, rec *journal.Record, res *Result) []error {
	var errs []error
	for _, k := range keys {
		if k.Outcome != journal.Planned && k.Outcome != journal.Failed {
			continue
		}
		out, err := o.Client.DeleteAdminAPIKey(ctx, k.ID, reason)
		rk := rec.APIKey(k)
		if errors.Is(err, adminclient.ErrSelfKey) {
			journal.Set(&rk.Step, journal.Skipped, "", "is the admin key this job is using", o.now())
			continue
		}
		settle(&rk.Step, out, err, o.now())
		if applied(out) {
			res.Done.APIKeys++
		}
		errs = append(errs, err)
	}
	return errs
}

// applyInvites revokes the person's pending invites.
func (o *Offboarder) applyInvites(ctx context.Context, reason string, invites []journal.Invite, rec *journal.Record, res *Result) []error {
	var errs []error
	for _, in := range invites {
		if in.Outcome != journal.Planned {
			continue
		}
		out, err := o.Client.DeleteInvite(ctx, in.ID, in.Email, reason)
		ri := rec.Invite(in)
		settle(&ri.Step, out, err, o.now())
		if applied(out) {
			res.Done.Invites++
		}
		errs = append(errs, err)
	}
	return errs
}

// applied reports a change that this attempt made or, in a dry run, would
// make: what Result.Done counts.
func applied(out adminclient.Outcome) bool {
	return out == adminclient.Done || out == adminclient.Planned
}

// settle records the client's outcome of a change. In a dry run the item
// stays planned.
func settle(s *journal.Step, out adminclient.Outcome, err error, now time.Time) {
	switch {
	case err != nil:
		journal.Set(s, journal.Failed, logging.Redact(err.Error()), "", now)
	case out == adminclient.Done:
		journal.Set(s, journal.Removed, "", "", now)
	case out == adminclient.AlreadyDone:
		journal.Set(s, journal.AlreadyGone, "", "", now)
	}
}

func changeReason(req message.Request) string {
	var b strings.Builder
	b.WriteString("offboarding")
	if req.Ticket != "" {
		b.WriteString(" [" + req.Ticket + "]")
	}
	if req.Reason != "" {
		b.WriteString(": " + req.Reason)
	}
	return logging.Redact(b.String())
}

// unfinished describes the items of rec without a final outcome.
func unfinished(rec *journal.Record) string {
	var out []string
	for _, it := range Items(rec) {
		if !it.Outcome.Final() {
			out = append(out, it.Type+" "+it.ID+" "+string(it.Outcome))
		}
	}
	return strings.Join(out, ", ")
}

// blank reports a record with nothing in it: no user, no item.
func blank(rec *journal.Record) bool {
	return rec.User == nil && len(rec.Projects) == 0 && len(rec.APIKeys) == 0 && len(rec.Invites) == 0
}

// finalCounts counts what the record shows as removed.
func finalCounts(rec *journal.Record) Counts {
	var c Counts
	for _, m := range rec.Projects {
		if m.Outcome == journal.Removed {
			c.Projects++
		}
	}
	for _, k := range rec.APIKeys {
		if k.Outcome == journal.Removed {
			c.APIKeys++
		}
	}
	for _, in := range rec.Invites {
		if in.Outcome == journal.Removed {
			c.Invites++
		}
	}
	c.UserRemoved = rec.Organization != nil && rec.Organization.Outcome == journal.Removed
	return c
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
