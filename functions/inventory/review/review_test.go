package review_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/inventory/review"
	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memStore) Create(_ context.Context, key string, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; ok {
		return snapshot.ErrExists
	}
	s.m[key] = slices.Clone(body)
	return nil
}
func (s *memStore) Replace(_ context.Context, key string, body []byte, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = slices.Clone(body)
	return nil
}
func (s *memStore) Get(_ context.Context, key string) ([]byte, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[key]
	if !ok {
		return nil, "", fmt.Errorf("%s: %w", key, snapshot.ErrNotFound)
	}
	return b, "", nil
}
func (s *memStore) List(_ context.Context, prefix string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// setProjectRole changes a member's project role through the API.
func setProjectRole(srv *adminapitest.Server, project, user, role string) error {
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/organization/projects/"+project+"/users/"+user, strings.NewReader(`{"role":"`+role+`"}`))
	req.Header.Set("Authorization", "Bearer "+srv.AdminKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("update project user: %s", res.Status)
	}
	return nil
}

func TestReviewAsOfADayAndWhatChangedSince(t *testing.T) {
	seed := adminapi.SmallSeed(7)
	srv := adminapitest.New(t, adminapi.Options{Seed: &seed})
	emu := srv.Emulator
	api, err := adminclient.New(adminclient.Options{BaseURL: srv.URL, AdminKey: logging.Secret(srv.AdminKey)})
	if err != nil {
		t.Fatal(err)
	}
	store := &memStore{m: map[string][]byte{}}
	l := snapshot.Layout{Prefix: "p", OrgID: "org-review"}
	s := &snapshot.Snapshotter{Store: store, Layout: l, Log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	day1, err := s.Snapshot(ctx, api, emu.Now)
	if err != nil {
		t.Fatal(err)
	}
	d1 := emu.Now()

	// A day later: one member removed, one role changed, one service account added.
	var proj string
	for _, p := range emu.Projects() {
		if p.Status == "active" && len(emu.ProjectUsers(p.ID)) >= 2 {
			proj = p.ID
			break
		}
	}
	members := emu.ProjectUsers(proj)
	gone, promoted := members[0], members[1]
	newRole := map[string]string{"owner": "member", "member": "owner"}[promoted.Role]
	if _, err := api.RemoveProjectUser(ctx, proj, gone.UserID, "test"); err != nil {
		t.Fatal(err)
	}
	if err := setProjectRole(srv, proj, promoted.UserID, newRole); err != nil {
		t.Fatal(err)
	}
	saID, err := emu.AddServiceAccount(proj, adminapi.NewServiceAccount{Name: "ci-bot", Role: "member"})
	if err != nil {
		t.Fatal(err)
	}
	emu.AdvanceClock(24 * time.Hour)
	if _, err := s.Snapshot(ctx, api, emu.Now); err != nil {
		t.Fatal(err)
	}

	// As of day 1 (asked for later in the day): the people as they were.
	r1, err := review.Build(ctx, store, l, review.Options{AsOf: d1.Add(2 * time.Hour), Project: proj})
	if err != nil {
		t.Fatal(err)
	}
	if r1.Snapshot != day1.Date || r1.Since != "" || len(r1.Changes) != 0 {
		t.Fatalf("day-1 review: snapshot %s since %q, %d changes", r1.Snapshot, r1.Since, len(r1.Changes))
	}
	var got, want []string
	for _, a := range r1.Access {
		if a.ProjectID == proj {
			got = append(got, a.Email+"="+a.Role)
		}
	}
	for _, m := range members {
		want = append(want, m.Email+"="+m.Role)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("members of %s on day 1:\n got  %v\n want %v", proj, got, want)
	}

	// As of day 2: the changes since day 1, and nothing else.
	r2, err := review.Build(ctx, store, l, review.Options{AsOf: emu.Now(), Project: proj})
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, c := range r2.Changes {
		if c.Kind == review.InviteGone || c.Kind == review.InviteSent {
			continue // invites of the seed expire as the day passes
		}
		changes = append(changes, fmt.Sprintf("%s %s %s %s>%s", c.Kind, c.ProjectID, c.Subject, c.Before, c.After))
	}
	slices.Sort(changes)
	wantChanges := []string{
		fmt.Sprintf("%s %s %s %s>%s", review.RoleChanged, proj, promoted.Email, promoted.Role, newRole),
		fmt.Sprintf("%s %s %s %s>", review.Revoked, proj, gone.Email, gone.Role),
		fmt.Sprintf("%s %s ci-bot (%s) >member", review.SAAdded, proj, saID),
	}
	slices.Sort(wantChanges)
	if !slices.Equal(changes, wantChanges) {
		t.Errorf("changes:\n got  %v\n want %v", changes, wantChanges)
	}

	// Before the first snapshot there is nothing to review.
	if _, err := review.Build(ctx, store, l, review.Options{AsOf: d1.Add(-48 * time.Hour)}); err == nil {
		t.Error("a review before the first snapshot succeeded")
	}
	// A changed object is refused, not reviewed.
	key := l.ObjectKey("project_users", day1.Date)
	store.m[key][len(store.m[key])-3] ^= 1
	if _, err := review.Build(ctx, store, l, review.Options{AsOf: d1}); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("tampered snapshot: %v", err)
	}
}
