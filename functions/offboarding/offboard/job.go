package offboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/message"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/logging"
)

// Offboarder removes one person's access to the organization. One
// Offboarder serves every message of an invocation; it is safe for
// concurrent use on different people.
type Offboarder struct {
	Client *adminclient.Client
	// Users finds the person's user; nil means Client. The handler gives
	// every message of a batch one adminclient.UserIndex, so unknown emails
	// cost one listing of the users per batch.
	Users UserFinder
	Rules guard.Rules
	// MaxKeyRevocations caps the API keys one offboarding may revoke
	// (ORGWARDEN_MAX_DELETIONS). Keys are the deletions whose blast radius
	// reaches beyond the person: a production system may run on one. An
	// offboarding that would revoke more is refused whole.
	MaxKeyRevocations int
	// Journal records every offboarding; nil disables it (the CLI's
	// dry-run previews). A dry run reads it but never writes.
	Journal *journal.Store
	Prefix  string
	Log     *slog.Logger
	Now     func() time.Time
}

// UserFinder finds an organization user by email (ErrNotFound when none).
type UserFinder interface {
	UserByEmail(ctx context.Context, email string) (openai.OrganizationUser, error)
}

// Attempt is what the queue says about this delivery of a request.
type Attempt struct {
	MessageID    string
	ReceiveCount int
	// SentAt dates the journal record when the request carries no
	// requested_at; a redelivery keeps the original send time.
	SentAt time.Time
	// Replay: a request received in dry run, applied later by orgwarden
	// replay. A person who joined, or was invited, after SentAt is not the
	// person the request was about any more, and is refused.
	Replay bool
}

// Outcome is the result of one offboarding request, as the summary and the
// metrics report it. It is the journal's type, so that what an attempt
// recorded and what the summary says cannot drift apart.
type Outcome = journal.RunOutcome

// Outcomes of an offboarding.
const (
	Offboarded        Outcome = "offboarded"         // this attempt removed something and nothing is left
	AlreadyOffboarded Outcome = "already_offboarded" // an earlier attempt or someone else had done it all
	NothingToDo       Outcome = "nothing_to_do"      // everything found was left alone (guards)
	NotFound          Outcome = "not_found"          // no user, no pending invite, no earlier record: a typo or the wrong person?
	DryRun            Outcome = "dry_run"            // the plan, not applied
	Refused           Outcome = "refused"            // a guard said no; nothing was changed
	Incomplete        Outcome = "incomplete"         // a step failed; SQS will redeliver
	// In a message's summary only: the message never reached a job.
	Failed   Outcome = "failed"    // the job could not run (no client, no journal)
	BadInput Outcome = "bad_input" // the message could not be parsed: dead-lettered
)

// Counts are items of an offboarding.
type Counts struct {
	Projects    int  `json:"projects"`
	APIKeys     int  `json:"api_keys"`
	Invites     int  `json:"invites"`
	UserRemoved bool `json:"user_removed"`
}

func (c Counts) empty() bool { return c == Counts{} }

// Result is what one offboarding did.
type Result struct {
	Outcome Outcome `json:"outcome"`
	// DryRun: nothing was changed, whatever asked for the dry run.
	DryRun bool `json:"dry_run"`
	// Refusal says why a guard refused the offboarding.
	Refusal string `json:"refusal,omitempty"`
	// Done counts what this attempt removed (or, in a dry run, would remove);
	// Earlier what the record shows earlier attempts removed.
	Done    Counts `json:"done"`
	Earlier Counts `json:"earlier"`
	// Record is the journal record after this attempt (in a dry run, the
	// plan: items stay "planned").
	Record *journal.Record `json:"-"`
	// JournalLocation is the record's s3:// URL, when it was written.
	JournalLocation string `json:"journal,omitempty"`
}

// RefusedError is a guard's refusal. It is permanent: the same request will
// be refused again until the configuration changes.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// IsRefused reports a guard's refusal.
func IsRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

// work is the plan of one attempt: everything that will be changed, by
// project. It is built concurrently and holds copies, not pointers into
// the record, which only one goroutine updates.
type work struct {
	user     *openai.OrganizationUser
	projects []projectWork
	admin    []journal.APIKey
	invites  []journal.Invite
	sas      []journal.ServiceAccount
	// scanned are the projects whose keys this attempt listed: a recorded
	// key missing there is gone; one elsewhere must be retried by id.
	scanned map[string]bool
}

type projectWork struct {
	membership journal.Membership // Outcome Planned: remove; Skipped: leave
	member     bool               // the user is a member now
	keys       []journal.APIKey   // Outcome Planned: revoke; Skipped: leave
}

// Offboard runs one offboarding request: guards, plan, journal ahead,
// apply, journal after. A dry run takes the same path; only the client's
// dry-run mode (and the journal staying unwritten) differs.
func (o *Offboarder) Offboard(ctx context.Context, req message.Request, at Attempt) (*Result, error) {
	now := o.now()
	dryRun := o.Client.DryRun()
	res := &Result{DryRun: dryRun}

	// Protected people are refused before the first call: not even their
	// invites are looked at.
	if v := o.Rules.Check(guard.Subject{Kind: "person", Email: req.Email}); !v.Allowed {
		return o.refuse(res, v.Reason)
	}

	w, err := o.plan(ctx, req)
	if err != nil {
		var refused *RefusedError
		if errors.As(err, &refused) {
			return o.refuse(res, refused.Reason)
		}
		res.Outcome = Incomplete
		return res, err
	}

	if at.Replay {
		if why := joinedSince(w, at.SentAt); why != "" {
			return o.refuse(res, why)
		}
	}

	dated := req.RequestedAt
	if dated.IsZero() {
		dated = at.SentAt
	}
	if dated.IsZero() {
		dated = now
	}
	key := journal.Key(o.Prefix, dated, req.Email, req.RequestKey())
	fresh := func() *journal.Record {
		r := journal.New(key, req.Email, req.RequestKey(), now)
		// HR free text is stored as given, except key material pasted into it.
		r.Request = journal.Request{Reason: logging.Redact(req.Reason), Ticket: logging.Redact(req.Ticket), RequestedAt: req.RequestedAt,
			Kind: string(req.Kind), Via: req.Via, EventID: req.EventID, UserID: req.UserID}
		return r
	}
	var entry *journal.Entry
	if o.Journal != nil {
		if entry, err = o.Journal.Open(ctx, key, fresh); err != nil {
			res.Outcome = Incomplete
			return res, err
		}
	} else {
		entry = &journal.Entry{Record: fresh()}
	}
	rec := entry.Record
	res.Record = rec
	res.Earlier = finalCounts(rec)
	if why := rejoined(rec, w); why != "" {
		return o.refuse(res, why)
	}

	retry := o.reconcile(rec, w, now)
	if err := guard.CheckCap(o.keysToRevoke(w, retry), o.MaxKeyRevocations); err != nil {
		return o.refuse(res, err.Error())
	}

	attempt := journal.Attempt{RunID: logging.RunID(ctx), MessageID: at.MessageID, ReceiveCount: at.ReceiveCount, StartedAt: now}
	if !dryRun {
		rec.Attempts = append(rec.Attempts, attempt)
		rec.Finish(now)
		if o.Journal != nil {
			// Write ahead: the plan is on record before the first change.
			if err := entry.Save(ctx); err != nil {
				res.Outcome = Incomplete
				return res, err
			}
			res.JournalLocation = o.Journal.Location(key)
		}
	}

	applyErr := o.apply(ctx, req, w, retry, rec, res)

	notFound := w.user == nil && len(w.invites) == 0 && blank(rec)
	if dryRun {
		res.Outcome = DryRun
		if notFound {
			res.Outcome = NotFound
		}
		return res, nil
	}
	end := o.now()
	if a := rec.Attempt(attempt); a != nil {
		a.FinishedAt, a.Outcome = end, "completed"
		if applyErr != nil {
			a.Outcome, a.Error = "failed", logging.Redact(applyErr.Error())
		}
	}
	rec.Finish(end)
	if o.Journal != nil {
		// The outcomes must reach the record even when the invocation's
		// context is ending: they are the only trace of what was removed.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := entry.Save(wctx); err != nil {
			applyErr = errors.Join(applyErr, err)
		}
	}
	if applyErr == nil && rec.Status != journal.Completed {
		// Never let an unfinished offboarding pass for a finished one: the
		// error makes SQS deliver the request again.
		applyErr = fmt.Errorf("offboarding of %s incomplete: %s", req.Email, unfinished(rec))
	}
	switch {
	case applyErr != nil:
		res.Outcome = Incomplete
	case !res.Done.empty():
		res.Outcome = Offboarded
	case !res.Earlier.empty() || len(rec.Attempts) > 1:
		res.Outcome = AlreadyOffboarded
	case notFound:
		res.Outcome = NotFound
	default:
		res.Outcome = NothingToDo
	}
	return res, applyErr
}

func (o *Offboarder) refuse(res *Result, reason string) (*Result, error) {
	res.Outcome, res.Refusal = Refused, reason
	return res, &RefusedError{Reason: reason}
}

func (o *Offboarder) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

// plan finds everything of the person's that this attempt must change.
// It only reads: the guards' verdicts are part of the plan, so a dry run
// and a real run refuse and skip exactly the same things.
func (o *Offboarder) plan(ctx context.Context, req message.Request) (*work, error) {
	w := &work{scanned: map[string]bool{}}

	var users UserFinder = o.Client
	if o.Users != nil {
		users = o.Users
	}
	u, err := users.UserByEmail(ctx, req.Email)
	switch {
	case errors.Is(err, adminclient.ErrNotFound):
		// No user: the invites alone are revoked.
	case err != nil:
		return nil, err
	default:
		w.user = &u
	}
	var memberships []adminclient.Membership
	if w.user != nil {
		if err := o.checkUser(ctx, req, u); err != nil {
			return nil, err
		}
		if memberships, err = o.Client.ProjectsOfUser(ctx, u); err != nil {
			return nil, err
		}
	}

	w.projects = make([]projectWork, len(memberships))
	var mu sync.Mutex
	err = adminclient.ForEach(ctx, o.Client, indexes(len(memberships)), func(ctx context.Context, i int) error {
		m := memberships[i]
		pw := projectWork{member: true, membership: journal.Membership{ProjectID: m.ProjectID, ProjectName: m.ProjectName,
			Role: m.Role, Step: journal.Step{Outcome: journal.Planned}}}
		if v := o.Rules.Check(guard.Subject{Kind: "project_user", ProjectID: m.ProjectID}); !v.Allowed {
			// A protected project is left alone entirely: its keys too.
			pw.membership.Step = journal.Step{Outcome: journal.Skipped, Note: v.Reason}
			w.projects[i] = pw
			return nil
		}
		keys, err := o.Client.KeysOf(ctx, m.ProjectID, adminclient.OwnerUser, u.ID)
		if err != nil {
			return err
		}
		for _, k := range keys.Owned {
			jk := journal.APIKey{ID: k.ID, Kind: journal.ProjectKey, Name: k.Name, ProjectID: m.ProjectID,
				CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, Step: journal.Step{Outcome: journal.Planned}}
			if v := o.Rules.Check(guard.Subject{Kind: "project_api_key", ID: k.ID, Name: k.Name, ProjectID: m.ProjectID}); !v.Allowed {
				jk.Step = journal.Step{Outcome: journal.Skipped, Note: v.Reason}
			}
			pw.keys = append(pw.keys, jk)
		}
		// A key that does not say its owner may be the person's: it is
		// reported, never revoked as theirs.
		for _, k := range keys.OwnerUnknown {
			pw.keys = append(pw.keys, journal.APIKey{ID: k.ID, Kind: journal.ProjectKey, Name: k.Name, ProjectID: m.ProjectID,
				CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, Step: journal.Step{Outcome: journal.Skipped, Note: ownerUnknown}})
		}
		var sas []journal.ServiceAccount
		if strings.EqualFold(m.Role, "owner") {
			// Service accounts outlive the person; whoever owned their
			// project should hand them over, so they are listed for review.
			for sa, err := range o.Client.ServiceAccounts(ctx, m.ProjectID) {
				if err != nil {
					return err
				}
				sas = append(sas, journal.ServiceAccount{ProjectID: m.ProjectID, ProjectName: m.ProjectName,
					ID: sa.ID, Name: sa.Name, Role: string(sa.Role)})
			}
		}
		mu.Lock()
		w.projects[i] = pw
		w.scanned[m.ProjectID] = true
		w.sas = append(w.sas, sas...)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(w.sas, func(a, b journal.ServiceAccount) int {
		return strings.Compare(a.ProjectID+a.ID, b.ProjectID+b.ID)
	})

	if w.user != nil && strings.EqualFold(w.user.Role, "owner") {
		// Only owners hold admin keys. The job's own key is never revoked,
		// even when the departing owner created it: that would lock the
		// deployment out; it is reported instead.
		for k, err := range o.Client.AdminAPIKeys(ctx) {
			if err != nil {
				return nil, err
			}
			owner := adminclient.AdminKeyOwner(k)
			if owner.Known() && !owner.Is(adminclient.OwnerUser, w.user.ID) {
				continue
			}
			jk := journal.APIKey{ID: k.ID, Kind: journal.AdminKey, Name: k.Name, CreatedAt: k.CreatedAt,
				LastUsedAt: k.LastUsedAt, Step: journal.Step{Outcome: journal.Planned}}
			if v := o.Rules.Check(guard.Subject{Kind: "admin_api_key", ID: k.ID, Name: k.Name, Self: o.Client.IsSelf(k)}); !v.Allowed {
				jk.Step = journal.Step{Outcome: journal.Skipped, Note: v.Reason}
			} else if !owner.Known() {
				jk.Step = journal.Step{Outcome: journal.Skipped, Note: ownerUnknown}
			}
			w.admin = append(w.admin, jk)
		}
	}

	invites, err := o.Client.InvitesByEmail(ctx, req.Email)
	if err != nil {
		return nil, err
	}
	for _, in := range invites {
		if in.Status != openai.InviteStatusPending {
			continue
		}
		ji := journal.Invite{ID: in.ID, Email: in.Email, Role: string(in.Role), CreatedAt: in.CreatedAt,
			ExpiresAt: in.ExpiresAt, Step: journal.Step{Outcome: journal.Planned}}
		for _, p := range in.Projects {
			ji.Projects = append(ji.Projects, journal.InviteProject{ID: p.ID, Role: string(p.Role)})
		}
		if v := o.Rules.Check(guard.Subject{Kind: "invite", ID: in.ID, Email: in.Email}); !v.Allowed {
			ji.Step = journal.Step{Outcome: journal.Skipped, Note: v.Reason}
		}
		w.invites = append(w.invites, ji)
	}
	return w, nil
}

// ownerUnknown is the note on a key that does not say who owns it (no
// owner.type this code knows, or no owner id): it may be the person's.
const ownerUnknown = "owner unknown: the API did not say who owns this key; left alone, check it by hand"

// checkUser applies the guards that concern the person as a whole.
func (o *Offboarder) checkUser(ctx context.Context, req message.Request, u openai.OrganizationUser) error {
	if req.UserID != "" && req.UserID != u.ID {
		return &RefusedError{Reason: fmt.Sprintf("the request names user %s but %s belongs to user %s", req.UserID, req.Email, u.ID)}
	}
	if v := o.Rules.Check(guard.Subject{Kind: "user", ID: u.ID, Email: adminclient.UserEmail(u), OrgRole: u.Role}); !v.Allowed {
		return &RefusedError{Reason: "user " + u.ID + " " + v.Reason}
	}
	if !strings.EqualFold(u.Role, "owner") {
		return nil
	}
	owners := 0
	for x, err := range o.Client.Users(ctx) {
		if err != nil {
			return err
		}
		if strings.EqualFold(x.Role, "owner") {
			owners++
		}
	}
	if owners <= 1 {
		return &RefusedError{Reason: "user " + u.ID + " is the organization's last owner"}
	}
	return nil
}

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

// apply makes the changes: per project (concurrently) the person's keys,
// then their membership; then admin keys and invites; then, only when all
// of that succeeded, the organization user. Removing the user last keeps
// the user's project list (the way a retry finds what is left) until
// nothing is left.
func (o *Offboarder) apply(ctx context.Context, req message.Request, w *work, retry retryWork, rec *journal.Record, res *Result) error {
	reason := changeReason(req)
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
			// Keep the membership while a key is left: the next attempt
			// finds the key through it.
			return errors.Join(errs...)
		}
		if pw.member && pw.membership.Outcome == journal.Planned {
			r.membership = &pw.membership
			r.out, r.err = o.Client.RemoveProjectUser(ctx, pw.membership.ProjectID, w.user.ID, reason)
			return r.err
		}
		return nil
	})
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
	errs := []error{err}

	for _, k := range adminKeys {
		if k.Outcome != journal.Planned && k.Outcome != journal.Failed {
			continue
		}
		out, err := o.Client.DeleteAdminAPIKey(ctx, k.ID, reason)
		rk := rec.APIKey(k)
		if errors.Is(err, adminclient.ErrSelfKey) {
			journal.Set(&rk.Step, journal.Skipped, "", "is the admin key this job is using", now)
			continue
		}
		settle(&rk.Step, out, err, o.now())
		if applied(out) {
			res.Done.APIKeys++
		}
		errs = append(errs, err)
	}

	// Invites go whatever happened above: they are access not yet taken up,
	// and revoking them needs nothing else to have worked.
	for _, in := range w.invites {
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
