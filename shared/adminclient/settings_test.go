package adminclient_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

// TestSettingsRoundTrip writes every setting a policy holds and reads it back.
func TestSettingsRoundTrip(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{})
	c, _ := newClient(t, srv, nil)
	ctx := context.Background()
	p, err := srv.Emulator.AddProject(adminapi.NewProject{Name: "settings"})
	if err != nil {
		t.Fatal(err)
	}
	must := func(_ adminclient.Outcome, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	must(c.SetModelPermissions(ctx, p, adminclient.ModelPermissions{Mode: adminclient.AllowList, ModelIDs: []string{"gpt-4o-mini"}}, "test"))
	mp, err := c.ModelPermissions(ctx, p)
	if err != nil || mp.Mode != adminclient.AllowList || !mp.Allows("gpt-4o-mini") || mp.Allows("o3") {
		t.Fatalf("model permissions %+v %v", mp, err)
	}

	// Disabling is the case the SDK's params would silently drop.
	must(c.SetHostedToolPermissions(ctx, p, map[string]bool{"web_search": false, "mcp": false}, "test"))
	tools, err := c.HostedToolPermissions(ctx, p)
	want := map[string]bool{"file_search": true, "web_search": false, "image_generation": true, "mcp": false, "code_interpreter": true}
	if err != nil || !maps.Equal(tools, want) {
		t.Fatalf("tools %v %v, want %v", tools, err, want)
	}

	must(c.SetProjectDataRetention(ctx, p, "zero_data_retention", "test"))
	if r, err := c.ProjectDataRetention(ctx, p); err != nil || r != "zero_data_retention" {
		t.Fatalf("project retention %q %v", r, err)
	}
	must(c.SetOrganizationDataRetention(ctx, "enhanced_zero_data_retention", "test"))
	if r, err := c.OrganizationDataRetention(ctx); err != nil || r != "enhanced_zero_data_retention" {
		t.Fatalf("org retention %q %v", r, err)
	}

	if l, err := c.ProjectSpendLimit(ctx, p); err != nil || l != nil {
		t.Fatalf("no limit set should read as nil: %+v %v", l, err)
	}
	must(c.SetProjectSpendLimit(ctx, p, 12345, "test"))
	if l, err := c.ProjectSpendLimit(ctx, p); err != nil || l == nil || l.ThresholdAmount != 12345 {
		t.Fatalf("project limit %+v %v", l, err)
	}
	if l, err := c.OrganizationSpendLimit(ctx); err != nil || l != nil {
		t.Fatalf("org limit %+v %v", l, err)
	}
	must(c.SetOrganizationSpendLimit(ctx, 99999, "test"))
	if l, err := c.OrganizationSpendLimit(ctx); err != nil || l == nil || l.ThresholdAmount != 99999 {
		t.Fatalf("org limit %+v %v", l, err)
	}

	must(c.CreateProjectSpendAlert(ctx, p, 5000, []string{"finops@example.com"}, "test"))
	must(c.CreateOrganizationSpendAlert(ctx, 700000, []string{"finops@example.com"}, "test"))
	pa, err := adminclient.Collect(c.ProjectSpendAlerts(ctx, p))
	if err != nil || len(pa) != 1 || pa[0].ThresholdAmount != 5000 || !slices.Equal(pa[0].Recipients, []string{"finops@example.com"}) {
		t.Fatalf("project alerts %+v %v", pa, err)
	}
	oa, err := adminclient.Collect(c.OrganizationSpendAlerts(ctx))
	if err != nil || len(oa) != 1 || oa[0].ThresholdAmount != 700000 {
		t.Fatalf("org alerts %+v %v", oa, err)
	}

	rls, err := adminclient.Collect(c.RateLimits(ctx, p))
	if err != nil || len(rls) == 0 {
		t.Fatalf("rate limits %+v %v", rls, err)
	}
	first := rls[0]
	must(c.SetRateLimit(ctx, p, adminclient.RateLimit{ID: first.ID, Model: first.Model, MaxRequestsPer1Minute: 7}, "test"))
	after, _ := adminclient.Collect(c.RateLimits(ctx, p))
	if after[0].MaxRequestsPer1Minute != 7 || after[0].MaxTokensPer1Minute != first.MaxTokensPer1Minute {
		t.Fatalf("rate limit after update %+v, before %+v", after[0], first)
	}
}

// TestSettingsDryRunSendsNothing: every settings write in dry run is recorded, not sent.
func TestSettingsDryRunSendsNothing(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{})
	c, _ := newClient(t, srv, func(o *adminclient.Options) { o.DryRun = true })
	ctx := context.Background()
	p := srv.Emulator.DefaultProjectID()
	for _, call := range []func() (adminclient.Outcome, error){
		func() (adminclient.Outcome, error) {
			return c.SetHostedToolPermissions(ctx, p, map[string]bool{"mcp": false}, "t")
		},
		func() (adminclient.Outcome, error) { return c.SetProjectSpendLimit(ctx, p, 1, "t") },
		func() (adminclient.Outcome, error) { return c.SetOrganizationSpendLimit(ctx, 1, "t") },
		func() (adminclient.Outcome, error) { return c.SetProjectDataRetention(ctx, p, "none", "t") },
	} {
		if o, err := call(); err != nil || o != adminclient.Planned {
			t.Fatalf("dry run: %v %v", o, err)
		}
	}
	if got := c.Stats().Mutations; got != 0 {
		t.Fatalf("%d mutations sent in dry run", got)
	}
	if tools, _ := c.HostedToolPermissions(ctx, p); !tools["mcp"] {
		t.Fatal("dry run changed the tools")
	}
}
