package adminapi_test

import (
	"context"
	"slices"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/orgwarden/orgwarden/testenv/contract"
)

// limitsOperations are the hosted-tool and hard-spend-limit operations, kept
// apart from implemented so the two lists merge without conflict.
var limitsOperations = []string{
	"retrieve-project-hosted-tool-permissions", "update-project-hosted-tool-permissions",
	"Getorganizationspendlimit", "Updateorganizationspendlimit", "Deleteorganizationspendlimit",
	"Getprojectspendlimit", "Updateprojectspendlimit", "Deleteprojectspendlimit",
}

// TestSDKContractLimits drives hosted tool permissions and hard spend limits
// through the real SDK, every exchange validated against the spec.
func TestSDKContractLimits(t *testing.T) {
	spec := contract.RequireSpec(t)
	for _, op := range limitsOperations {
		if !slices.Contains(spec.OperationIDs(), op) {
			t.Fatalf("operationId %s is not in the spec", op)
		}
	}
	srv := smallServer(t)
	org := srv.SDKClient().Admin.Organization
	ctx := context.Background()
	p, err := org.Projects.New(ctx, openai.AdminOrganizationProjectNewParams{Name: "limits"})
	if err != nil {
		t.Fatal(err)
	}
	before := srv.Emulator.AuditEventCount()

	t.Run("hosted tool permissions", func(t *testing.T) {
		got, err := org.Projects.HostedToolPermissions.Get(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		decodedFully(t, "hosted tool permissions", *got)
		if !got.FileSearch.Enabled || !got.WebSearch.Enabled || !got.ImageGeneration.Enabled || !got.Mcp.Enabled || !got.CodeInterpreter.Enabled {
			t.Fatalf("a new project should start with every tool enabled: %s", got.RawJSON())
		}
		// The SDK's params drop {"enabled": false} (omitzero), so disabling
		// goes as a raw body; null keeps a tool as it is.
		up, err := org.Projects.HostedToolPermissions.Update(ctx, p.ID, openai.AdminOrganizationProjectHostedToolPermissionUpdateParams{},
			option.WithRequestBody("application/json", []byte(`{"web_search":{"enabled":false},"mcp":{"enabled":false},"file_search":null}`)))
		if err != nil || up.WebSearch.Enabled || up.Mcp.Enabled || !up.FileSearch.Enabled || !up.CodeInterpreter.Enabled {
			t.Fatalf("update: %v %s", err, up.RawJSON())
		}
		up, err = org.Projects.HostedToolPermissions.Update(ctx, p.ID, openai.AdminOrganizationProjectHostedToolPermissionUpdateParams{
			Mcp: openai.AdminOrganizationProjectHostedToolPermissionUpdateParamsMcp{Enabled: true}})
		if err != nil || !up.Mcp.Enabled || up.WebSearch.Enabled {
			t.Fatalf("re-enable mcp: %v %s", err, up.RawJSON())
		}
		_, err = org.Projects.HostedToolPermissions.Update(ctx, p.ID, openai.AdminOrganizationProjectHostedToolPermissionUpdateParams{},
			option.WithRequestBody("application/json", []byte(`{"mcp":{"enabled":"no"}}`)))
		wantStatus(t, "non-boolean enabled", err, 400)
		_, err = org.Projects.HostedToolPermissions.Get(ctx, "proj_missing")
		wantStatus(t, "unknown project", err, 404)
	})

	t.Run("project spend limit", func(t *testing.T) {
		_, err := org.Projects.SpendLimit.Get(ctx, p.ID)
		wantStatus(t, "no limit yet", err, 404)
		_, err = org.Projects.SpendLimit.Delete(ctx, p.ID)
		wantStatus(t, "delete with no limit", err, 404)
		l, err := org.Projects.SpendLimit.Update(ctx, p.ID, openai.AdminOrganizationProjectSpendLimitUpdateParams{ThresholdAmount: 50000, Currency: "USD", Interval: "month"})
		if err != nil || l.ThresholdAmount != 50000 || l.Enforcement.Status == "" {
			t.Fatalf("set: %v %+v", err, l)
		}
		decodedFully(t, "project spend limit", *l)
		l, err = org.Projects.SpendLimit.Update(ctx, p.ID, openai.AdminOrganizationProjectSpendLimitUpdateParams{ThresholdAmount: 20000, Currency: "USD", Interval: "month"})
		if err != nil || l.ThresholdAmount != 20000 {
			t.Fatalf("replace: %v %+v", err, l)
		}
		got, err := org.Projects.SpendLimit.Get(ctx, p.ID)
		if err != nil || got.ThresholdAmount != 20000 || got.Currency != "USD" || got.Interval != "month" {
			t.Fatalf("get: %v %+v", err, got)
		}
		_, err = org.Projects.SpendLimit.Update(ctx, p.ID, openai.AdminOrganizationProjectSpendLimitUpdateParams{ThresholdAmount: 0, Currency: "USD", Interval: "month"})
		wantStatus(t, "threshold below 1", err, 400)
		del, err := org.Projects.SpendLimit.Delete(ctx, p.ID)
		if err != nil || !del.Deleted {
			t.Fatalf("delete: %v %+v", err, del)
		}
		decodedFully(t, "project spend limit deleted", *del)
		_, err = org.Projects.SpendLimit.Get(ctx, p.ID)
		wantStatus(t, "after delete", err, 404)
	})

	t.Run("organization spend limit", func(t *testing.T) {
		_, err := org.SpendLimit.Get(ctx)
		wantStatus(t, "no limit yet", err, 404)
		l, err := org.SpendLimit.Update(ctx, openai.AdminOrganizationSpendLimitUpdateParams{ThresholdAmount: 1000000, Currency: "USD", Interval: "month"})
		if err != nil || l.ThresholdAmount != 1000000 {
			t.Fatalf("set: %v %+v", err, l)
		}
		decodedFully(t, "organization spend limit", *l)
		got, err := org.SpendLimit.Get(ctx)
		if err != nil || got.ThresholdAmount != 1000000 {
			t.Fatalf("get: %v %+v", err, got)
		}
		del, err := org.SpendLimit.Delete(ctx)
		if err != nil || !del.Deleted {
			t.Fatalf("delete: %v %+v", err, del)
		}
		decodedFully(t, "organization spend limit deleted", *del)
		_, err = org.SpendLimit.Delete(ctx)
		wantStatus(t, "delete twice", err, 404)
	})

	t.Run("archived project refuses changes", func(t *testing.T) {
		if _, err := org.Projects.Archive(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		_, err := org.Projects.SpendLimit.Update(ctx, p.ID, openai.AdminOrganizationProjectSpendLimitUpdateParams{ThresholdAmount: 100, Currency: "USD", Interval: "month"})
		wantStatus(t, "archived spend limit", err, 400)
		if _, err := org.Projects.HostedToolPermissions.Get(ctx, p.ID); err != nil {
			t.Fatalf("an archived project's tools are still readable: %v", err)
		}
	})

	// The spec has no audit event type for either setting (see handlers_limits.go).
	if got := srv.Emulator.AuditEventCount() - before; got != 1 {
		t.Errorf("%d audit events, want 1 (project.archived only)", got)
	}
	cov := srv.Validator.Coverage()
	for _, op := range limitsOperations {
		if cov[op] == 0 {
			t.Errorf("operation %s not exercised", op)
		}
	}
}
