package adminapitest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/contract"
)

// recordingTB stands in for the test given to New, to see what New reports.
// Everything it does not override goes to the real test.
type recordingTB struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (r *recordingTB) Helper()          {}
func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) finish() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// offSpec makes the emulator break the spec on purpose: an audit event whose
// type is not in AuditLogEventType.
func offSpec(t testing.TB, srv *adminapitest.Server) {
	t.Helper()
	if err := srv.Emulator.AppendAuditEvent(json.RawMessage(`{"id":"audit_log-x","type":"not.a.type","effective_at":1}`)); err != nil {
		t.Fatal(err)
	}
	c := srv.SDKClient()
	if _, err := c.Admin.Organization.AuditLogs.List(context.Background(), openai.AdminOrganizationAuditLogListParams{}); err != nil {
		t.Fatal(err)
	}
}

func TestServesOnLoopbackWithTheAdminKey(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{})
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || !strings.HasSuffix(srv.URL, "/v1") {
		t.Fatalf("URL %s", srv.URL)
	}
	if !strings.HasPrefix(srv.AdminKey, "sk-admin-") || srv.AdminKey != srv.Emulator.AdminKey() {
		t.Fatal("AdminKey is not the emulator's admin key")
	}
	c := srv.SDKClient()
	users, err := c.Admin.Organization.Users.List(context.Background(), openai.AdminOrganizationUserListParams{})
	if err != nil || len(users.Data) != 1 || users.Data[0].Role != "owner" {
		t.Fatalf("users of an unseeded emulator: %v %+v", err, users)
	}
}

func TestViolationsFailTheTest(t *testing.T) {
	contract.RequireSpec(t)
	rec := &recordingTB{TB: t}
	srv := adminapitest.New(rec, adminapi.Options{})
	if srv.Validator == nil {
		t.Fatal("no validator although the spec is present")
	}
	offSpec(t, srv)
	rec.finish()
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "contract violation: list-audit-logs GET /v1/organization/audit_logs: response 200: body /data/0/type") {
		t.Fatalf("reported %q", rec.errors)
	}
}

func TestRefusedBadRequestsAreNotFailures(t *testing.T) {
	contract.RequireSpec(t)
	rec := &recordingTB{TB: t}
	srv := adminapitest.New(rec, adminapi.Options{})
	c := srv.SDKClient()
	_, err := c.Admin.Organization.AuditLogs.List(context.Background(), openai.AdminOrganizationAuditLogListParams{EventTypes: []string{"not.a.type"}})
	if err == nil {
		t.Fatal("emulator accepted an unknown event type")
	}
	rec.finish()
	if len(rec.errors) != 0 || len(srv.Validator.Violations()) != 1 || !srv.Validator.Violations()[0].Rejected {
		t.Fatalf("errors %q violations %v", rec.errors, srv.Validator.Violations())
	}
}

func TestWithoutValidation(t *testing.T) {
	rec := &recordingTB{TB: t}
	srv := adminapitest.New(rec, adminapi.Options{}, adminapitest.WithoutValidation())
	if srv.Validator != nil {
		t.Fatal("validator present")
	}
	offSpec(t, srv)
	rec.finish()
	if len(rec.errors) != 0 {
		t.Fatalf("reported %q", rec.errors)
	}
}
