package guard

import (
	"errors"
	"strings"
	"testing"
)

func TestRulesCheck(t *testing.T) {
	p := Protection{
		Emails:   []string{"CEO@Example.com"},
		Domains:  []string{"@partner.io", "vip.example.com"},
		IDs:      []string{"key_keep"},
		Names:    []string{"ci-deploy"},
		Projects: []string{"proj_prod"},
	}
	tests := []struct {
		name  string
		rules Rules
		s     Subject
		ok    bool
	}{
		{"plain user", Rules{Protection: p}, Subject{Kind: "user", ID: "user-1", Email: "dev@example.com", OrgRole: "reader"}, true},
		{"protected email any case", Rules{Protection: p}, Subject{Email: "ceo@example.COM"}, false},
		{"protected domain", Rules{Protection: p}, Subject{Email: "a@partner.io"}, false},
		{"protected subdomain", Rules{Protection: p}, Subject{Email: "a@eu.partner.io"}, false},
		{"look-alike domain is not protected", Rules{Protection: p}, Subject{Email: "a@notpartner.io"}, true},
		{"nested protected domain", Rules{Protection: p}, Subject{Email: "x@vip.example.com"}, false},
		{"protected id", Rules{Protection: p}, Subject{ID: "KEY_KEEP"}, false},
		{"protected name", Rules{Protection: p}, Subject{Name: "ci-deploy"}, false},
		{"protected project", Rules{Protection: p}, Subject{ProjectID: "proj_prod", ID: "key_1"}, false},
		{"owner refused by default", Rules{}, Subject{OrgRole: "owner"}, false},
		{"owner allowed explicitly", Rules{AllowOwners: true}, Subject{OrgRole: "owner"}, true},
		{"owner allowed but protected", Rules{Protection: p, AllowOwners: true}, Subject{OrgRole: "owner", Email: "ceo@example.com"}, false},
		{"own key refused by default", Rules{}, Subject{Kind: "admin_api_key", Self: true}, false},
		{"own key allowed explicitly", Rules{AllowSelf: true}, Subject{Kind: "admin_api_key", Self: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.rules.Check(tt.s)
			if v.Allowed != tt.ok {
				t.Fatalf("Check() = %+v, want allowed=%v", v, tt.ok)
			}
			if !v.Allowed && v.Reason == "" {
				t.Errorf("a refusal must say why")
			}
		})
	}
}

func TestCheckCap(t *testing.T) {
	tests := []struct {
		planned, max int
		wantErr      bool
	}{
		{0, 0, false},
		{1, 0, true},
		{25, 25, false},
		{26, 25, true},
	}
	for _, tt := range tests {
		err := CheckCap(tt.planned, tt.max)
		if (err != nil) != tt.wantErr {
			t.Errorf("CheckCap(%d, %d) = %v", tt.planned, tt.max, err)
		}
		if err != nil && !errors.Is(err, ErrCapExceeded) {
			t.Errorf("error should wrap ErrCapExceeded: %v", err)
		}
	}
}

func TestProtectedNamesCoverMintedKeys(t *testing.T) {
	p := Protection{Names: []string{"billing-app"}}
	tests := []struct {
		name      string
		protected bool
	}{
		{"billing-app", true},
		{"BILLING-APP", true},
		{"billing-app.rot-3f9a1c2b-7d2e9f01a4c3", true},
		{"billing-app.rot-3F9A1C2B-7d2e9f01a4c3", false}, // rotations mint lower-case hex only
		{"billing-app.rot-3f9a1c2b-7d2e9f01a4c", false},
		{"billing-app.rot-anything", false},
		{"billing-app2", false},
		{"billing-app.rot-3f9a1c2b-7d2e9f01a4c3.x", false},
		{"other.rot-3f9a1c2b-7d2e9f01a4c3", false},
		// orgwarden's own admin key, by default, with no configuration.
		{"orgwarden-admin", true},
		{"orgwarden-admin.rot-0011aabb-00112233aabb", true},
		{"orgwarden-admin-old", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Rules{Protection: p}.Check(Subject{Kind: "admin_api_key", ID: "k1", Name: tt.name})
			if v.Allowed == tt.protected {
				t.Fatalf("Check(%q) = %+v, want protected=%v", tt.name, v, tt.protected)
			}
			if !v.Allowed && !strings.Contains(v.Reason, "protected") {
				t.Errorf("reason %q does not say why", v.Reason)
			}
			v = Rules{}.Check(Subject{Kind: "admin_api_key", ID: "k1", Name: tt.name})
			if strings.HasPrefix(tt.name, AdminKeyBase+".rot-") || tt.name == AdminKeyBase {
				if v.Allowed {
					t.Errorf("%q is orgwarden's admin key and must be protected without configuration", tt.name)
				}
			}
		})
	}
}

func TestOwnerRefusalNamesTheSwitch(t *testing.T) {
	v := Rules{}.Check(Subject{Kind: "user", ID: "u", OrgRole: "owner"})
	if v.Allowed || !strings.Contains(v.Reason, "ORGWARDEN_ALLOW_OWNERS") {
		t.Fatalf("Check(owner) = %+v, want a refusal naming ORGWARDEN_ALLOW_OWNERS", v)
	}
}
