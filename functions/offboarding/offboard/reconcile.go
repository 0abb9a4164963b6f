package offboard

import (
	"fmt"
	"strings"
	"time"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/shared/adminclient"
)

// Between plan and apply: the journal's record of earlier attempts folded
// into this attempt's plan, so a retry finishes what is left and only that.

// retryWork is what the record says is unfinished and this attempt could
// not see: keys in projects the user no longer belongs to (an earlier
// attempt removed the membership, or the user). They are deleted by id;
// a 404 confirms they are gone.
type retryWork struct {
	keys []journal.APIKey
}

// reconcile folds this attempt's plan into the record. Items planned
// earlier that this attempt can see are gone are settled here, without a
// call; items it cannot see are returned for a retry by id.
func (o *Offboarder) reconcile(rec *journal.Record, w *work, now time.Time) retryWork {
	var retry retryWork
	if w.user != nil {
		if rec.User == nil {
			rec.User = &journal.User{ID: w.user.ID, Email: adminclient.UserEmail(*w.user), Name: w.user.Name, OrgRole: w.user.Role, AddedAt: w.user.AddedAt}
		}
		// New, failed before, or back again (re-invited since): remove.
		rec.Organization = &journal.Step{Outcome: journal.Planned}
	} else if rec.Organization != nil && !rec.Organization.Outcome.Final() {
		journal.Set(rec.Organization, journal.AlreadyGone, "", "no user with this email any more", now)
	}

	// What this attempt sees now: the projects the user belongs to, the
	// keys it planned, the pending invites.
	members, planned, pending := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, pw := range w.projects {
		members[pw.membership.ProjectID] = true
		m := rec.Membership(pw.membership)
		replan(&m.Step, pw.membership.Step)
		for _, k := range pw.keys {
			planned[k.ProjectID+"/"+k.ID] = true
			rk := rec.APIKey(k)
			replan(&rk.Step, k.Step)
		}
	}
	for _, k := range w.admin {
		planned["/"+k.ID] = true
		rk := rec.APIKey(k)
		replan(&rk.Step, k.Step)
	}
	for _, in := range w.invites {
		pending[in.ID] = true
		ri := rec.Invite(in)
		replan(&ri.Step, in.Step)
	}
	for _, sa := range w.sas {
		rec.AddServiceAccount(sa)
	}

	adminScanned := w.user != nil && strings.EqualFold(w.user.Role, "owner")
	for i := range rec.Projects {
		m := &rec.Projects[i]
		if !m.Outcome.Final() && !members[m.ProjectID] {
			journal.Set(&m.Step, journal.AlreadyGone, "", "no longer a member", now)
		}
	}
	for i := range rec.APIKeys {
		k := &rec.APIKeys[i]
		if k.Outcome.Final() || planned[k.ProjectID+"/"+k.ID] {
			continue
		}
		seen := w.scanned[k.ProjectID] || (k.Kind == journal.AdminKey && adminScanned)
		if seen {
			journal.Set(&k.Step, journal.AlreadyGone, "", "no longer listed", now)
		} else {
			retry.keys = append(retry.keys, *k)
		}
	}
	for i := range rec.Invites {
		in := &rec.Invites[i]
		if !in.Outcome.Final() && !pending[in.ID] {
			journal.Set(&in.Step, journal.AlreadyGone, "", "no longer pending", now)
		}
	}
	return retry
}

// rejoined protects a restore from a stale duplicate: once a record is
// completed, a user or invite created after it belongs to a later chapter
// (the person was re-invited, perhaps by orgwarden restore), and a late
// redelivery of the old request must not undo that.
func rejoined(rec *journal.Record, w *work) string {
	if rec.Status != journal.Completed || len(rec.Attempts) == 0 {
		return ""
	}
	done := rec.UpdatedAt.Unix()
	if w.user != nil && w.user.AddedAt > done {
		return fmt.Sprintf("user %s joined after this offboarding completed (%s); send a new request to offboard them again",
			w.user.ID, rec.UpdatedAt.Format(time.RFC3339))
	}
	for _, in := range w.invites {
		if in.CreatedAt > done {
			return fmt.Sprintf("invite %s was sent after this offboarding completed (%s); send a new request to offboard again",
				in.ID, rec.UpdatedAt.Format(time.RFC3339))
		}
	}
	return ""
}

// joinedSince says why a replayed request, sent at sent, must not act on
// what the plan found: a user or invite newer than the request.
func joinedSince(w *work, sent time.Time) string {
	if sent.IsZero() {
		return "the preview has no send time; a replay cannot tell whether the person rejoined since"
	}
	if w.user != nil && w.user.AddedAt > sent.Unix() {
		return fmt.Sprintf("user %s joined after the request was sent (%s); send a new request to offboard them", w.user.ID, sent.Format(time.RFC3339))
	}
	for _, in := range w.invites {
		if in.CreatedAt > sent.Unix() {
			return fmt.Sprintf("invite %s was sent after the request (%s); send a new request to offboard them", in.ID, sent.Format(time.RFC3339))
		}
	}
	return ""
}

// replan records an item as this attempt planned it (to remove, or
// skipped by a guard), whatever an earlier attempt said: failed, or removed
// and then back again.
func replan(recorded *journal.Step, planned journal.Step) {
	if recorded.Outcome == planned.Outcome && recorded.Note == planned.Note {
		return
	}
	*recorded = planned
}

func (o *Offboarder) keysToRevoke(w *work, retry retryWork) int {
	n := len(retry.keys)
	for _, pw := range w.projects {
		for _, k := range pw.keys {
			if k.Outcome == journal.Planned {
				n++
			}
		}
	}
	for _, k := range w.admin {
		if k.Outcome == journal.Planned {
			n++
		}
	}
	return n
}
