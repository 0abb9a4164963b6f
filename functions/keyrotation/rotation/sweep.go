package rotation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/metrics"
	"github.com/orgwarden/orgwarden/shared/summary"
	"github.com/orgwarden/orgwarden/shared/sweep"
)

// SweepSummary is what a stale-key sweep found and did.
type SweepSummary struct {
	summary.Header            // Kind "stale_key_sweep"
	Thresholds     Thresholds `json:"thresholds"`
	Scanned        Scanned    `json:"scanned"`
	// Keys are the stale keys, service accounts and admin keys: revoked (or
	// planned, in a dry run), reported, or skipped, within the cap.
	Keys sweep.Result `json:"keys"`
	// Retirements are rotated-out credentials whose grace period is over.
	Retirements Retirements `json:"retirements"`
	Counts      Counts      `json:"counts"`
	Errors      []string    `json:"errors,omitempty"`
}

// Thresholds echo the configuration the run judged by.
type Thresholds struct {
	StaleKeyUnused             string `json:"stale_key_unused"`
	StaleKeyNeverUsed          string `json:"stale_key_never_used"`
	AdminKeyUnused             string `json:"admin_key_unused"`
	RevokeAdminKeys            bool   `json:"revoke_admin_keys"`
	DeleteStaleServiceAccounts bool   `json:"delete_stale_service_accounts"`
	MaxDeletions               int    `json:"max_deletions"`
}

// Scanned counts what the run looked at.
type Scanned struct {
	Projects       int `json:"projects"`
	ProjectKeys    int `json:"project_keys"`
	AdminKeys      int `json:"admin_keys"`
	ManagedSecrets int `json:"managed_secrets"`
}

// Retirements report the deferred deletions of rotated-out credentials.
type Retirements struct {
	Deletions []sweep.Entry `json:"deletions"`
	Skipped   []sweep.Entry `json:"skipped,omitempty"`
	// Pending are retirements whose grace period is not over yet.
	Pending []PendingRetirement `json:"pending,omitempty"`
}

// PendingRetirement is a rotated-out credential still in its grace period.
type PendingRetirement struct {
	Secret       string    `json:"secret"`
	CredentialID string    `json:"credential_id"`
	Due          time.Time `json:"due"`
}

// Counts are the figures the metrics carry.
type Counts struct {
	// Revoked credentials were deleted by this run (stale ones and
	// retirements; not in a dry run).
	Revoked int `json:"revoked"`
	// Reported were found stale and left: report-only, planned in a dry
	// run, or held because the plan exceeded the cap.
	Reported int `json:"reported"`
	Skipped  int `json:"skipped"`
	Failed   int `json:"failed"`
}

// Sweep revokes stale keys and completes due retirements, then publishes
// the summary. dryRun can only add to the configured dry run.
func (h *Handler) Sweep(ctx context.Context, dryRun bool) (*SweepSummary, error) {
	ctx, runID := app.StartRun(ctx)
	start := time.Now() // wall time: the injected clock judges ages, not durations
	c := h.deps.Common
	sum := &SweepSummary{
		Header: summary.Header{Kind: "stale_key_sweep", RunID: runID, DryRun: c.DryRun || dryRun, StartedAt: h.now().UTC()},
		Thresholds: Thresholds{
			StaleKeyUnused: config.FormatDays(h.cfg.StaleUnused), StaleKeyNeverUsed: config.FormatDays(h.cfg.StaleNeverUsed), AdminKeyUnused: config.FormatDays(h.cfg.AdminKeyUnused),
			RevokeAdminKeys: h.cfg.RevokeAdminKeys, DeleteStaleServiceAccounts: h.cfg.DeleteStaleServiceAccounts, MaxDeletions: c.MaxDeletions,
		},
	}
	err := h.sweep(ctx, sum)
	if err != nil {
		sum.Errors = append(sum.Errors, splitErrors(err)...)
	}
	sum.DurationMs = time.Since(start).Milliseconds()

	t := sweep.TallyOf(sum.Keys.Deletions, sum.Retirements.Deletions)
	sum.Counts = Counts{
		Revoked:  t.Done,
		Reported: t.Reported + len(sum.Keys.Reports),
		Skipped:  len(sum.Keys.Skipped) + len(sum.Retirements.Skipped),
		Failed:   t.Failed,
	}

	rec := h.deps.Metrics()
	rec.Count("KeysRevoked", sum.Counts.Revoked)
	rec.Count("KeysReported", sum.Counts.Reported)
	rec.Count("CapExceeded", boolInt(sum.Keys.CapExceeded))
	rec.Add("RunDurationMs", float64(sum.DurationMs), metrics.Milliseconds)
	if sum.Counts.Failed > 0 {
		err = errors.Join(err, fmt.Errorf("%d deletions failed (see the summary)", sum.Counts.Failed))
	}
	st := summary.Status{Changed: sum.Counts.Revoked > 0, Failed: err != nil, CapExceeded: sum.Keys.CapExceeded}
	return sum, errors.Join(err, sweep.Publish(ctx, h.deps.Summary(), rec, sum, st))
}

// sweep fills sum. Listing errors that leave part of the organization
// unseen are returned after the rest has been swept: every planned
// deletion is justified on its own, so an unreadable project does not make
// another project's stale key less stale.
func (h *Handler) sweep(ctx context.Context, sum *SweepSummary) error {
	client, err := h.deps.AdminClient(ctx, sum.DryRun)
	if err != nil {
		return err
	}
	now := h.now()
	rules := h.deps.Common.Rules

	managed, unreadable, merr := h.readManagedSecrets(ctx, client)
	// A managed secret that cannot be read fails the sweep closed: its
	// credentials are missing from the protected set and cannot be told
	// from anyone else's, so no admin key and no service account (the two
	// kinds a managed secret holds) is revoked in this run, retirements
	// included. The run returns the error (Lambda Errors alarm).
	held := ""
	if unreadable != nil {
		held = "a managed secret could not be read (see errors): no admin key or service account is revoked in this run"
		h.deps.Log.ErrorContext(ctx, "managed secret unreadable: sweep fails closed for admin keys and service accounts", "error", unreadable)
	}
	merr = errors.Join(unreadable, merr)
	sel := &selection{cfg: h.cfg, client: client, now: now, managed: managedCredentials(managed)}
	found, serr, fatal := sel.run(ctx)
	sum.Scanned = Scanned{Projects: sel.projects, ProjectKeys: sel.keys, AdminKeys: sel.adminKeys, ManagedSecrets: len(managed)}
	if fatal != nil {
		return errors.Join(merr, fatal, serr)
	}

	plan := sweep.NewPlan(rules)
	for _, f := range found {
		if why, ok := sel.managed[f.Subject.ID]; ok {
			plan.Skip(f.Subject, why)
			continue
		}
		if held != "" && (f.Subject.Kind == "admin_api_key" || f.Subject.Kind == "service_account") {
			plan.Skip(f.Subject, held)
			continue
		}
		plan.Add(f)
	}
	for _, sk := range sel.skipped {
		plan.Skip(sk.subject, sk.why)
	}
	sum.Keys = plan.Apply(ctx, h.deps.Common.MaxDeletions, client.Concurrency())

	retPlan := sweep.NewPlan(rules)
	sum.Retirements.Pending = planRetirements(h.deps.AWS, client, managed, now, held, retPlan, h.deps.Log)
	// Retirements do not count against the cap: each was decided by a
	// rotation, they are bounded by the managed secrets, and each is
	// checked against the secret's live versions. Holding them back would
	// keep rotated-out keys alive, which is the risk rotation removes.
	ret := retPlan.Apply(ctx, math.MaxInt, client.Concurrency())
	sum.Retirements.Deletions, sum.Retirements.Skipped = ret.Deletions, ret.Skipped
	return errors.Join(merr, serr)
}

// selection finds stale credentials across the organization.
type selection struct {
	cfg     Config
	client  *adminclient.Client
	now     time.Time
	managed map[string]string // credential id -> why the sweep leaves it alone

	mu                        sync.Mutex
	projects, keys, adminKeys int
	found                     []sweep.Candidate
	userKeys                  []userKey
	// skipped are credentials selection cannot judge: usage or owner unknown.
	skipped []skip
}

// skip is a credential selection left alone, and why.
type skip struct {
	subject guard.Subject
	why     string
}

// userKey is a stale user-owned key whose owner's organization role is
// filled in once the users are listed.
type userKey struct {
	index  int
	userID string
}

// run lists projects, their keys and the admin keys, with the users listed
// alongside (for owners' roles), and returns the candidates, the errors of
// parts it could not read, and an error that makes the whole selection
// unusable.
func (s *selection) run(ctx context.Context) (found []sweep.Candidate, partial, fatal error) {
	var (
		wg    sync.WaitGroup
		roles map[string]string
		uerr  error
	)
	wg.Go(func() { roles, uerr = orgRoles(ctx, s.client) })

	projects, err := adminclient.Collect(s.client.Projects(ctx, false))
	if err != nil {
		wg.Wait()
		return nil, nil, err // the client's error names the operation
	}
	s.projects = len(projects)
	perr := adminclient.ForEach(ctx, s.client, projects, s.project)
	aerr := s.adminAPIKeys(ctx)
	wg.Wait()
	if uerr != nil {
		// Without roles, a key of an organization owner cannot be told
		// from any other: delete nothing.
		return nil, errors.Join(perr, aerr), fmt.Errorf("list users (needed to recognise owners): %w", uerr)
	}
	for _, uk := range s.userKeys {
		s.found[uk.index].Subject.OrgRole = roles[uk.userID]
	}
	return s.found, errors.Join(perr, aerr), nil
}

func orgRoles(ctx context.Context, c *adminclient.Client) (map[string]string, error) {
	roles := map[string]string{}
	for u, err := range c.Users(ctx) {
		if err != nil {
			return nil, err
		}
		roles[u.ID] = u.Role
	}
	return roles, nil
}

func (s *selection) add(c sweep.Candidate, ownerUserID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ownerUserID != "" {
		s.userKeys = append(s.userKeys, userKey{index: len(s.found), userID: ownerUserID})
	}
	s.found = append(s.found, c)
}

func (s *selection) skip(subject guard.Subject, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skipped = append(s.skipped, skip{subject, why})
}

// verdict is what selection makes of a credential's last use.
type verdict int

const (
	fresh verdict = iota
	stale
	// unknown: the API did not say when the credential was last used, so it
	// is not stale for lack of use; it is reported as skipped.
	unknown
)

// usageUnknown is the reason a credential of unknown usage is skipped.
const usageUnknown = "usage unknown: the API gave no last_used_at, so it is not judged stale"

// stale judges a credential by its last use and, when never used, its
// age, and says why. An absent last_used_at (the SDK reads it as 0) is
// unknown usage, never "never used".
func (s *selection) stale(u adminclient.Usage, created int64, unused, neverUsed time.Duration, unusedVar, neverVar string) (string, verdict) {
	switch u.State {
	case adminclient.UsageUsed:
		idle := s.now.Sub(time.Unix(u.At, 0))
		return fmt.Sprintf("unused for %s (%s %s)", config.FormatDays(idle), unusedVar, config.FormatDays(unused)), verdictOf(idle >= unused)
	case adminclient.UsageNever:
		if created <= 0 {
			return "never used, creation time unknown", unknown
		}
		age := s.now.Sub(time.Unix(created, 0))
		return fmt.Sprintf("never used, created %s ago (%s %s)", config.FormatDays(age), neverVar, config.FormatDays(neverUsed)), verdictOf(age >= neverUsed)
	}
	return usageUnknown, unknown
}

func verdictOf(isStale bool) verdict {
	if isStale {
		return stale
	}
	return fresh
}

// staleProjectKey judges a project key (a user's or a service account's).
func (s *selection) staleProjectKey(k openai.ProjectAPIKey) (string, verdict) {
	return s.stale(adminclient.ProjectKeyUsage(k), k.CreatedAt, s.cfg.StaleUnused, s.cfg.StaleNeverUsed, "ORGWARDEN_STALE_KEY_UNUSED", "ORGWARDEN_STALE_KEY_NEVER_USED")
}

// ownerUnknown is the reason a stale key whose owner is unknown is skipped:
// whether it is a user's key (deleted alone, after the owner checks) or a
// service account's (deleted only with the account) depends on it.
const ownerUnknown = "owner unknown: the API gave no owner.type this sweep knows, or no owner id"

func (s *selection) project(ctx context.Context, p openai.Project) error {
	keys, err := adminclient.Collect(s.client.ProjectAPIKeys(ctx, p.ID))
	s.mu.Lock()
	s.keys += len(keys)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	byAccount := map[string][]openai.ProjectAPIKey{}
	var ownerless []string // keys that do not say who owns them
	for _, k := range keys {
		owner := adminclient.ProjectKeyOwner(k)
		subject := guard.Subject{Kind: "project_api_key", ID: k.ID, Name: k.Name, Email: owner.Email, ProjectID: p.ID}
		if !owner.Known() {
			ownerless = append(ownerless, k.ID)
		} else if owner.Kind == adminclient.OwnerServiceAccount {
			byAccount[owner.ID] = append(byAccount[owner.ID], k)
			continue
		}
		why, v := s.staleProjectKey(k)
		switch {
		case v == fresh:
			continue
		case v == unknown:
			s.skip(subject, why)
			continue
		case !owner.Known():
			s.skip(subject, ownerUnknown+" ("+why+")")
			continue
		}
		s.add(sweep.Candidate{
			Subject: subject,
			Reason:  why,
			Delete: func(ctx context.Context, reason string) (adminclient.Outcome, error) {
				return s.client.DeleteProjectAPIKey(ctx, p.ID, k.ID, k.Name, reason)
			},
		}, owner.ID)
	}

	// A service account's keys cannot be deleted one by one: the account
	// is a candidate when every one of its keys is stale. A key that does
	// not say its owner may be any account's, fresh or not, so while the
	// project has one, no account in it is known to have only stale keys.
	for _, id := range slices.Sorted(maps.Keys(byAccount)) {
		keys := byAccount[id]
		name := adminclient.ProjectKeyOwner(keys[0]).Name
		var also []guard.Subject
		oldest, notStale := "", ""
		for _, k := range keys {
			why, v := s.staleProjectKey(k)
			if v == fresh {
				notStale = "fresh"
				break
			}
			if v == unknown {
				notStale = fmt.Sprintf("key %s: %s", k.ID, why)
				break
			}
			if oldest == "" {
				oldest = why
			}
			also = append(also, guard.Subject{Kind: "project_api_key", ID: k.ID, Name: k.Name, ProjectID: p.ID})
		}
		subject := guard.Subject{Kind: "service_account", ID: id, Name: name, ProjectID: p.ID}
		if notStale == "" && len(ownerless) > 0 {
			notStale = fmt.Sprintf("all its listed keys are stale, but keys %s of project %s do not say their owner and may be its", strings.Join(ownerless, ", "), p.ID)
		}
		switch notStale {
		case "":
		case "fresh":
			continue
		default:
			s.skip(subject, notStale)
			continue
		}
		s.add(sweep.Candidate{
			Subject:    subject,
			Also:       also,
			Reason:     fmt.Sprintf("all %d of its keys are stale (first: %s)", len(keys), oldest),
			ReportOnly: !s.cfg.DeleteStaleServiceAccounts,
			Delete: func(ctx context.Context, reason string) (adminclient.Outcome, error) {
				return s.client.DeleteServiceAccount(ctx, p.ID, id, name, reason)
			},
		}, "")
	}
	return nil
}

func (s *selection) adminAPIKeys(ctx context.Context) error {
	for k, err := range s.client.AdminAPIKeys(ctx) {
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.adminKeys++
		s.mu.Unlock()
		subject := guard.Subject{Kind: "admin_api_key", ID: k.ID, Name: k.Name, Self: s.client.IsSelf(k)}
		why, v := s.stale(adminclient.AdminKeyUsage(k), k.CreatedAt, s.cfg.AdminKeyUnused, s.cfg.AdminKeyUnused, "ORGWARDEN_ADMIN_KEY_UNUSED", "ORGWARDEN_ADMIN_KEY_UNUSED")
		switch v {
		case fresh:
			continue
		case unknown:
			s.skip(subject, why)
			continue
		}
		// The owner's role is not passed: every admin key belongs to an
		// owner, and ORGWARDEN_REVOKE_ADMIN_KEYS is the explicit consent.
		s.add(sweep.Candidate{
			Subject:    subject,
			Reason:     why,
			ReportOnly: !s.cfg.RevokeAdminKeys,
			Delete: func(ctx context.Context, reason string) (adminclient.Outcome, error) {
				return s.client.DeleteAdminAPIKey(ctx, k.ID, reason)
			},
		}, "")
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// splitErrors turns a joined error into its messages.
func splitErrors(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, splitErrors(e)...)
		}
		return out
	}
	return []string{err.Error()}
}
