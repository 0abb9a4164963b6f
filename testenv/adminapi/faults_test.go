package adminapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

func TestParseFaults(t *testing.T) {
	good := []struct {
		in   string
		want adminapi.Faults
	}{
		{"", adminapi.Faults{}},
		{"429=0.1,500=0.05,503=0.01,reset=0.02,latency=20ms,retry-after=20ms", adminapi.Faults{
			RateLimited: 0.1, ServerError: 0.05, Unavailable: 0.01, Reset: 0.02, Latency: 20 * time.Millisecond, RetryAfter: 20 * time.Millisecond}},
		{" reset=1 , reset-after-commit=true, seed=9 ", adminapi.Faults{Reset: 1, ResetAfterCommit: true, Seed: 9}},
	}
	for _, tc := range good {
		got, err := adminapi.ParseFaults(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseFaults(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if again, err := adminapi.ParseFaults(got.String()); err != nil || again != got {
			t.Errorf("String() %q does not parse back: %+v %v", got.String(), again, err)
		}
	}
	for _, bad := range []string{"429=1.5", "429=-0.1", "500=0.6,503=0.6", "latency=soon", "latency=-1s", "bogus=1", "429", "reset-after-commit=maybe", "seed=-1"} {
		if _, err := adminapi.ParseFaults(bad); err == nil {
			t.Errorf("ParseFaults(%q) accepted", bad)
		}
	}
	if _, err := adminapi.New(adminapi.Options{Faults: adminapi.Faults{RateLimited: 2}}); err == nil {
		t.Error("New accepted a rate above 1")
	}
}

// oneShot sends a request on a fresh connection, so a dropped connection is
// never retried by the transport. It returns the status, or an error when
// the connection was dropped.
func oneShot(srv *adminapitest.Server, method, path, body string) (int, http.Header, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+srv.AdminKey)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header, err
}

func faultSequence(t *testing.T, f adminapi.Faults, n int) []string {
	t.Helper()
	// Thousands of identical requests: the contract is checked elsewhere.
	srv := adminapitest.New(t, adminapi.Options{Faults: f, Clock: fixedClock}, adminapitest.WithoutValidation())
	for range n {
		_, _, _ = oneShot(srv, "GET", "/organization/projects", "")
	}
	var out []string
	for _, r := range srv.Emulator.Requests() {
		out = append(out, r.Fault)
	}
	return out
}

func TestFaultsAreDeterministicBySeed(t *testing.T) {
	f := adminapi.Faults{RateLimited: 0.2, ServerError: 0.1, Unavailable: 0.1, Reset: 0.1, Seed: 42}
	a, b := faultSequence(t, f, 150), faultSequence(t, f, 150)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	f.Seed = 43
	if c := faultSequence(t, f, 150); slices.Equal(a, c) {
		t.Fatal("different seeds gave the same faults")
	}
	kinds := map[string]bool{}
	for _, k := range a {
		kinds[k] = true
	}
	for _, k := range []string{"", "429", "500", "503", "reset"} {
		if !kinds[k] {
			t.Errorf("no %q in 150 requests: %v", k, kinds)
		}
	}
}

func TestFaultRatesAreRespected(t *testing.T) {
	const n = 2000
	f := adminapi.Faults{RateLimited: 0.1, ServerError: 0.05, Unavailable: 0.05, Reset: 0.05, Seed: 7}
	seq := faultSequence(t, f, n)
	count := map[string]int{}
	for _, k := range seq {
		count[k]++
	}
	for kind, p := range map[string]float64{"429": f.RateLimited, "500": f.ServerError, "503": f.Unavailable, "reset": f.Reset} {
		mean, sd := n*p, math.Sqrt(n*p*(1-p))
		if got := float64(count[kind]); math.Abs(got-mean) > 5*sd {
			t.Errorf("%s: %v of %d requests, expected about %v", kind, got, n, mean)
		}
	}
}

func TestRateLimitedCarriesRetryAfter(t *testing.T) {
	cases := []struct {
		retryAfter   time.Duration
		seconds, ms  string
		faultsOption time.Duration
	}{
		{0, "1", "1000", 0},
		{20 * time.Millisecond, "1", "20", 0},
		{2500 * time.Millisecond, "3", "2500", 0},
		{0, "1", "50", 50 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.retryAfter, tc.faultsOption), func(t *testing.T) {
			srv := adminapitest.New(t, adminapi.Options{Faults: adminapi.Faults{RetryAfter: tc.faultsOption}})
			srv.Emulator.InjectFault(adminapi.Rule{PathPattern: "/organization/audit_logs", Status: 429, RetryAfter: tc.retryAfter})
			status, h, body := raw(t, srv, "GET", "/organization/audit_logs", srv.AdminKey, "")
			if status != 429 || h.Get("Retry-After") != tc.seconds || h.Get("Retry-After-Ms") != tc.ms {
				t.Fatalf("status %d Retry-After %q Retry-After-Ms %q", status, h.Get("Retry-After"), h.Get("Retry-After-Ms"))
			}
			if e := errorBody(t, body); e["code"] != "rate_limit_exceeded" {
				t.Fatalf("429 body %v", e)
			}
		})
	}
}

func TestResetDropsTheConnection(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{Clock: fixedClock})
	srv.Emulator.InjectFault(adminapi.Rule{PathPattern: "/organization/users", Reset: true})
	_, _, err := oneShot(srv, "GET", "/organization/users", "")
	if err == nil {
		t.Fatal("request completed through a reset")
	}
	reqs := srv.Emulator.Requests()
	if len(reqs) != 1 || reqs[0].Status != 0 || reqs[0].Fault != "reset" {
		t.Fatalf("request log %+v", reqs)
	}
	if status, _, err := oneShot(srv, "GET", "/organization/users", ""); err != nil || status != 200 {
		t.Fatalf("after the rule is spent: %d %v", status, err)
	}
}

func TestFaultedMutationChangesNothing(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{Clock: fixedClock})
	emu := srv.Emulator
	projects, events := len(emu.Projects()), emu.AuditEventCount()
	for _, rule := range []adminapi.Rule{
		{Method: "POST", PathPattern: "/organization/projects", Status: 500},
		{Method: "POST", PathPattern: "/organization/projects", Status: 503},
		{Method: "POST", PathPattern: "/organization/projects", Status: 429},
		{Method: "POST", PathPattern: "/organization/projects", Reset: true},
	} {
		emu.InjectFault(rule)
		status, _, err := oneShot(srv, "POST", "/organization/projects", `{"name":"should not exist"}`)
		if err == nil && status == 200 {
			t.Fatalf("%+v: request succeeded", rule)
		}
	}
	if len(emu.Projects()) != projects || emu.AuditEventCount() != events {
		t.Fatalf("faulted creates changed the store: %d projects (was %d), %d events (was %d)", len(emu.Projects()), projects, emu.AuditEventCount(), events)
	}
	if got := len(emu.MutatingRequests()); got != 4 {
		t.Fatalf("%d mutating requests logged, want 4", got)
	}
}

func TestAfterCommitFaults(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{Clock: fixedClock, Faults: adminapi.Faults{Reset: 1, ResetAfterCommit: true}})
	emu := srv.Emulator
	before := len(emu.Projects())
	if _, _, err := oneShot(srv, "POST", "/organization/projects", `{"name":"applied"}`); err == nil {
		t.Fatal("connection not dropped")
	}
	if len(emu.Projects()) != before+1 {
		t.Fatal("reset-after-commit did not apply the create")
	}
	// Reads are dropped before they run, like any reset.
	if _, _, err := oneShot(srv, "GET", "/organization/projects", ""); err == nil {
		t.Fatal("read not dropped")
	}
	reqs := emu.Requests()
	if !reqs[0].Committed || reqs[0].Fault != "reset" || reqs[1].Committed {
		t.Fatalf("request log %+v", reqs)
	}

	if err := emu.SetFaults(adminapi.Faults{}); err != nil {
		t.Fatal(err)
	}
	emu.InjectFault(adminapi.Rule{Method: "POST", PathPattern: "/v1/organization/invites", Status: 500, AfterCommit: true})
	status, _, err := oneShot(srv, "POST", "/organization/invites", `{"email":"twice@example.com","role":"reader"}`)
	if err != nil || status != 500 {
		t.Fatalf("after-commit 500: %d %v", status, err)
	}
	// The invite exists although the client saw 500: a blind retry is refused.
	status, _, _ = oneShot(srv, "POST", "/organization/invites", `{"email":"twice@example.com","role":"reader"}`)
	if status != 400 {
		t.Fatalf("retry of a committed invite: %d, want 400", status)
	}
}

func TestRulesTargetMethodPathAndCount(t *testing.T) {
	srv := smallServer(t)
	emu := srv.Emulator
	ctx := context.Background()
	org := srv.SDKClient().Admin.Organization
	pid := emu.Projects()[1].ID
	var keys []string
	for _, k := range emu.ProjectAPIKeys(pid) {
		if k.OwnerType == "user" {
			keys = append(keys, k.ID)
		}
	}
	emu.InjectFault(adminapi.Rule{Method: "DELETE", PathPattern: "/organization/projects/*/api_keys/*", Status: 503, Count: 2})
	if _, err := org.Projects.APIKeys.Get(ctx, pid, keys[0]); err != nil {
		t.Fatalf("GET matched a DELETE rule: %v", err)
	}
	for i := range 2 {
		_, err := org.Projects.APIKeys.Delete(ctx, pid, keys[0])
		wantStatus(t, fmt.Sprintf("delete %d", i), err, 503)
	}
	if _, err := org.Projects.APIKeys.Delete(ctx, pid, keys[0]); err != nil {
		t.Fatalf("third delete: %v", err)
	}
	if n := emu.CountRequests("DELETE", "/organization/projects/*/api_keys/*"); n != 3 {
		t.Fatalf("CountRequests = %d, want 3", n)
	}
}

func TestSDKRetriesHonourRetryAfterMs(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{Clock: fixedClock})
	srv.Emulator.InjectFault(adminapi.Rule{Method: "GET", PathPattern: "/organization/users", Status: 429, Count: 2, RetryAfter: 5 * time.Millisecond})
	c := srv.SDKClient(option.WithMaxRetries(3))
	if _, err := c.Admin.Organization.Users.List(context.Background(), openai.AdminOrganizationUserListParams{}); err != nil {
		t.Fatalf("SDK did not get through two 429s: %v", err)
	}
	var faults []string
	for _, r := range srv.Emulator.Requests() {
		faults = append(faults, r.Fault)
	}
	if !slices.Equal(faults, []string{"429", "429", ""}) {
		t.Fatalf("attempts %v", faults)
	}
}

func TestLatencyIsAdded(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{Faults: adminapi.Faults{Latency: time.Minute}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c := srv.SDKClient()
	_, err := c.Admin.Organization.Users.List(ctx, openai.AdminOrganizationUserListParams{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a minute of latency did not outlast a 50ms deadline: %v", err)
	}
}

func TestRequestLog(t *testing.T) {
	srv := smallServer(t)
	emu := srv.Emulator
	ctx := context.Background()
	org := srv.SDKClient().Admin.Organization
	if _, err := org.Users.List(ctx, openai.AdminOrganizationUserListParams{Limit: openai.Int(3)}); err != nil {
		t.Fatal(err)
	}
	if _, err := org.Projects.New(ctx, openai.AdminOrganizationProjectNewParams{Name: "logged"}); err != nil {
		t.Fatal(err)
	}
	reqs := emu.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests logged", len(reqs))
	}
	r0, r1 := reqs[0], reqs[1]
	if r0.Method != "GET" || r0.Path != "/v1/organization/users" || r0.Query != "limit=3" || r0.Status != 200 || r0.Mutating || r0.KeyID == "" || !r0.Time.Equal(fixedNow) {
		t.Errorf("GET logged as %+v", r0)
	}
	if r1.Method != "POST" || !r1.Mutating || r1.Status != 200 {
		t.Errorf("POST logged as %+v", r1)
	}
	if m := emu.MutatingRequests(); len(m) != 1 || m[0].Path != "/v1/organization/projects" {
		t.Errorf("MutatingRequests = %+v", m)
	}
	if n := emu.CountRequests("get", ""); n != 1 {
		t.Errorf("CountRequests(get) = %d", n)
	}
	for _, r := range reqs {
		for _, s := range emu.IssuedSecrets() {
			if strings.Contains(fmt.Sprintf("%+v", r), s) {
				t.Fatal("request log holds key material")
			}
		}
	}
	emu.ResetRequests()
	if len(emu.Requests()) != 0 {
		t.Fatal("ResetRequests kept entries")
	}
}

func TestFaultsUnderConcurrency(t *testing.T) {
	srv := smallServer(t)
	emu := srv.Emulator
	c := srv.SDKClient(option.WithMaxRetries(30), option.WithRequestTimeout(10*time.Second))
	// 429s only: the SDK waits Retry-After-Ms (1ms) instead of backing off for seconds.
	if err := emu.SetFaults(adminapi.Faults{RateLimited: 0.3, RetryAfter: time.Millisecond, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if w == 0 && i == 5 {
					_ = emu.SetFaults(adminapi.Faults{RateLimited: 0.1, RetryAfter: time.Millisecond, Seed: 4})
				}
				if _, err := c.Admin.Organization.Projects.New(ctx, openai.AdminOrganizationProjectNewParams{Name: fmt.Sprintf("p-%d-%d", w, i)}); err != nil {
					errs <- err
				}
				emu.InjectFault(adminapi.Rule{Method: "GET", Status: 429, RetryAfter: time.Millisecond})
				if _, err := c.Admin.Organization.Users.List(ctx, openai.AdminOrganizationUserListParams{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("request failed through retries: %v", err)
	}
	created := 0
	for _, p := range emu.Projects() {
		if strings.HasPrefix(p.Name, "p-") {
			created++
		}
	}
	if created != 80 {
		t.Fatalf("%d projects created, want 80 (faults must not apply or duplicate mutations)", created)
	}
}
