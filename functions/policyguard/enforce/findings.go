package enforce

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/orgwarden/orgwarden/functions/policyguard/policy"
	"github.com/orgwarden/orgwarden/shared/adminclient"
)

// Finding kinds: what a finding is about.
const (
	KindModelPermissions = "model_permissions"
	KindHostedTool       = "hosted_tool"
	KindDataRetention    = "data_retention"
	KindSpendAlert       = "spend_alert"
	KindSpendLimit       = "spend_limit"
	KindRateLimit        = "rate_limit"
	KindOwners           = "owners"
	KindMemberDomain     = "member_domain"

	KindOrgDataRetention = "organization_data_retention"
	KindOrgSpendLimit    = "organization_spend_limit"
	KindOrgSpendAlert    = "organization_spend_alert"
)

// Finding is one way the organization differs from the policy.
type Finding struct {
	Rule        string `json:"rule"`
	Kind        string `json:"kind"`
	ProjectID   string `json:"project_id,omitempty"` // empty: the organization
	ProjectName string `json:"project_name,omitempty"`
	// Subject narrows the finding within the setting: a model, a tool, a
	// threshold, a user's email.
	Subject  string `json:"subject,omitempty"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
	Enforce  bool   `json:"enforce"`
	// Remediable: an enforced rule can fix this finding (owners and member
	// domains never are; conflicting rules neither).
	Remediable bool   `json:"remediable"`
	Note       string `json:"note,omitempty"`
	// Outcome is what the run did about it (see Apply).
	Outcome adminclient.Outcome `json:"outcome,omitempty"`
	Error   string              `json:"error,omitempty"`

	fix func(ctx context.Context, reason string) (adminclient.Outcome, error)
	// target names the setting the fix writes, to find two rules writing one setting.
	target string
}

// Key identifies a finding across runs: new and resolved are judged by it.
func (f Finding) Key() string {
	return strings.Join([]string{f.Rule, f.Kind, orOrg(f.ProjectID), f.Subject}, "|")
}

func orOrg(projectID string) string {
	if projectID == "" {
		return "organization"
	}
	return projectID
}

// Reason is the reason a change carries in its log line.
func (f Finding) Reason() string {
	return fmt.Sprintf("policy rule %q: %s expected %s, actual %s", f.Rule, f.Kind, f.Expected, f.Actual)
}

// settings are what a project is read for.
type setting int

const (
	setModels setting = iota
	setTools
	setRetention
	setAlerts
	setLimit
	setRateLimits
	setUsers
)

func needs(a policy.Assert) []setting {
	var out []setting
	add := func(ok bool, s setting) {
		if ok && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(a.ModelPermissions != nil, setModels)
	add(len(a.HostedTools) > 0, setTools)
	add(a.DataRetention != "", setRetention)
	add(a.SpendAlerts != nil, setAlerts)
	add(a.SpendLimitMaxCents != nil, setLimit)
	add(len(a.RateLimitsMax) > 0, setRateLimits)
	add(a.MaxOwners != nil || len(a.AllowedMemberDomains) > 0, setUsers)
	return out
}

// ProjectState is what was read of one project.
type ProjectState struct {
	ID, Name   string
	Archived   bool
	Models     *adminclient.ModelPermissions
	Tools      map[string]bool
	Retention  string
	Alerts     []adminclient.SpendAlert
	Limit      *adminclient.SpendLimit
	RateLimits []adminclient.RateLimit
	Users      []Member
}

// Member is a project user.
type Member struct{ ID, Email, Role string }

// OrgState is what was read of the organization.
type OrgState struct {
	Retention string
	Limit     *adminclient.SpendLimit
	Alerts    []adminclient.SpendAlert
}

// Plan is one comparison of the organization with a policy: the selection
// and the findings that both the preview and the real run act on.
type Plan struct {
	Projects []*ProjectState // selected by at least one rule
	Org      *OrgState
	Findings []Finding
	// Scanned is the number of projects listed.
	Scanned int
}

// Evaluate reads what the policy asserts and compares it. Each project is
// read only for the settings the rules that select it assert, and the reads
// run concurrently (client.Concurrency() at a time), one request per
// (project, setting).
func Evaluate(ctx context.Context, client *adminclient.Client, pol *policy.Policy) (*Plan, error) {
	plan := &Plan{}
	archivedToo := false
	for _, r := range pol.Rules {
		archivedToo = archivedToo || r.Select.Archived == policy.ArchivedInclude || r.Select.Archived == policy.ArchivedOnly
	}
	type task struct {
		p *ProjectState
		s setting
	}
	var tasks []task
	for p, err := range client.Projects(ctx, archivedToo) {
		if err != nil {
			return nil, err
		}
		plan.Scanned++
		st := &ProjectState{ID: p.ID, Name: p.Name, Archived: p.Status == "archived" || p.ArchivedAt != 0}
		var want []setting
		for _, r := range pol.Rules {
			if r.Select.Selects(st.ID, st.Name, st.Archived) {
				for _, s := range needs(r.Assert) {
					if !slices.Contains(want, s) {
						want = append(want, s)
					}
				}
			}
		}
		if len(want) == 0 {
			continue
		}
		plan.Projects = append(plan.Projects, st)
		for _, s := range want {
			tasks = append(tasks, task{st, s})
		}
	}
	var mu sync.Mutex // guards the ProjectState fields two tasks of one project write
	err := adminclient.ForEach(ctx, client, tasks, func(ctx context.Context, t task) error {
		return read(ctx, client, t.p, t.s, &mu)
	})
	if err != nil {
		return nil, err
	}
	if len(pol.Organization) > 0 {
		org, err := readOrg(ctx, client, pol.Organization)
		if err != nil {
			return nil, err
		}
		plan.Org = org
	}
	plan.Findings = Compare(pol, plan.Projects, plan.Org, client)
	return plan, nil
}

func read(ctx context.Context, c *adminclient.Client, p *ProjectState, s setting, mu *sync.Mutex) error {
	set := func(f func()) { mu.Lock(); f(); mu.Unlock() }
	switch s {
	case setModels:
		m, err := c.ModelPermissions(ctx, p.ID)
		if err != nil {
			return err
		}
		set(func() { p.Models = &m })
	case setTools:
		t, err := c.HostedToolPermissions(ctx, p.ID)
		if err != nil {
			return err
		}
		set(func() { p.Tools = t })
	case setRetention:
		r, err := c.ProjectDataRetention(ctx, p.ID)
		if err != nil {
			return err
		}
		set(func() { p.Retention = r })
	case setAlerts:
		a, err := adminclient.Collect(c.ProjectSpendAlerts(ctx, p.ID))
		if err != nil {
			return err
		}
		set(func() { p.Alerts = a })
	case setLimit:
		l, err := c.ProjectSpendLimit(ctx, p.ID)
		if err != nil {
			return err
		}
		set(func() { p.Limit = l })
	case setRateLimits:
		r, err := adminclient.Collect(c.RateLimits(ctx, p.ID))
		if err != nil {
			return err
		}
		set(func() { p.RateLimits = r })
	case setUsers:
		var users []Member
		for u, err := range c.ProjectUsers(ctx, p.ID) {
			if err != nil {
				return err
			}
			users = append(users, Member{ID: u.ID, Email: u.Email, Role: string(u.Role)})
		}
		set(func() { p.Users = users })
	}
	return nil
}

func readOrg(ctx context.Context, c *adminclient.Client, rules []policy.OrgRule) (*OrgState, error) {
	org := &OrgState{}
	var retention, limit, alerts bool
	for _, r := range rules {
		retention = retention || r.Assert.DataRetention != ""
		limit = limit || r.Assert.SpendLimitMaxCents != nil
		alerts = alerts || r.Assert.SpendAlerts != nil
	}
	var err error
	if retention {
		if org.Retention, err = c.OrganizationDataRetention(ctx); err != nil {
			return nil, err
		}
	}
	if limit {
		if org.Limit, err = c.OrganizationSpendLimit(ctx); err != nil {
			return nil, err
		}
	}
	if alerts {
		if org.Alerts, err = adminclient.Collect(c.OrganizationSpendAlerts(ctx)); err != nil {
			return nil, err
		}
	}
	return org, nil
}

// Compare turns what was read into findings. c makes the fixes (nil: no
// fixes, e.g. for a plan that is only shown).
func Compare(pol *policy.Policy, projects []*ProjectState, org *OrgState, c *adminclient.Client) []Finding {
	var out []Finding
	for _, r := range pol.Rules {
		for _, p := range projects {
			if r.Select.Selects(p.ID, p.Name, p.Archived) {
				out = append(out, projectFindings(r, p, c)...)
			}
		}
	}
	if org != nil {
		for _, r := range pol.Organization {
			out = append(out, orgFindings(r, org, c)...)
		}
	}
	markConflicts(out)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.ProjectID != b.ProjectID {
			return a.ProjectID < b.ProjectID
		}
		return a.Key() < b.Key()
	})
	return out
}

// markConflicts leaves alone a setting two enforced rules would both write:
// each would undo the other on every run, and a run must end with nothing
// left to do.
func markConflicts(fs []Finding) {
	by := map[string][]int{}
	for i, f := range fs {
		if f.Enforce && f.Remediable {
			by[f.target] = append(by[f.target], i)
		}
	}
	for _, idx := range by {
		rules := map[string]bool{}
		for _, i := range idx {
			rules[fs[i].Rule] = true
		}
		if len(rules) < 2 {
			continue
		}
		names := make([]string, 0, len(rules))
		for n := range rules {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, i := range idx {
			fs[i].Remediable, fs[i].fix = false, nil
			fs[i].Note = "not remediated: rules " + strings.Join(names, ", ") + " both set this; make them agree"
		}
	}
}

func cents(v int64) string { return "$" + strconv.FormatFloat(float64(v)/100, 'f', 2, 64) }

func modelsString(m adminclient.ModelPermissions) string {
	ids := slices.Clone(m.ModelIDs)
	slices.Sort(ids)
	return m.Mode + " [" + strings.Join(ids, ", ") + "]"
}

func projectFindings(r policy.Rule, p *ProjectState, c *adminclient.Client) []Finding {
	a := r.Assert
	var out []Finding
	add := func(f Finding, target string, fix func(ctx context.Context, reason string) (adminclient.Outcome, error)) {
		f.Rule, f.ProjectID, f.ProjectName, f.Enforce = r.Name, p.ID, p.Name, r.Enforce
		f.target = p.ID + "|" + target
		if fix != nil && c != nil {
			f.Remediable, f.fix = true, fix
		} else if fix != nil {
			f.Remediable = true
		}
		if p.Archived && f.Remediable {
			// The API refuses changes to an archived project.
			f.Remediable, f.fix, f.Note = false, nil, "archived projects cannot be changed"
		}
		out = append(out, f)
	}
	if m := a.ModelPermissions; m != nil && p.Models != nil {
		actual := *p.Models
		if m.Mode != "" {
			want := adminclient.ModelPermissions{Mode: m.Mode, ModelIDs: slices.Clone(m.Models)}
			if modelsString(want) != modelsString(actual) {
				add(Finding{Kind: KindModelPermissions, Expected: modelsString(want), Actual: modelsString(actual)}, "models",
					func(ctx context.Context, reason string) (adminclient.Outcome, error) {
						return c.SetModelPermissions(ctx, p.ID, want, reason)
					})
			}
		} else {
			var allowed []string
			for _, id := range m.MustNotAllow {
				if actual.Allows(id) {
					allowed = append(allowed, id)
				}
			}
			if len(allowed) > 0 {
				want := adminclient.ModelPermissions{Mode: actual.Mode}
				if actual.Mode == adminclient.AllowList {
					for _, id := range actual.ModelIDs {
						if !slices.Contains(allowed, id) {
							want.ModelIDs = append(want.ModelIDs, id)
						}
					}
				} else {
					want.Mode = adminclient.DenyList
					want.ModelIDs = append(slices.Clone(actual.ModelIDs), allowed...)
				}
				if want.ModelIDs == nil {
					want.ModelIDs = []string{}
				}
				add(Finding{Kind: KindModelPermissions, Subject: "must_not_allow",
					Expected: "not allowed: " + strings.Join(m.MustNotAllow, ", "), Actual: modelsString(actual) + " allows " + strings.Join(allowed, ", ")}, "models",
					func(ctx context.Context, reason string) (adminclient.Outcome, error) {
						return c.SetModelPermissions(ctx, p.ID, want, reason)
					})
			}
		}
	}
	for _, tool := range sortedKeys(a.HostedTools) {
		want := a.HostedTools[tool]
		got, known := p.Tools[tool]
		if p.Tools == nil || (known && got == want) {
			continue
		}
		actual := "absent"
		if known {
			actual = enabled(got)
		}
		add(Finding{Kind: KindHostedTool, Subject: tool, Expected: enabled(want), Actual: actual}, "tool|"+tool,
			func(ctx context.Context, reason string) (adminclient.Outcome, error) {
				return c.SetHostedToolPermissions(ctx, p.ID, map[string]bool{tool: want}, reason)
			})
	}
	if a.DataRetention != "" && p.Retention != "" && p.Retention != a.DataRetention {
		want := a.DataRetention
		add(Finding{Kind: KindDataRetention, Expected: want, Actual: p.Retention}, "retention",
			func(ctx context.Context, reason string) (adminclient.Outcome, error) {
				return c.SetProjectDataRetention(ctx, p.ID, want, reason)
			})
	}
	if al := a.SpendAlerts; al != nil {
		for _, th := range missingThresholds(al.ThresholdsCents, p.Alerts) {
			var fix func(ctx context.Context, reason string) (adminclient.Outcome, error)
			if len(al.Recipients) > 0 {
				fix = func(ctx context.Context, reason string) (adminclient.Outcome, error) {
					return c.CreateProjectSpendAlert(ctx, p.ID, th, al.Recipients, reason)
				}
			}
			add(Finding{Kind: KindSpendAlert, Subject: strconv.FormatInt(th, 10), Expected: "an alert at " + cents(th), Actual: "none"},
				"alert|"+strconv.FormatInt(th, 10), fix)
		}
	}
	if max := a.SpendLimitMaxCents; max != nil {
		limit := *max
		switch {
		case p.Limit == nil:
			add(Finding{Kind: KindSpendLimit, Expected: "at most " + cents(limit), Actual: "no hard limit"}, "limit",
				func(ctx context.Context, reason string) (adminclient.Outcome, error) {
					return c.SetProjectSpendLimit(ctx, p.ID, limit, reason)
				})
		case p.Limit.ThresholdAmount > limit:
			add(Finding{Kind: KindSpendLimit, Expected: "at most " + cents(limit), Actual: cents(p.Limit.ThresholdAmount)}, "limit",
				func(ctx context.Context, reason string) (adminclient.Outcome, error) {
					return c.SetProjectSpendLimit(ctx, p.ID, limit, reason)
				})
		}
	}
	for _, model := range sortedKeys(a.RateLimitsMax) {
		capv := a.RateLimitsMax[model]
		i := slices.IndexFunc(p.RateLimits, func(rl adminclient.RateLimit) bool { return rl.Model == model })
		if i < 0 {
			continue
		}
		rl := p.RateLimits[i]
		over := adminclient.RateLimit{ID: rl.ID, Model: model}
		var exp, act []string
		if capv.MaxRequestsPer1Minute > 0 && rl.MaxRequestsPer1Minute > capv.MaxRequestsPer1Minute {
			over.MaxRequestsPer1Minute = capv.MaxRequestsPer1Minute
			exp, act = append(exp, fmt.Sprintf("rpm ≤ %d", capv.MaxRequestsPer1Minute)), append(act, fmt.Sprintf("rpm %d", rl.MaxRequestsPer1Minute))
		}
		if capv.MaxTokensPer1Minute > 0 && rl.MaxTokensPer1Minute > capv.MaxTokensPer1Minute {
			over.MaxTokensPer1Minute = capv.MaxTokensPer1Minute
			exp, act = append(exp, fmt.Sprintf("tpm ≤ %d", capv.MaxTokensPer1Minute)), append(act, fmt.Sprintf("tpm %d", rl.MaxTokensPer1Minute))
		}
		if len(exp) == 0 {
			continue
		}
		add(Finding{Kind: KindRateLimit, Subject: model, Expected: strings.Join(exp, ", "), Actual: strings.Join(act, ", ")}, "rate|"+model,
			func(ctx context.Context, reason string) (adminclient.Outcome, error) {
				return c.SetRateLimit(ctx, p.ID, over, reason)
			})
	}
	// Owners and members are reported only: removing a person is
	// offboarding's job, with its journal and restore, not a setting to flip.
	if a.MaxOwners != nil && p.Users != nil {
		var owners []string
		for _, u := range p.Users {
			if u.Role == "owner" {
				owners = append(owners, u.Email)
			}
		}
		if len(owners) > *a.MaxOwners {
			sort.Strings(owners)
			add(Finding{Kind: KindOwners, Expected: fmt.Sprintf("at most %d owners", *a.MaxOwners),
				Actual: fmt.Sprintf("%d owners: %s", len(owners), strings.Join(owners, ", "))}, "owners", nil)
		}
	}
	if len(a.AllowedMemberDomains) > 0 && p.Users != nil {
		for _, u := range p.Users {
			_, domain, _ := strings.Cut(strings.ToLower(u.Email), "@")
			if !slices.ContainsFunc(a.AllowedMemberDomains, func(d string) bool { return strings.EqualFold(strings.TrimSpace(d), domain) }) {
				add(Finding{Kind: KindMemberDomain, Subject: u.Email, Expected: "a member from " + strings.Join(a.AllowedMemberDomains, ", "),
					Actual: u.Email + " (" + u.Role + ")"}, "member|"+u.ID, nil)
			}
		}
	}
	return out
}

func orgFindings(r policy.OrgRule, org *OrgState, c *adminclient.Client) []Finding {
	a := r.Assert
	var out []Finding
	add := func(f Finding, target string, fix func(ctx context.Context, reason string) (adminclient.Outcome, error)) {
		f.Rule, f.Enforce, f.target = r.Name, r.Enforce, "organization|"+target
		if fix != nil {
			f.Remediable = true
			if c != nil {
				f.fix = fix
			}
		}
		out = append(out, f)
	}
	if a.DataRetention != "" && org.Retention != a.DataRetention {
		want := a.DataRetention
		add(Finding{Kind: KindOrgDataRetention, Expected: want, Actual: org.Retention}, "retention",
			func(ctx context.Context, reason string) (adminclient.Outcome, error) {
				return c.SetOrganizationDataRetention(ctx, want, reason)
			})
	}
	if max := a.SpendLimitMaxCents; max != nil {
		limit := *max
		actual := "no hard limit"
		if org.Limit != nil {
			actual = cents(org.Limit.ThresholdAmount)
		}
		if org.Limit == nil || org.Limit.ThresholdAmount > limit {
			add(Finding{Kind: KindOrgSpendLimit, Expected: "at most " + cents(limit), Actual: actual}, "limit",
				func(ctx context.Context, reason string) (adminclient.Outcome, error) {
					return c.SetOrganizationSpendLimit(ctx, limit, reason)
				})
		}
	}
	if al := a.SpendAlerts; al != nil {
		for _, th := range missingThresholds(al.ThresholdsCents, org.Alerts) {
			var fix func(ctx context.Context, reason string) (adminclient.Outcome, error)
			if len(al.Recipients) > 0 {
				fix = func(ctx context.Context, reason string) (adminclient.Outcome, error) {
					return c.CreateOrganizationSpendAlert(ctx, th, al.Recipients, reason)
				}
			}
			add(Finding{Kind: KindOrgSpendAlert, Subject: strconv.FormatInt(th, 10), Expected: "an alert at " + cents(th), Actual: "none"},
				"alert|"+strconv.FormatInt(th, 10), fix)
		}
	}
	return out
}

// missingThresholds are the wanted thresholds no monthly USD alert has.
func missingThresholds(want []int64, have []adminclient.SpendAlert) []int64 {
	var out []int64
	for _, th := range want {
		if slices.Contains(out, th) {
			continue
		}
		if !slices.ContainsFunc(have, func(a adminclient.SpendAlert) bool {
			return a.ThresholdAmount == th && a.Currency == "USD" && a.Interval == "month"
		}) {
			out = append(out, th)
		}
	}
	return out
}

func enabled(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
