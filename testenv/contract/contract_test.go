package contract_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/testenv/contract"
)

func TestSpecPath(t *testing.T) {
	t.Run("environment wins", func(t *testing.T) {
		t.Setenv(contract.SpecEnv, "/somewhere/spec.yaml")
		if got, err := contract.SpecPath(); err != nil || got != "/somewhere/spec.yaml" {
			t.Fatalf("SpecPath() = %q, %v", got, err)
		}
	})
	t.Run("beside the module root", func(t *testing.T) {
		t.Setenv(contract.SpecEnv, "")
		root, err := filepath.Abs("../..") // this package is testenv/contract
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
			t.Fatalf("test assumes the module root at %s: %v", root, err)
		}
		got, err := contract.SpecPath()
		if want := filepath.Join(root, "..", "shared", "openapi", "openai-admin.yaml"); err != nil || got != want {
			t.Fatalf("SpecPath() = %q, %v; want %q", got, err, want)
		}
	})
	t.Run("no module", func(t *testing.T) {
		t.Setenv(contract.SpecEnv, "")
		t.Chdir(t.TempDir())
		if _, err := contract.SpecPath(); err == nil {
			t.Fatal("found a spec path outside any module")
		}
	})
}

func TestMissingSpec(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := contract.Load(missing)
	if !errors.Is(err, contract.ErrSpecNotFound) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("Load(missing) = %v", err)
	}
	skipped := false
	t.Run("RequireSpec", func(t *testing.T) {
		t.Setenv(contract.SpecEnv, missing)
		defer func() { skipped = t.Skipped() }()
		contract.RequireSpec(t)
		t.Error("RequireSpec returned without the spec")
	})
	if !skipped {
		t.Fatal("RequireSpec did not skip")
	}
}

func TestSpecLoads(t *testing.T) {
	spec := contract.RequireSpec(t)
	ops := spec.OperationIDs()
	if len(ops) != 119 || !slices.Contains(ops, "list-audit-logs") || !slices.IsSorted(ops) {
		t.Fatalf("%d operations", len(ops))
	}
	again, err := contract.Load(spec.Path())
	if err != nil || again != spec {
		t.Fatal("the spec is parsed again instead of shared")
	}
}

// answer is a canned server response.
type answer struct {
	status int
	header map[string]string
	body   string
}

type wantViolation struct {
	dir      contract.Direction
	field    string // prefix
	rejected bool
}

func TestValidator(t *testing.T) {
	spec := contract.RequireSpec(t)
	const key = "Bearer sk-admin-test"
	user := `{"object":"organization.user","id":"user-1","name":"A","email":"a@example.com","role":"owner","added_at":1}`
	users := `{"object":"list","data":[` + user + `],"first_id":"user-1","last_id":"user-1","has_more":false}`
	emptyAudit := `{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}`
	apiErr := `{"error":{"message":"no","type":"invalid_request_error","param":null,"code":null}}`
	project := `{"id":"proj_1","object":"organization.project","name":"P","created_at":1,"archived_at":null,"status":"active"}`
	cases := []struct {
		name   string
		method string
		target string
		auth   string
		body   string
		answer answer
		want   []wantViolation
	}{
		{"SDK bracket array for emails", "GET", "/v1/organization/users?emails[]=a@example.com&limit=5", key, "", answer{200, nil, users}, nil},
		{"plain emails", "GET", "/v1/organization/users?emails=a@example.com", key, "", answer{200, nil, users}, nil},
		{"audit filters as the SDK sends them", "GET", "/v1/organization/audit_logs?effective_at[gt]=1&effective_at[lte]=9&project_ids[]=p&event_types[]=login.succeeded&actor_emails[]=a@b.c", key, "", answer{200, nil, emptyAudit}, nil},
		{"audit array without brackets", "GET", "/v1/organization/audit_logs?project_ids=p", key, "", answer{200, nil, emptyAudit}, nil},
		{"effective_at not an integer, refused", "GET", "/v1/organization/audit_logs?effective_at[gt]=abc", key, "", answer{400, nil, apiErr},
			[]wantViolation{{contract.Request, "query effective_at", true}}},
		{"effective_at unknown operator", "GET", "/v1/organization/audit_logs?effective_at[zz]=1", key, "", answer{200, nil, emptyAudit},
			[]wantViolation{{contract.Request, "query effective_at[zz]", false}}},
		{"bad event type enum", "GET", "/v1/organization/audit_logs?event_types[]=nope", key, "", answer{200, nil, emptyAudit},
			[]wantViolation{{contract.Request, "query event_types[]", false}}},
		{"misspelt parameter", "GET", "/v1/organization/projects/proj_1/api_keys?ownr_project_access=any", key, "", answer{200, nil, `{"object":"list","data":[],"has_more":false}`},
			[]wantViolation{{contract.Request, "query ownr_project_access", false}}},
		{"no bearer, refused", "GET", "/v1/organization/users", "", "", answer{401, nil, apiErr},
			[]wantViolation{{contract.Request, "header Authorization", true}}},
		{"bad body enum accepted", "POST", "/v1/organization/invites", key, `{"email":"x@example.com","role":"admin"}`,
			answer{200, nil, `{"object":"organization.invite","id":"invite-1","email":"x@example.com","role":"reader","status":"pending","created_at":1,"projects":[]}`},
			[]wantViolation{{contract.Request, "body /role", false}}},
		{"extra body fields are allowed", "POST", "/v1/organization/projects", key, `{"name":"P","geography":"eu"}`, answer{200, nil, project}, nil},
		{"response lacks a required field", "GET", "/v1/organization/users/user-1", key, "", answer{200, nil, `{"object":"organization.user","id":"user-1"}`},
			[]wantViolation{{contract.Response, "body /added_at", false}}},
		{"response field of the wrong type", "GET", "/v1/organization/users", key, "", answer{200, nil, strings.Replace(users, `"added_at":1`, `"added_at":"1"`, 1)},
			[]wantViolation{{contract.Response, "body /data/0/added_at", false}}},
		{"201 is not declared", "POST", "/v1/organization/projects", key, `{"name":"P"}`, answer{201, nil, project},
			[]wantViolation{{contract.Response, "status", false}}},
		{"undeclared 404 with an OpenAI error", "GET", "/v1/organization/users/user-x", key, "", answer{404, nil, apiErr}, nil},
		{"undeclared 404 with another shape", "GET", "/v1/organization/users/user-x", key, "", answer{404, nil, `{"message":"not found"}`},
			[]wantViolation{{contract.Response, "body /", false}}},
		{"declared 429 with Retry-After 0", "GET", "/v1/organization/audit_logs", key, "", answer{429, map[string]string{"Retry-After": "0"}, apiErr},
			[]wantViolation{{contract.Response, "header Retry-After", false}}},
		{"declared 429 with Retry-After 1", "GET", "/v1/organization/audit_logs", key, "", answer{429, map[string]string{"Retry-After": "1", "Retry-After-Ms": "20"}, apiErr}, nil},
		{"path not in the spec", "GET", "/v1/organization/teleport", key, "", answer{404, nil, apiErr},
			[]wantViolation{{contract.Request, "path", true}}},
		{"method not in the spec", "PUT", "/v1/organization/users/user-1", key, "{}", answer{404, nil, apiErr},
			[]wantViolation{{contract.Request, "path", true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := contract.NewValidator(spec)
			srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				for k, val := range tc.answer.header {
					w.Header().Set(k, val)
				}
				w.WriteHeader(tc.answer.status)
				_, _ = io.WriteString(w, tc.answer.body)
			})))
			defer srv.Close()
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, _ := http.NewRequest(tc.method, srv.URL+tc.target, body)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.answer.status || string(got) != tc.answer.body {
				t.Fatalf("middleware changed the response: %d %s", res.StatusCode, got)
			}
			vs := v.Violations()
			if len(vs) != len(tc.want) {
				t.Fatalf("violations %v, want %d", vs, len(tc.want))
			}
			for i, w := range tc.want {
				x := vs[i]
				if x.Direction != w.dir || !strings.HasPrefix(x.Field, w.field) || x.Rejected != w.rejected || x.Status != tc.answer.status || x.Method != tc.method {
					t.Errorf("violation %+v, want %+v", x, w)
				}
			}
			failures := 0
			for _, w := range tc.want {
				if !w.rejected {
					failures++
				}
			}
			if len(v.Failures()) != failures {
				t.Errorf("Failures() = %v, want %d", v.Failures(), failures)
			}
		})
	}
}

func TestCoverageAndReset(t *testing.T) {
	spec := contract.RequireSpec(t)
	v := contract.NewValidator(spec)
	srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","data":[],"has_more":false}`)
	})))
	defer srv.Close()
	for _, p := range []string{"/v1/organization/invites", "/v1/organization/invites", "/v1/organization/projects"} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		req.Header.Set("Authorization", "Bearer k")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	cov := v.Coverage()
	if cov["list-invites"] != 2 || cov["list-projects"] != 1 || len(cov) != 2 {
		t.Fatalf("coverage %v", cov)
	}
	if un := v.Uncovered([]string{"list-invites", "list-users", "list-projects"}); !slices.Equal(un, []string{"list-users"}) {
		t.Fatalf("uncovered %v", un)
	}
	v.Reset()
	if len(v.Coverage()) != 0 || len(v.Violations()) != 0 {
		t.Fatal("Reset kept state")
	}
}

func TestHijackedConnectionPassesThrough(t *testing.T) {
	spec := contract.RequireSpec(t)
	v := contract.NewValidator(spec)
	srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack through the middleware: %v", err)
			return
		}
		conn.Close()
	})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/v1/organization/users?bogus=1", nil)
	req.Header.Set("Authorization", "Bearer k")
	if res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req); err == nil {
		res.Body.Close()
		t.Fatal("a dropped connection produced a response")
	}
	vs := v.Violations()
	if len(vs) != 1 || vs[0].Field != "query bogus" || vs[0].Status != 0 || !vs[0].Rejected {
		t.Fatalf("violations %+v", vs)
	}
}

func TestViolationsCarryNoKeyMaterial(t *testing.T) {
	spec := contract.RequireSpec(t)
	v := contract.NewValidator(spec)
	srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","data":[],"has_more":false}`)
	})))
	defer srv.Close()
	secret := "sk-admin-" + strings.Repeat("Z", 40)
	req, _ := http.NewRequest("GET", srv.URL+"/v1/organization/invites?"+secret+"=1&after="+secret, nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	vs := v.Violations()
	if len(vs) != 1 {
		t.Fatalf("violations %v", vs)
	}
	if s := vs[0].String(); strings.Contains(s, secret) || !strings.Contains(s, "sk-admin-[REDACTED]") {
		t.Fatalf("violation text %q", s)
	}
}

func TestBasePath(t *testing.T) {
	spec := contract.RequireSpec(t)
	v := contract.NewValidator(spec, contract.WithBasePath("/api/openai/v1/"))
	srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","data":[],"has_more":false}`)
	})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/openai/v1/organization/invites", nil)
	req.Header.Set("Authorization", "Bearer k")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if v.Coverage()["list-invites"] != 1 || len(v.Violations()) != 0 {
		t.Fatalf("coverage %v violations %v", v.Coverage(), v.Violations())
	}
}
