package policy_test

import (
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/functions/policyguard/policy"
)

// TestEveryMistakeNamed: one document with a mistake of every kind is
// refused with each named by its path, in one error.
func TestEveryMistakeNamed(t *testing.T) {
	doc := `{
	  "version": 2,
	  "rules": [
	    {"name": "models", "enforced": true, "select": {"all": true}, "assert": {"model_permissions": {"mode": "allowlist", "models": ["gpt-4o"]}}},
	    {"name": "models", "select": {}, "assert": {}},
	    {"name": "", "select": {"name_pattern": "prod-[", "archived": "sometimes"}, "assert": {"hosted_tools": {"browser": false}, "data_retention": "forever",
	      "spend_limit_max_cents": 0, "rate_limits_max": {"gpt-4o": {}}, "max_owners": 0, "allowed_member_domains": ["a@b.com"]}},
	    {"name": "alerts", "enforce": true, "select": {"ids": ["proj_1"], "all": true}, "assert": {"spend_alerts": {"thresholds_cents": [-5]}}}
	  ],
	  "organization": [{"name": "org", "assert": {"data_retention": "organization_default"}}]
	}`
	_, err := policy.Parse([]byte(doc))
	if err == nil {
		t.Fatal("a policy full of mistakes was accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		"version: must be 1",
		"rules[0].enforced: unknown field (did you mean enforce?)",
		"rules[0].assert.model_permissions.mode: \"allowlist\" is not one of allow_list, deny_list",
		"rules[1].name: \"models\" is also the name of rules[0]",
		"rules[1].select: selects nothing",
		"rules[1].assert: asserts nothing",
		"rules[2].name: is required",
		"rules[2].select.name_pattern: \"prod-[\" is not a valid glob",
		"rules[2].select.archived: \"sometimes\" is not one of exclude, include, only",
		"rules[2].assert.hosted_tools.browser: is not a hosted tool",
		"rules[2].assert.data_retention: \"forever\" is not one of",
		"rules[2].assert.spend_limit_max_cents: must be at least 1 cent",
		"rules[2].assert.rate_limits_max.gpt-4o: caps nothing",
		"rules[2].assert.max_owners: must be at least 1",
		"rules[2].assert.allowed_member_domains[0]: \"a@b.com\" is not a domain",
		"rules[3].select: set only one of all, ids or name_pattern",
		"rules[3].assert.spend_alerts.thresholds_cents[0]: must not be negative",
		"rules[3].assert.spend_alerts.recipients: an enforced rule creates missing alerts",
		"organization[0].assert.data_retention: \"organization_default\" is not one of",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not name %q:\n%s", want, msg)
		}
	}
}

func TestTypeAndSyntaxErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{``, "empty"},
		{`{"version": 1,`, "not valid JSON"},
		{`{"version": 1, "rules": [{"name": "x", "enforce": "yes", "select": {"all": true}, "assert": {"data_retention": "none"}}]}`, "rules.enforce: must be true or false"},
	} {
		_, err := policy.Parse([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tc.doc, err, tc.want)
		}
	}
}

func TestSelects(t *testing.T) {
	tests := []struct {
		sel      policy.Select
		id, name string
		archived bool
		want     bool
	}{
		{policy.Select{All: true}, "p1", "prod", false, true},
		{policy.Select{All: true}, "p1", "prod", true, false},
		{policy.Select{All: true, Archived: "include"}, "p1", "prod", true, true},
		{policy.Select{All: true, Archived: "only"}, "p1", "prod", false, false},
		{policy.Select{All: true, Exclude: []string{"p1"}}, "p1", "prod", false, false},
		{policy.Select{All: true, Exclude: []string{"PROD"}}, "p1", "prod", false, false},
		{policy.Select{IDs: []string{"p2"}}, "p1", "prod", false, false},
		{policy.Select{NamePattern: "prod-*"}, "p1", "prod-eu", false, true},
		{policy.Select{NamePattern: "prod-*"}, "p1", "staging", false, false},
	}
	for i, tc := range tests {
		if got := tc.sel.Selects(tc.id, tc.name, tc.archived); got != tc.want {
			t.Errorf("%d: %+v selects (%s %s archived=%v) = %v, want %v", i, tc.sel, tc.id, tc.name, tc.archived, got, tc.want)
		}
	}
}
