package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/orgwarden/orgwarden/functions/inventory/review"
	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// inventoryDemo takes a snapshot of the organization, changes it, takes
// the next day's snapshot (on the emulator's clock), re-runs that day
// (nothing written), verifies the manifest chain, and prints the access
// review of the first day and the changes the second day shows.
func inventoryDemo() demoStep {
	return demoStep{name: snapshot.Function, run: runInventoryDemo}
}

func runInventoryDemo(ctx context.Context, d *demo) error {
	h, err := snapshot.FromEnv(ctx, d.env(nil), app.Options{Out: d.logs}, snapshot.WithClock(d.emu.Now))
	if err != nil {
		return err
	}
	invoke := func() (snapshot.Result, error) {
		var r snapshot.Result
		out, err := lambda.NewHandler(h.Handle).Invoke(ctx, []byte(`{"version":"0","detail-type":"Scheduled Event","source":"aws.scheduler","detail":{}}`))
		if err != nil {
			return r, err
		}
		return r, json.Unmarshal(out, &r)
	}
	records := func(r snapshot.Result) (n int64) {
		for _, t := range r.Tables {
			n += t.Records
		}
		return n
	}

	day1, err := invoke()
	if err != nil {
		return fmt.Errorf("first snapshot: %w", err)
	}
	d.printf("    snapshot of %s: %d tables, %d records, %d API calls, manifest %s\n", day1.Date, len(day1.Tables), records(day1), day1.APICalls, day1.Manifest)
	var rows [][]string
	for _, t := range day1.Tables {
		rows = append(rows, []string{t.Name, fmt.Sprint(t.Records), fmt.Sprint(t.Bytes), t.SHA256[:12]})
	}
	d.table("table,records,bytes (gzip),sha256", rows)

	// During the day: a person joins a project as owner, a service account
	// with a key appears.
	var proj string
	for _, p := range d.emu.Projects() {
		if p.Status == "active" {
			proj = p.ID
			break
		}
	}
	userID, err := d.emu.AddUser(adminapi.NewUser{Name: "Dana Demo", Email: "dana.demo@example.com", Role: "reader"})
	if err != nil {
		return err
	}
	if err := d.emu.AddProjectUser(proj, userID, "owner"); err != nil {
		return err
	}
	saID, err := d.emu.AddServiceAccount(proj, adminapi.NewServiceAccount{Name: "nightly-batch", Role: "member"})
	if err != nil {
		return err
	}
	if _, _, err := d.emu.AddProjectAPIKey(proj, adminapi.NewProjectAPIKey{Name: "nightly-batch key", OwnerServiceAccountID: saID}); err != nil {
		return err
	}
	d.printf("    during the day: dana.demo@example.com joins %s as owner; service account nightly-batch gets a key\n", proj)

	d.emu.AdvanceClock(24 * time.Hour)
	day2, err := invoke()
	if err != nil {
		return fmt.Errorf("second snapshot: %w", err)
	}
	d.printf("    a day later (emulator clock): snapshot of %s, sequence %d, %d records, %d API calls\n", day2.Date, day2.Sequence, records(day2), day2.APICalls)
	again, err := invoke()
	if err != nil {
		return fmt.Errorf("re-run: %w", err)
	}
	d.printf("    the same day again: %s, nothing written\n", again.Outcome)

	store, layout := h.Store(), h.Config().Layout()
	rep, err := snapshot.Verify(ctx, store, layout)
	if err != nil {
		return err
	}
	d.printf("    verify --inventory: %d snapshots, %d objects, %d records, problems: %d\n", rep.Snapshots, rep.Objects, rep.Records, len(rep.Problems))
	if !rep.OK() {
		return fmt.Errorf("the inventory does not verify: %v", rep.Problems)
	}

	asOf, _ := time.Parse(time.DateOnly, day1.Date)
	r1, err := review.Build(ctx, store, layout, review.Options{AsOf: asOf.Add(24*time.Hour - time.Second), Project: proj})
	if err != nil {
		return err
	}
	d.printf("    report access --as-of %s --project %s: %d roles, %d keys, %d service accounts, %d pending invites\n",
		r1.AsOf, proj, len(r1.Access), len(r1.Keys), len(r1.ServiceAccounts), len(r1.Invites))
	rows = nil
	for _, a := range r1.Access {
		if a.ProjectID != "" { // the project's members; their organization roles follow in the files
			rows = append(rows, []string{a.ProjectID, a.Email, a.Role})
		}
	}
	d.table("project,email,role", rows)
	r2, err := review.Build(ctx, store, layout, review.Options{AsOf: d.emu.Now(), Project: proj})
	if err != nil {
		return err
	}
	d.printf("    report access --as-of %s: changes since %s\n", r2.AsOf, r2.Since)
	rows = nil
	for _, c := range r2.Changes {
		rows = append(rows, []string{string(c.Kind), orOrg(c.ProjectID), c.Subject, c.Before, c.After})
	}
	d.table("change,project,subject,before,after", rows)
	if len(r2.Changes) == 0 {
		return fmt.Errorf("the second day's review shows no change")
	}
	return nil
}
