// Package policy is the policyguard function's declarative policy: rules
// that select projects and state what must hold for them, and rules for
// the organization itself. A document is validated whole before anything is
// read from the organization, and every problem is named at once with its
// path (rules[2].select.name_pattern), so a team fixes a policy in one go.
package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Version is the one policy format this code reads.
const Version = 1

// Policy is a policy document.
type Policy struct {
	Version int `json:"version"`
	// Rules hold for projects.
	Rules []Rule `json:"rules"`
	// Organization rules hold for the organization's own settings.
	Organization []OrgRule `json:"organization,omitempty"`
}

// Rule selects projects and asserts settings for each.
type Rule struct {
	Name string `json:"name"`
	// Enforce: remediate findings (within the run's guards); otherwise report them.
	Enforce bool   `json:"enforce,omitempty"`
	Select  Select `json:"select"`
	Assert  Assert `json:"assert"`
}

// Archived selection values.
const (
	ArchivedExclude = "exclude" // default: active projects only
	ArchivedInclude = "include"
	ArchivedOnly    = "only"
)

// Select chooses projects. All, IDs and NamePattern are alternatives; a
// project named in Exclude (by id or name) is never selected.
type Select struct {
	All         bool     `json:"all,omitempty"`
	IDs         []string `json:"ids,omitempty"`
	NamePattern string   `json:"name_pattern,omitempty"` // path.Match glob on the project name
	Exclude     []string `json:"exclude,omitempty"`
	Archived    string   `json:"archived,omitempty"`
}

// Assert is what must hold for each selected project. Absent means not checked.
type Assert struct {
	ModelPermissions *ModelRule      `json:"model_permissions,omitempty"`
	HostedTools      map[string]bool `json:"hosted_tools,omitempty"`
	DataRetention    string          `json:"data_retention,omitempty"`
	SpendAlerts      *AlertRule      `json:"spend_alerts,omitempty"`
	// SpendLimitMaxCents: a hard spend limit must be set, at most this.
	SpendLimitMaxCents *int64 `json:"spend_limit_max_cents,omitempty"`
	// RateLimitsMax caps per model; a model the project has no limit for is not checked.
	RateLimitsMax map[string]RateCap `json:"rate_limits_max,omitempty"`
	// MaxOwners: at most this many users with the project role owner (reported, never remediated).
	MaxOwners *int `json:"max_owners,omitempty"`
	// AllowedMemberDomains: every project user's email is in one of these
	// domains (reported, never remediated).
	AllowedMemberDomains []string `json:"allowed_member_domains,omitempty"`
}

// ModelRule is either an exact policy (Mode and Models) or a list of
// models that must not be allowed, whatever the mode.
type ModelRule struct {
	Mode         string   `json:"mode,omitempty"`
	Models       []string `json:"models,omitempty"`
	MustNotAllow []string `json:"must_not_allow,omitempty"`
}

// AlertRule: a monthly USD spend alert must exist at each threshold.
// Recipients are whom a remediation's new alert mails (required to enforce).
type AlertRule struct {
	ThresholdsCents []int64  `json:"thresholds_cents"`
	Recipients      []string `json:"recipients,omitempty"`
}

// RateCap is the most a model's limits may be; zero is not checked.
type RateCap struct {
	MaxRequestsPer1Minute int64 `json:"max_requests_per_1_minute,omitempty"`
	MaxTokensPer1Minute   int64 `json:"max_tokens_per_1_minute,omitempty"`
}

// OrgRule asserts the organization's own settings.
type OrgRule struct {
	Name    string    `json:"name"`
	Enforce bool      `json:"enforce,omitempty"`
	Assert  OrgAssert `json:"assert"`
}

// OrgAssert is what must hold for the organization.
type OrgAssert struct {
	DataRetention      string     `json:"data_retention,omitempty"`
	SpendLimitMaxCents *int64     `json:"spend_limit_max_cents,omitempty"`
	SpendAlerts        *AlertRule `json:"spend_alerts,omitempty"`
}

// Values the API accepts, from the spec.
var (
	ProjectRetentions = []string{"organization_default", "none", "zero_data_retention", "modified_abuse_monitoring",
		"enhanced_zero_data_retention", "enhanced_modified_abuse_monitoring"}
	OrgRetentions = []string{"zero_data_retention", "modified_abuse_monitoring", "enhanced_zero_data_retention",
		"enhanced_modified_abuse_monitoring"}
	HostedTools = []string{"file_search", "web_search", "image_generation", "mcp", "code_interpreter"}
)

// Parse reads and validates a policy document (JSON). The error names
// every problem found, each with its path.
func Parse(data []byte) (*Policy, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("policy: the document is empty")
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		return nil, fmt.Errorf("policy: not valid JSON: %w", err)
	}
	var errs []error
	unknownFields(reflect.TypeOf(Policy{}), generic, "", &errs)
	var p Policy
	if err := json.Unmarshal(data, &p); err != nil {
		// A type error: the generic pass could not see it.
		errs = append(errs, typeError(err))
		return nil, joined(errs)
	}
	errs = append(errs, p.Validate()...)
	if len(errs) > 0 {
		return nil, joined(errs)
	}
	return &p, nil
}

func joined(errs []error) error {
	return fmt.Errorf("policy has %d problem(s):\n%w", len(errs), errors.Join(errs...))
}

func typeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: must be %s, not %s", te.Field, kindName(te.Type), te.Value)
	}
	return err
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

// unknownFields names every key the policy format does not have (a typo
// such as "enforced" would otherwise make a rule silently report-only).
func unknownFields(t reflect.Type, v any, at string, errs *[]error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return // a type error, reported by the typed decode
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ft, ok := fields[k]
			if !ok {
				*errs = append(*errs, fmt.Errorf("%s: unknown field%s", join(at, k), nearest(k, fields)))
				continue
			}
			unknownFields(ft, obj[k], join(at, k), errs)
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return
		}
		for i, item := range list {
			unknownFields(t.Elem(), item, fmt.Sprintf("%s[%d]", at, i), errs)
		}
	case reflect.Map:
		obj, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, item := range obj {
			unknownFields(t.Elem(), item, join(at, k), errs)
		}
	}
}

func nearest(k string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for f := range fields {
		if d := distance(k, f); d < bestD || (d == bestD && f < best) {
			best, bestD = f, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// distance is the Levenshtein distance, for "did you mean".
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

// Validate names every problem in a decoded policy.
func (p *Policy) Validate() []error {
	var errs []error
	bad := func(at, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", at, fmt.Sprintf(format, args...)))
	}
	if p.Version != Version {
		bad("version", "must be %d", Version)
	}
	if len(p.Rules) == 0 && len(p.Organization) == 0 {
		bad("rules", "the policy has no rules")
	}
	names := map[string]string{}
	name := func(at, n string) {
		switch {
		case strings.TrimSpace(n) == "":
			bad(at+".name", "is required (findings and logs name the rule)")
		case names[n] != "":
			bad(at+".name", "%q is also the name of %s", n, names[n])
		default:
			names[n] = at
		}
	}
	for i, r := range p.Rules {
		at := fmt.Sprintf("rules[%d]", i)
		name(at, r.Name)
		validateSelect(at+".select", r.Select, bad)
		validateAssert(at+".assert", r.Enforce, r.Assert, bad)
	}
	for i, r := range p.Organization {
		at := fmt.Sprintf("organization[%d]", i)
		name(at, r.Name)
		a := r.Assert
		if a.DataRetention == "" && a.SpendLimitMaxCents == nil && a.SpendAlerts == nil {
			bad(at+".assert", "asserts nothing")
		}
		if a.DataRetention != "" && !slices.Contains(OrgRetentions, a.DataRetention) {
			bad(at+".assert.data_retention", "%q is not one of %s (organization_default and none are project-only)", a.DataRetention, strings.Join(OrgRetentions, ", "))
		}
		validateLimit(at+".assert.spend_limit_max_cents", a.SpendLimitMaxCents, bad)
		validateAlerts(at+".assert.spend_alerts", r.Enforce, a.SpendAlerts, bad)
	}
	return errs
}

func validateSelect(at string, s Select, bad func(string, string, ...any)) {
	ways := 0
	if s.All {
		ways++
	}
	if len(s.IDs) > 0 {
		ways++
	}
	if s.NamePattern != "" {
		ways++
		if _, err := path.Match(s.NamePattern, ""); err != nil {
			bad(at+".name_pattern", "%q is not a valid glob: %v", s.NamePattern, err)
		}
	}
	switch {
	case ways == 0:
		bad(at, "selects nothing: set one of all, ids or name_pattern")
	case ways > 1:
		bad(at, "set only one of all, ids or name_pattern")
	}
	for j, id := range s.IDs {
		if strings.TrimSpace(id) == "" {
			bad(fmt.Sprintf("%s.ids[%d]", at, j), "is empty")
		}
	}
	if s.Archived != "" && !slices.Contains([]string{ArchivedExclude, ArchivedInclude, ArchivedOnly}, s.Archived) {
		bad(at+".archived", "%q is not one of exclude, include, only", s.Archived)
	}
}

func validateAssert(at string, enforce bool, a Assert, bad func(string, string, ...any)) {
	if reflect.ValueOf(a).IsZero() {
		bad(at, "asserts nothing")
	}
	if m := a.ModelPermissions; m != nil {
		exact := m.Mode != "" || len(m.Models) > 0
		switch {
		case exact && len(m.MustNotAllow) > 0:
			bad(at+".model_permissions", "set either mode and models, or must_not_allow, not both")
		case exact && m.Mode != "allow_list" && m.Mode != "deny_list":
			bad(at+".model_permissions.mode", "%q is not one of allow_list, deny_list", m.Mode)
		case !exact && len(m.MustNotAllow) == 0:
			bad(at+".model_permissions", "set mode and models, or must_not_allow")
		}
		for j, id := range append(append([]string{}, m.Models...), m.MustNotAllow...) {
			if strings.TrimSpace(id) == "" {
				bad(fmt.Sprintf("%s.model_permissions.models[%d]", at, j), "is empty")
			}
		}
	}
	for _, tool := range sortedKeys(a.HostedTools) {
		if !slices.Contains(HostedTools, tool) {
			bad(at+".hosted_tools."+tool, "is not a hosted tool (one of %s)", strings.Join(HostedTools, ", "))
		}
	}
	if a.DataRetention != "" && !slices.Contains(ProjectRetentions, a.DataRetention) {
		bad(at+".data_retention", "%q is not one of %s", a.DataRetention, strings.Join(ProjectRetentions, ", "))
	}
	validateAlerts(at+".spend_alerts", enforce, a.SpendAlerts, bad)
	validateLimit(at+".spend_limit_max_cents", a.SpendLimitMaxCents, bad)
	for _, model := range sortedKeys(a.RateLimitsMax) {
		c := a.RateLimitsMax[model]
		if strings.TrimSpace(model) == "" {
			bad(at+".rate_limits_max", "has an empty model name")
		}
		if c.MaxRequestsPer1Minute < 0 || c.MaxTokensPer1Minute < 0 {
			bad(at+".rate_limits_max."+model, "limits must not be negative")
		}
		if c.MaxRequestsPer1Minute == 0 && c.MaxTokensPer1Minute == 0 {
			bad(at+".rate_limits_max."+model, "caps nothing: set max_requests_per_1_minute or max_tokens_per_1_minute")
		}
	}
	if a.MaxOwners != nil && *a.MaxOwners < 1 {
		bad(at+".max_owners", "must be at least 1 (a project needs an owner)")
	}
	for j, d := range a.AllowedMemberDomains {
		if d = strings.TrimSpace(d); d == "" || strings.Contains(d, "@") {
			bad(fmt.Sprintf("%s.allowed_member_domains[%d]", at, j), "%q is not a domain", a.AllowedMemberDomains[j])
		}
	}
}

func validateLimit(at string, v *int64, bad func(string, string, ...any)) {
	if v != nil && *v < 1 {
		bad(at, "must be at least 1 cent (the API's minimum)")
	}
}

func validateAlerts(at string, enforce bool, a *AlertRule, bad func(string, string, ...any)) {
	if a == nil {
		return
	}
	if len(a.ThresholdsCents) == 0 {
		bad(at+".thresholds_cents", "lists no threshold")
	}
	for j, c := range a.ThresholdsCents {
		if c < 0 {
			bad(fmt.Sprintf("%s.thresholds_cents[%d]", at, j), "must not be negative")
		}
	}
	if enforce && len(a.Recipients) == 0 {
		bad(at+".recipients", "an enforced rule creates missing alerts, which must mail someone")
	}
	for j, r := range a.Recipients {
		if !strings.Contains(r, "@") {
			bad(fmt.Sprintf("%s.recipients[%d]", at, j), "%q is not an email address", r)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Selects reports whether the rule's selection takes a project.
func (s Select) Selects(id, name string, archived bool) bool {
	switch s.Archived {
	case ArchivedInclude:
	case ArchivedOnly:
		if !archived {
			return false
		}
	default:
		if archived {
			return false
		}
	}
	for _, x := range s.Exclude {
		if x == id || strings.EqualFold(x, name) {
			return false
		}
	}
	switch {
	case s.All:
		return true
	case len(s.IDs) > 0:
		return slices.Contains(s.IDs, id)
	case s.NamePattern != "":
		ok, _ := path.Match(s.NamePattern, name)
		return ok
	}
	return false
}

// Marshal writes a policy as indented JSON, as `orgwarden policy init` does.
func (p *Policy) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
