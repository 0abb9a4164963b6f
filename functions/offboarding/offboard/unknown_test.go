package offboard

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// A key list the API answered only in part (a page that says more follow
// without last_id, or a page that repeats the one before) is a transient
// failure of the message: SQS delivers it again, nothing is removed while
// a key may be unseen, and the next delivery finishes the job. Before, the
// list ended quietly at page 2 and the person was reported offboarded with
// the keys on the later pages alive.
func TestHandleFailsOnAHalfReadKeyList(t *testing.T) {
	for _, mode := range []adminapi.PageMode{adminapi.PageNoCursor, adminapi.PageRepeat} {
		t.Run(mode.String(), func(t *testing.T) {
			o := newOrg(t, 1, 1)
			s := newStack(t, o)
			s.env["ORGWARDEN_MAX_DELETIONS"] = "1000" // 250 keys are one person's, not a runaway
			proj := o.person.projects[0]
			// 250 keys: three pages of 100. Page 2 is the broken one.
			for i := len(o.person.keys[proj]); i < 250; i++ {
				id, _, err := o.emu.AddProjectAPIKey(proj, adminapi.NewProjectAPIKey{Name: fmt.Sprintf("jane key %d", i), OwnerUserID: o.person.id})
				must(t, err)
				o.person.keys[proj] = append(o.person.keys[proj], id)
			}
			must(t, o.emu.InjectPageFault(adminapi.PageFault{PathPattern: "/organization/projects/*/api_keys", Mode: mode, Skip: 1}))

			msg := sqsMessage("m-jane", `{"email":"jane.leaver@example.com","ticket":"HR-1"}`, 1)
			resp := s.invoke(t, nil, msg)
			if got := failedIDs(resp); !slices.Equal(got, []string{"m-jane"}) {
				t.Fatalf("batch item failures %v, want the message back on the queue", got)
			}
			if n := metricsOf(o.logs.String())[MetricFailures+"/"+string(KindTransient)]; n != 1 {
				t.Errorf("transient failures metric = %v, want 1", n)
			}
			if sum := summaries(t, o.logs.String())["m-jane"]; sum.Outcome == Offboarded {
				t.Errorf("summary says %q for a half-read key list", sum.Outcome)
			}
			if _, keys, _, user := o.remaining(o.person); keys != 250 || !user {
				t.Errorf("after the failed attempt: %d keys left (want all 250), user present %v", keys, user)
			}
			if !strings.Contains(o.logs.String(), "incomplete list") {
				t.Errorf("the logs do not name the incomplete list")
			}

			// The API answers whole again: the redelivery finishes the job.
			o.emu.ClearFaults()
			resp = s.invoke(t, nil, sqsMessage("m-jane", `{"email":"jane.leaver@example.com","ticket":"HR-1"}`, 2))
			if len(resp.BatchItemFailures) != 0 {
				t.Fatalf("redelivery failed: %v", failedIDs(resp))
			}
			if m, keys, inv, user := o.remaining(o.person); m+keys+inv != 0 || user {
				t.Errorf("after the redelivery: %d memberships, %d keys, %d invites, user %v", m, keys, inv, user)
			}
		})
	}
}

// A key is the person's only when its owner.type says so and names them.
// A key that does not say (no owner.type, or a type this code does not
// know) may be theirs: it is journaled as skipped with the reason, never
// revoked, and everything else is still removed.
func TestOffboardLeavesKeysOfUnknownOwnerAndReportsThem(t *testing.T) {
	tests := []struct {
		name  string
		shape adminapi.Shape
	}{
		{"no owner.type", adminapi.Shape{OmitOwnerType: true}},
		{"owner.type says service_account, with the person's user object", adminapi.Shape{OwnerType: "service_account"}},
		{"owner.type user without owner.user", adminapi.Shape{OmitOwnerDetail: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			o := newOrg(t, 2, 2)
			makeOwner(o)
			odd := o.person.keys[o.person.projects[1]][0]
			must(t, o.emu.SetShape(odd, tt.shape))
			// An admin key of the person's that does not say its owner's type.
			adminKey, _, err := o.emu.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "jane's laptop"})
			must(t, err)
			must(t, o.emu.SetShape(adminKey, adminapi.Shape{OmitOwnerType: true}))

			res, err := o.offboarder(false, guard.Rules{AllowOwners: true}).Offboard(ctx, request(o.person.email), Attempt{MessageID: "m-1"})
			if err != nil {
				t.Fatalf("Offboard: %v", err)
			}
			notes := map[string]string{}
			for _, k := range res.Record.APIKeys {
				if k.Outcome == journal.Skipped {
					notes[k.ID] = k.Note
				}
			}
			for _, id := range []string{odd, adminKey} {
				if !strings.Contains(notes[id], "owner unknown") {
					t.Errorf("key %s: skipped note %q, want it reported as owner unknown", id, notes[id])
				}
				if o.emu.CountRequests("DELETE", "/organization/*/"+id)+o.emu.CountRequests("DELETE", "/organization/projects/*/api_keys/"+id) != 0 {
					t.Errorf("key %s of unknown owner was deleted", id)
				}
			}
			// The person's other keys are gone, the odd one is still there.
			left := 0
			for _, p := range o.person.projects {
				for _, k := range o.emu.ProjectAPIKeys(p) {
					if k.OwnerID == o.person.id {
						left++
						if k.ID != odd {
							t.Errorf("key %s of the person survived", k.ID)
						}
					}
				}
			}
			if left != 1 {
				t.Errorf("%d keys of the person left, want only the one of unknown owner", left)
			}
		})
	}
}
