package enforce_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/policyguard/enforce"
	"github.com/orgwarden/orgwarden/functions/policyguard/policy"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/awsconfig"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/secrets"
	"github.com/orgwarden/orgwarden/shared/sweep"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge"
	"github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge/eventbridgetest"
	awss3 "github.com/orgwarden/orgwarden/testenv/awslocal/s3"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
	"github.com/orgwarden/orgwarden/testenv/logtest"
)

const (
	bus    = "orgwarden-summaries"
	bucket = "state"
)

type fixture struct {
	t        *testing.T
	srv      *adminapitest.Server
	eb       *eventbridge.Server
	s3       *awss3.Server
	out      *logtest.Buffer
	common   config.Common
	admin    *adminclient.Client // changes the org behind the guard's back
	projects map[string]string   // name -> id
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := adminapitest.New(t, adminapi.Options{})
	f := &fixture{t: t, srv: srv, eb: eventbridgetest.New(t), s3: s3test.New(t), out: &logtest.Buffer{}, projects: map[string]string{}}
	if err := f.s3.CreateBucket(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	f.common = config.Common{BaseURL: srv.URL, MaxConcurrency: 4, HTTPTimeout: 10 * time.Second, MaxRetries: 2,
		MaxRetryDelay: 50 * time.Millisecond, LogLevel: slog.LevelDebug, SummaryBus: bus, MaxDeletions: 25,
		ReportBucket: bucket, ReportPrefix: "orgwarden-reports/", OrgID: "org-test"}
	for _, name := range []string{"prod-a", "prod-b", "staging"} {
		id, err := srv.Emulator.AddProject(adminapi.NewProject{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		f.projects[name] = id
	}
	var err error
	f.admin, err = adminclient.New(adminclient.Options{BaseURL: srv.URL, AdminKey: logging.Secret(srv.AdminKey)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if strings.Contains(f.out.String(), srv.AdminKey) {
			t.Error("output contains the admin key")
		}
	})
	return f
}

func (f *fixture) handler(doc string) *enforce.Handler {
	f.t.Helper()
	pol, err := policy.Parse([]byte(doc))
	if err != nil {
		f.t.Fatal(err)
	}
	deps := &app.Deps{
		Function: enforce.Function, Common: f.common, Out: f.out,
		Log:  logging.New(f.out, slog.LevelDebug).With("function", enforce.Function),
		AWS:  &awsconfig.Clients{EventBridge: f.eb.Client(), S3: f.s3.Client()},
		Keys: secrets.Static{Value: logging.Secret(f.srv.AdminKey)},
	}
	return enforce.New(deps, enforce.Config{}, pol)
}

func (f *fixture) run(h *enforce.Handler, dryRun bool) *enforce.Summary {
	f.t.Helper()
	sum, err := h.Run(context.Background(), dryRun)
	if err != nil {
		f.t.Fatalf("run: %v", err)
	}
	return sum
}

func (f *fixture) mutations() int { return len(f.srv.Emulator.MutatingRequests()) }

func (f *fixture) ok(_ adminclient.Outcome, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func rule(enforce bool, sel, assert string) string {
	return `{"version": 1, "rules": [{"name": "r", "enforce": ` + map[bool]string{true: "true", false: "false"}[enforce] +
		`, "select": ` + sel + `, "assert": ` + assert + `}]}`
}

// TestEachRuleKind: for each kind of assertion, drift in prod-a is found;
// an enforced rule fixes it with exactly the planned changes, and a second
// run finds nothing and changes nothing.
func TestEachRuleKind(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		assert   string
		drift    func(f *fixture, p string)
		findings int
		check    func(f *fixture, p string) bool
	}{
		{"model permissions exact", `{"model_permissions": {"mode": "allow_list", "models": ["gpt-4o-mini"]}}`,
			func(f *fixture, p string) {}, 3, // every selected project starts deny_list []
			func(f *fixture, p string) bool {
				m, _ := f.admin.ModelPermissions(ctx, p)
				return m.Mode == "allow_list" && len(m.ModelIDs) == 1
			}},
		{"must not allow", `{"model_permissions": {"must_not_allow": ["o3"]}}`,
			func(f *fixture, p string) {
				f.ok(f.admin.SetModelPermissions(ctx, f.projects["prod-b"], adminclient.ModelPermissions{Mode: "deny_list", ModelIDs: []string{"o3"}}, "t"))
				f.ok(f.admin.SetModelPermissions(ctx, f.projects["staging"], adminclient.ModelPermissions{Mode: "deny_list", ModelIDs: []string{"o3"}}, "t"))
				f.ok(f.admin.SetModelPermissions(ctx, p, adminclient.ModelPermissions{Mode: "allow_list", ModelIDs: []string{"o3", "gpt-4o"}}, "t"))
			}, 1,
			func(f *fixture, p string) bool {
				m, _ := f.admin.ModelPermissions(ctx, p)
				return !m.Allows("o3") && m.Allows("gpt-4o")
			}},
		{"hosted tools", `{"hosted_tools": {"web_search": false, "file_search": true}}`,
			func(f *fixture, p string) {
				for _, other := range []string{"prod-b", "staging"} {
					f.ok(f.admin.SetHostedToolPermissions(ctx, f.projects[other], map[string]bool{"web_search": false}, "t"))
				}
				f.ok(f.admin.SetHostedToolPermissions(ctx, p, map[string]bool{"file_search": false}, "t"))
			}, 2,
			func(f *fixture, p string) bool {
				tools, _ := f.admin.HostedToolPermissions(ctx, p)
				return !tools["web_search"] && tools["file_search"]
			}},
		{"data retention", `{"data_retention": "zero_data_retention"}`,
			func(f *fixture, p string) {
				for _, other := range []string{"prod-b", "staging"} {
					f.ok(f.admin.SetProjectDataRetention(ctx, f.projects[other], "zero_data_retention", "t"))
				}
			}, 1,
			func(f *fixture, p string) bool {
				r, _ := f.admin.ProjectDataRetention(ctx, p)
				return r == "zero_data_retention"
			}},
		{"spend alerts", `{"spend_alerts": {"thresholds_cents": [5000, 20000], "recipients": ["finops@example.com"]}}`,
			func(f *fixture, p string) {
				for _, other := range []string{"prod-b", "staging"} {
					f.ok(f.admin.CreateProjectSpendAlert(ctx, f.projects[other], 5000, []string{"x@example.com"}, "t"))
					f.ok(f.admin.CreateProjectSpendAlert(ctx, f.projects[other], 20000, []string{"x@example.com"}, "t"))
				}
				f.ok(f.admin.CreateProjectSpendAlert(ctx, p, 20000, []string{"x@example.com"}, "t"))
			}, 1,
			func(f *fixture, p string) bool {
				a, _ := adminclient.Collect(f.admin.ProjectSpendAlerts(ctx, p))
				return len(a) == 2
			}},
		{"spend limit", `{"spend_limit_max_cents": 100000}`,
			func(f *fixture, p string) {
				f.ok(f.admin.SetProjectSpendLimit(ctx, f.projects["prod-b"], 50000, "t"))
				f.ok(f.admin.SetProjectSpendLimit(ctx, f.projects["staging"], 100000, "t"))
				f.ok(f.admin.SetProjectSpendLimit(ctx, p, 900000, "t"))
			}, 1,
			func(f *fixture, p string) bool {
				l, _ := f.admin.ProjectSpendLimit(ctx, p)
				b, _ := f.admin.ProjectSpendLimit(ctx, f.projects["prod-b"])
				return l != nil && l.ThresholdAmount == 100000 && b.ThresholdAmount == 50000 // a lower limit is kept
			}},
		{"rate limits", `{"rate_limits_max": {"gpt-4o": {"max_requests_per_1_minute": 5000}, "dall-e-3": {"max_requests_per_1_minute": 9000}}}`,
			func(f *fixture, p string) {
				for _, other := range []string{"prod-b", "staging"} {
					rls, _ := adminclient.Collect(f.admin.RateLimits(ctx, f.projects[other]))
					for _, rl := range rls {
						if rl.Model == "gpt-4o" {
							f.ok(f.admin.SetRateLimit(ctx, f.projects[other], adminclient.RateLimit{ID: rl.ID, Model: rl.Model, MaxRequestsPer1Minute: 5000}, "t"))
						}
					}
				}
			}, 1, // dall-e-3 starts at 7500 rpm, within its cap
			func(f *fixture, p string) bool {
				rls, _ := adminclient.Collect(f.admin.RateLimits(ctx, p))
				for _, rl := range rls {
					if rl.Model == "gpt-4o" {
						return rl.MaxRequestsPer1Minute == 5000 && rl.MaxTokensPer1Minute == 2000000
					}
				}
				return false
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			p := f.projects["prod-a"]
			tc.drift(f, p)
			doc := rule(true, `{"all": true, "exclude": ["Default Project"]}`, tc.assert)
			h := f.handler(doc)
			before := f.mutations()
			preview := f.run(h, true)
			if len(preview.Findings) != tc.findings || f.mutations() != before {
				t.Fatalf("preview: %d findings (want %d), %d changes sent: %+v", len(preview.Findings), tc.findings, f.mutations()-before, preview.Findings)
			}
			for _, fd := range preview.Findings {
				if fd.Outcome != adminclient.Planned || fd.Expected == "" || fd.Actual == "" || fd.Rule != "r" {
					t.Errorf("preview finding %+v", fd)
				}
			}
			first := f.run(h, false)
			if first.Counts.Remediated != tc.findings || f.mutations()-before != tc.findings {
				t.Fatalf("run 1: remediated %d, sent %d, want %d: %+v", first.Counts.Remediated, f.mutations()-before, tc.findings, first.Findings)
			}
			if !tc.check(f, p) {
				t.Fatal("the setting was not remediated")
			}
			second := f.run(h, false)
			if len(second.Findings) != 0 || f.mutations()-before != tc.findings {
				t.Fatalf("run 2 found %+v and sent %d changes; want nothing", second.Findings, f.mutations()-before-tc.findings)
			}
			if !strings.Contains(f.out.String(), `"reason":"policy rule \"r\": `) {
				t.Error("no change log line names the rule as its reason")
			}
		})
	}
}

// TestReportOnlyKinds: owners and members from other domains are found and
// reported, never changed, even by an enforced rule.
func TestReportOnlyKinds(t *testing.T) {
	f := newFixture(t)
	p := f.projects["prod-a"]
	emu := f.srv.Emulator
	for _, u := range []struct{ email, role string }{{"a@corp.com", "owner"}, {"b@corp.com", "owner"}, {"c@gmail.com", "member"}} {
		id, err := emu.AddUser(adminapi.NewUser{Email: u.email, Role: "reader"})
		if err != nil {
			t.Fatal(err)
		}
		if err := emu.AddProjectUser(p, id, u.role); err != nil {
			t.Fatal(err)
		}
	}
	h := f.handler(rule(true, `{"ids": ["`+p+`"]}`, `{"max_owners": 1, "allowed_member_domains": ["corp.com"]}`))
	before := f.mutations()
	sum := f.run(h, false)
	kinds := map[string]string{}
	for _, fd := range sum.Findings {
		kinds[fd.Kind] = fd.Subject + " " + string(fd.Outcome)
	}
	if kinds[enforce.KindOwners] != " reported" || kinds[enforce.KindMemberDomain] != "c@gmail.com reported" || len(sum.Findings) != 2 {
		t.Fatalf("findings %+v", sum.Findings)
	}
	if f.mutations() != before {
		t.Fatal("a report-only finding changed the organization")
	}
}

// TestProtectedProjectUntouched: a protected project's drift is reported as
// skipped; the others are fixed.
func TestProtectedProjectUntouched(t *testing.T) {
	f := newFixture(t)
	f.common.Rules = guard.Rules{Protection: guard.Protection{Projects: []string{f.projects["prod-b"]}}}
	h := f.handler(rule(true, `{"name_pattern": "prod-*"}`, `{"data_retention": "zero_data_retention"}`))
	sum := f.run(h, false)
	got := map[string]adminclient.Outcome{}
	for _, fd := range sum.Findings {
		got[fd.ProjectName] = fd.Outcome
	}
	if got["prod-a"] != "done" || got["prod-b"] != sweep.Skipped || len(got) != 2 {
		t.Fatalf("outcomes %v", got)
	}
	if r, _ := f.admin.ProjectDataRetention(context.Background(), f.projects["prod-b"]); r != "organization_default" {
		t.Fatalf("protected project changed to %s", r)
	}
}

// TestCapStopsTheRun: more planned changes than ORGWARDEN_MAX_DELETIONS
// allows change nothing, and say so.
func TestCapStopsTheRun(t *testing.T) {
	f := newFixture(t)
	f.common.MaxDeletions = 2
	h := f.handler(rule(true, `{"all": true}`, `{"data_retention": "zero_data_retention"}`))
	before := f.mutations()
	sum, err := h.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Changes.CapExceeded || f.mutations() != before || sum.Counts.Remediated != 0 || len(sum.Findings) != 4 {
		t.Fatalf("cap: exceeded=%v sent=%d remediated=%d findings=%d", sum.Changes.CapExceeded, f.mutations()-before, sum.Counts.Remediated, len(sum.Findings))
	}
	for _, fd := range sum.Findings {
		if fd.Outcome != sweep.Held {
			t.Errorf("finding %s: outcome %s, want %s", fd.Key(), fd.Outcome, sweep.Held)
		}
	}
}

// TestOrganizationRules: organization retention, spend limit and alerts.
func TestOrganizationRules(t *testing.T) {
	f := newFixture(t)
	doc := `{"version": 1, "organization": [{"name": "org", "enforce": true, "assert": {"data_retention": "zero_data_retention",
		"spend_limit_max_cents": 500000, "spend_alerts": {"thresholds_cents": [100000], "recipients": ["cfo@example.com"]}}}]}`
	h := f.handler(doc)
	sum := f.run(h, false)
	if sum.Counts.Remediated != 3 {
		t.Fatalf("remediated %d: %+v", sum.Counts.Remediated, sum.Findings)
	}
	again := f.run(h, false)
	if len(again.Findings) != 0 {
		t.Fatalf("second run found %+v", again.Findings)
	}
	l, _ := f.admin.OrganizationSpendLimit(context.Background())
	if l == nil || l.ThresholdAmount != 500000 {
		t.Fatalf("org limit %+v", l)
	}
}

// TestConflictingRulesAreReported: two enforced rules setting one setting
// differently would undo each other every run; neither is applied.
func TestConflictingRulesAreReported(t *testing.T) {
	f := newFixture(t)
	doc := `{"version": 1, "rules": [
		{"name": "a", "enforce": true, "select": {"ids": ["` + f.projects["prod-a"] + `"]}, "assert": {"data_retention": "zero_data_retention"}},
		{"name": "b", "enforce": true, "select": {"name_pattern": "prod-a"}, "assert": {"data_retention": "none"}}]}`
	before := f.mutations()
	sum := f.run(f.handler(doc), false)
	if len(sum.Findings) != 2 || f.mutations() != before {
		t.Fatalf("findings %+v, %d changes", sum.Findings, f.mutations()-before)
	}
	for _, fd := range sum.Findings {
		if !strings.Contains(fd.Note, "rules a, b both set this") {
			t.Errorf("note %q", fd.Note)
		}
	}
}

// TestNewAndResolvedAcrossRuns: the state in S3 makes a finding new once,
// and resolved once it goes away, with one event each.
func TestNewAndResolvedAcrossRuns(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	h := f.handler(rule(false, `{"ids": ["`+f.projects["staging"]+`"]}`, `{"data_retention": "zero_data_retention"}`))
	events := func() map[string]int {
		out := map[string]int{}
		for _, e := range f.eb.Events() {
			if e.DetailType != enforce.FindingDetailType {
				continue
			}
			var d struct{ Status string }
			if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
				t.Fatal(err)
			}
			out[d.Status]++
		}
		return out
	}
	s1 := f.run(h, false)
	if len(s1.New) != 1 || events()["new"] != 1 {
		t.Fatalf("run 1: new %v, events %v", s1.New, events())
	}
	s2 := f.run(h, false)
	if len(s2.New) != 0 || len(s2.Findings) != 1 || events()["new"] != 1 {
		t.Fatalf("run 2: new %v, events %v", s2.New, events())
	}
	f.ok(f.admin.SetProjectDataRetention(ctx, f.projects["staging"], "zero_data_retention", "t"))
	s3 := f.run(h, false)
	if len(s3.Resolved) != 1 || events()["resolved"] != 1 {
		t.Fatalf("run 3: resolved %v, events %v", s3.Resolved, events())
	}
	if s4 := f.run(h, false); len(s4.Resolved) != 0 || len(s4.New) != 0 {
		t.Fatalf("run 4: %v %v", s4.New, s4.Resolved)
	}
}

// TestPolicySourceFailsClosed: a missing, unreadable or invalid policy stops the start.
func TestPolicySourceFailsClosed(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{})
	for _, tc := range []struct{ policy, want string }{
		{"", "ORGWARDEN_POLICY"},
		{"rules.json", "want inline JSON"},
		{"s3://" + bucket + "/missing.json", "read s3://state/missing.json"},
		{`{"version": 1, "rules": []}`, "the policy has no rules"},
	} {
		env := map[string]string{"OPENAI_BASE_URL": srv.URL, "OPENAI_ADMIN_KEY": srv.AdminKey, "AWS_REGION": "us-east-1",
			"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1"}
		if tc.policy != "" {
			env["ORGWARDEN_POLICY"] = tc.policy
		}
		_, err := enforce.FromEnv(context.Background(), config.MapEnv(env), app.Options{Out: &logtest.Buffer{}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("policy %q: %v, want an error containing %q", tc.policy, err, tc.want)
		}
	}
}

// TestDescribeThenPlanFindsNothing: `policy init` describes the org as it
// is, so planning against it finds no drift; a change afterwards is found.
func TestDescribeThenPlanFindsNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p := f.projects["prod-a"]
	f.ok(f.admin.SetModelPermissions(ctx, p, adminclient.ModelPermissions{Mode: "allow_list", ModelIDs: []string{"gpt-4o", "o3"}}, "t"))
	f.ok(f.admin.SetHostedToolPermissions(ctx, p, map[string]bool{"web_search": false}, "t"))
	f.ok(f.admin.SetProjectSpendLimit(ctx, p, 70000, "t"))
	f.ok(f.admin.CreateProjectSpendAlert(ctx, p, 1000, []string{"x@example.com"}, "t"))
	f.ok(f.admin.SetOrganizationSpendLimit(ctx, 900000, "t"))
	uid, _ := f.srv.Emulator.AddUser(adminapi.NewUser{Email: "lead@corp.com", Role: "reader"})
	if err := f.srv.Emulator.AddProjectUser(p, uid, "owner"); err != nil {
		t.Fatal(err)
	}
	pol, err := enforce.Describe(ctx, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	data, err := pol.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := policy.Parse(data); err != nil {
		t.Fatalf("described policy does not parse: %v\n%s", err, data)
	}
	plan, err := enforce.Evaluate(ctx, f.admin, pol)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Findings) != 0 || len(pol.Rules) != 4 {
		t.Fatalf("%d rules; findings right after describe: %+v", len(pol.Rules), plan.Findings)
	}
	f.ok(f.admin.SetHostedToolPermissions(ctx, p, map[string]bool{"web_search": true}, "t"))
	plan, _ = enforce.Evaluate(ctx, f.admin, pol)
	if len(plan.Findings) != 1 || plan.Findings[0].Subject != "web_search" {
		t.Fatalf("drift after describe: %+v", plan.Findings)
	}
}
