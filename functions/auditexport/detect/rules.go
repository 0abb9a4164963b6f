package detect

import (
	"fmt"
	"slices"
	"time"
)

// Severity of a finding, in Security Hub's labels.
type Severity string

// Severities, least to most urgent.
const (
	Low      Severity = "LOW"
	Medium   Severity = "MEDIUM"
	High     Severity = "HIGH"
	Critical Severity = "CRITICAL"
)

// Op is how a Match compares a field.
type Op string

// Ops.
const (
	// Equals: the field is one of Values (case-insensitive).
	Equals Op = "equals"
	// DomainNotIn: the field is an email whose domain is not in the
	// configured allowed domains (ORGWARDEN_DETECT_ALLOWED_DOMAINS). With
	// no allowed domains configured the match never holds: the rule is off.
	DomainNotIn Op = "domain_not_in_allowed"
	// InProtectedProjects: the field is a project id or name listed in
	// ORGWARDEN_PROTECTED_PROJECTS.
	InProtectedProjects Op = "in_protected_projects"
	// OffboardedBefore: the event's actor (user id or email) was removed
	// from the organization by orgwarden's offboarding (its journal)
	// before the event's effective_at.
	OffboardedBefore Op = "offboarded_before"
)

// Match is one condition on an event field. Field paths: "type", "actor.type",
// "actor.user_id", "actor.email", "actor.ip", "actor.api_key_id",
// "actor.service_account_id", "project.id", "project.name", and
// "payload.a.b" for the event's type-named payload object
// ({"type":"invite.sent","invite.sent":{"data":{"email":...}}} is
// payload.data.email). OffboardedBefore ignores Field.
type Match struct {
	Field  string   `json:"field,omitempty"`
	Op     Op       `json:"op"`
	Values []string `json:"values,omitempty"`
}

// GroupBy is what a threshold rule counts events per.
type GroupBy string

// Group keys.
const (
	ByNone    GroupBy = ""      // the whole organization
	ByActor   GroupBy = "actor" // user id, else service account, else API key id
	ByIP      GroupBy = "ip"    // session ip_address; events without one are not counted
	ByProject GroupBy = "project"
)

// Rule is one detection, as data. A rule fires when Threshold events of one
// of Types, each satisfying every Match, fall within Window of each other
// in the same group; a Threshold of 1 fires on every matching event.
type Rule struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	// Catches is the attack or mistake the rule is there for.
	Catches   string        `json:"catches"`
	Types     []string      `json:"types"`
	Match     []Match       `json:"match,omitempty"`
	Threshold int           `json:"threshold"`
	Window    time.Duration `json:"window"`
	GroupBy   GroupBy       `json:"group_by,omitempty"`
}

// Burst reports whether the rule counts events over a window.
func (r Rule) Burst() bool { return r.Threshold > 1 }

// Rules is every detection orgwarden ships, versioned with the code. Each
// has a test feeding it events that must and must not fire (rules_test.go).
// Event types and payload fields are those of the AuditLog schema in the
// Admin API's OpenAPI document.
var Rules = []Rule{
	{
		ID: "api-key-burst", Severity: High, Title: "Burst of API key creation",
		Catches: "A stolen admin key or compromised account minting project or service-account keys " +
			"for exfiltration or persistence: far more api_key.created by one actor than normal provisioning.",
		Types: []string{"api_key.created", "tenant.project_api_key.created"}, Threshold: 10, Window: 10 * time.Minute, GroupBy: ByActor,
	},
	{
		ID: "deletion-burst", Severity: High, Title: "Burst of deletions",
		Catches: "Destructive activity (sabotage, covering tracks, a runaway script): many keys, users, " +
			"service accounts, projects or other resources deleted by one actor in minutes.",
		Types: []string{"api_key.deleted", "user.deleted", "service_account.deleted", "project.deleted", "project.archived",
			"invite.deleted", "certificate.deleted", "group.deleted", "role.deleted", "resource.deleted", "ip_allowlist.deleted",
			"tenant.admin_api_key.deleted"},
		Threshold: 20, Window: 10 * time.Minute, GroupBy: ByActor,
	},
	{
		ID: "admin-key-created", Severity: High, Title: "Admin API key created",
		Catches: "A new admin key is full control of the organization: persistence for an attacker, " +
			"or a long-lived credential someone created outside the rotation process.",
		Types: []string{"tenant.admin_api_key.created"}, Threshold: 1,
	},
	{
		ID: "raised-to-owner", Severity: Critical, Title: "User or service account given the owner role",
		Catches: "Privilege escalation: an account raised to owner (or added as owner) can create admin keys, " +
			"remove other owners and change every setting.",
		Types: []string{"user.updated", "user.added", "service_account.updated", "service_account.created", "invite.sent"},
		Match: []Match{{Field: "payload.*.role", Op: Equals, Values: []string{"owner"}}}, Threshold: 1,
	},
	{
		ID: "login-failed-actor", Severity: Medium, Title: "Repeated failed logins for one account",
		Catches: "Password guessing or credential stuffing against one account.",
		Types:   []string{"login.failed"}, Threshold: 5, Window: 15 * time.Minute, GroupBy: ByActor,
	},
	{
		ID: "login-failed-ip", Severity: Medium, Title: "Repeated failed logins from one IP address",
		Catches: "Password spraying: one source trying many accounts (or one) in a short time.",
		Types:   []string{"login.failed"}, Threshold: 10, Window: 15 * time.Minute, GroupBy: ByIP,
	},
	{
		ID: "invite-outside-domain", Severity: Medium, Title: "Invite to an email outside the allowed domains",
		Catches: "Access granted to a personal or foreign address: a mistake, or an insider inviting an outside party.",
		Types:   []string{"invite.sent"},
		Match:   []Match{{Field: "payload.data.email", Op: DomainNotIn}}, Threshold: 1,
	},
	{
		ID: "org-settings-changed", Severity: Low, Title: "Audit-relevant organization change",
		Catches: "Changes auditors ask about and attackers make to weaken controls or raise spend: organization settings " +
			"(including API call logging), rate limits, spend and usage limits, billing alerts, certificates, IP allowlists, SCIM.",
		Types: []string{"organization.updated", "rate_limit.updated", "rate_limit.deleted",
			"tenant.billing.overage_limit.updated", "tenant.billing.alerts.updated", "tenant.usage_limit.workspace.updated",
			"certificate.created", "certificate.updated", "certificate.deleted", "certificates.activated", "certificates.deactivated",
			"ip_allowlist.created", "ip_allowlist.updated", "ip_allowlist.deleted", "ip_allowlist.config.activated",
			"ip_allowlist.config.deactivated", "scim.enabled", "scim.disabled"},
		Threshold: 1,
	},
	{
		ID: "activity-after-offboarding", Severity: Critical, Title: "Activity by a person after offboarding",
		Catches: "Access that survived offboarding: a session, key or account of someone orgwarden removed " +
			"from the organization still acting after the removal.",
		Types: []string{"*"}, Match: []Match{{Op: OffboardedBefore}}, Threshold: 1,
	},
	{
		ID: "key-in-protected-project", Severity: High, Title: "API key created in a protected project",
		Catches: "A new credential for a project marked protected (production, regulated data): keys there " +
			"are expected only through the controlled path.",
		Types: []string{"api_key.created", "tenant.project_api_key.created"},
		Match: []Match{{Field: "project.id", Op: InProtectedProjects}}, Threshold: 1,
	},
}

// RuleByID finds a shipped rule.
func RuleByID(id string) (Rule, bool) {
	i := slices.IndexFunc(Rules, func(r Rule) bool { return r.ID == id })
	if i < 0 {
		return Rule{}, false
	}
	return Rules[i], true
}

// Validate checks a rule set: unique ids, known severities, ops and
// groupings, a window for every burst.
func Validate(rules []Rule) error {
	seen := map[string]bool{}
	for _, r := range rules {
		switch {
		case r.ID == "" || seen[r.ID]:
			return fmt.Errorf("rule %q: empty or duplicate id", r.ID)
		case !slices.Contains([]Severity{Low, Medium, High, Critical}, r.Severity):
			return fmt.Errorf("rule %s: severity %q", r.ID, r.Severity)
		case len(r.Types) == 0:
			return fmt.Errorf("rule %s: no event types", r.ID)
		case r.Threshold < 1:
			return fmt.Errorf("rule %s: threshold %d", r.ID, r.Threshold)
		case r.Threshold > 1 && r.Window <= 0:
			return fmt.Errorf("rule %s: a burst needs a window", r.ID)
		case !slices.Contains([]GroupBy{ByNone, ByActor, ByIP, ByProject}, r.GroupBy):
			return fmt.Errorf("rule %s: group by %q", r.ID, r.GroupBy)
		case r.Title == "" || r.Catches == "":
			return fmt.Errorf("rule %s: say what it catches", r.ID)
		}
		for _, m := range r.Match {
			if !slices.Contains([]Op{Equals, DomainNotIn, InProtectedProjects, OffboardedBefore}, m.Op) {
				return fmt.Errorf("rule %s: op %q", r.ID, m.Op)
			}
			if m.Op != OffboardedBefore && m.Field == "" {
				return fmt.Errorf("rule %s: %s needs a field", r.ID, m.Op)
			}
		}
		seen[r.ID] = true
	}
	return nil
}
