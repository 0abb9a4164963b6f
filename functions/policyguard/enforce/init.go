package enforce

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/orgwarden/orgwarden/functions/policyguard/policy"
	"github.com/orgwarden/orgwarden/shared/adminclient"
)

// Describe writes a policy that holds the organization as it is now:
// one report-only rule per active project (by id) asserting each setting's
// current value, and one for the organization. A team starts from it with
// no drift, then tightens and enforces rule by rule.
func Describe(ctx context.Context, client *adminclient.Client) (*policy.Policy, error) {
	// Read everything through the one evaluation path, with a policy that
	// asks for every setting of every active project.
	max := int64(1)
	one := 1
	probe := &policy.Policy{Version: policy.Version,
		Rules: []policy.Rule{{Name: "describe", Select: policy.Select{All: true}, Assert: policy.Assert{
			ModelPermissions: &policy.ModelRule{Mode: adminclient.DenyList}, HostedTools: map[string]bool{"mcp": true},
			DataRetention: "none", SpendAlerts: &policy.AlertRule{ThresholdsCents: []int64{0}}, SpendLimitMaxCents: &max,
			RateLimitsMax: map[string]policy.RateCap{"-": {MaxRequestsPer1Minute: 1}}, MaxOwners: &one,
		}}},
		Organization: []policy.OrgRule{{Name: "describe", Assert: policy.OrgAssert{DataRetention: "zero_data_retention",
			SpendLimitMaxCents: &max, SpendAlerts: &policy.AlertRule{ThresholdsCents: []int64{0}}}}},
	}
	plan, err := Evaluate(ctx, client, probe)
	if err != nil {
		return nil, err
	}
	out := &policy.Policy{Version: policy.Version, Rules: []policy.Rule{}}
	if o := plan.Org; o != nil {
		a := policy.OrgAssert{DataRetention: o.Retention}
		if o.Limit != nil {
			a.SpendLimitMaxCents = &o.Limit.ThresholdAmount
		}
		if th := thresholds(o.Alerts); len(th) > 0 {
			a.SpendAlerts = &policy.AlertRule{ThresholdsCents: th}
		}
		if a.DataRetention != "" || a.SpendLimitMaxCents != nil || a.SpendAlerts != nil {
			out.Organization = []policy.OrgRule{{Name: "organization", Assert: a}}
		}
	}
	for _, p := range plan.Projects {
		a := policy.Assert{DataRetention: p.Retention}
		if p.Models != nil {
			ids := slices.Clone(p.Models.ModelIDs)
			slices.Sort(ids)
			a.ModelPermissions = &policy.ModelRule{Mode: p.Models.Mode, Models: ids}
		}
		for tool, on := range p.Tools {
			if slices.Contains(policy.HostedTools, tool) {
				if a.HostedTools == nil {
					a.HostedTools = map[string]bool{}
				}
				a.HostedTools[tool] = on
			}
		}
		if p.Limit != nil {
			v := p.Limit.ThresholdAmount
			a.SpendLimitMaxCents = &v
		}
		if th := thresholds(p.Alerts); len(th) > 0 {
			a.SpendAlerts = &policy.AlertRule{ThresholdsCents: th}
		}
		for _, rl := range p.RateLimits {
			if rl.MaxRequestsPer1Minute > 0 || rl.MaxTokensPer1Minute > 0 {
				if a.RateLimitsMax == nil {
					a.RateLimitsMax = map[string]policy.RateCap{}
				}
				a.RateLimitsMax[rl.Model] = policy.RateCap{MaxRequestsPer1Minute: rl.MaxRequestsPer1Minute, MaxTokensPer1Minute: rl.MaxTokensPer1Minute}
			}
		}
		owners, domains := 0, map[string]bool{}
		for _, u := range p.Users {
			if u.Role == "owner" {
				owners++
			}
			if _, d, ok := strings.Cut(strings.ToLower(u.Email), "@"); ok && d != "" {
				domains[d] = true
			}
		}
		if owners > 0 {
			a.MaxOwners = &owners
		}
		for d := range domains {
			a.AllowedMemberDomains = append(a.AllowedMemberDomains, d)
		}
		sort.Strings(a.AllowedMemberDomains)
		out.Rules = append(out.Rules, policy.Rule{Name: "project " + p.Name + " (" + p.ID + ")", Select: policy.Select{IDs: []string{p.ID}}, Assert: a})
	}
	if errs := out.Validate(); len(errs) > 0 {
		// Describing what the API returned must give a valid policy; if not,
		// the API said something this code does not expect.
		return nil, joinErrs(errs)
	}
	return out, nil
}

func thresholds(alerts []adminclient.SpendAlert) []int64 {
	var out []int64
	for _, a := range alerts {
		if a.Currency == "USD" && a.Interval == "month" && !slices.Contains(out, a.ThresholdAmount) {
			out = append(out, a.ThresholdAmount)
		}
	}
	slices.Sort(out)
	return out
}
