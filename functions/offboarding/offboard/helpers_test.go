package offboard

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	locals3 "github.com/orgwarden/orgwarden/testenv/awslocal/s3"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
	"github.com/orgwarden/orgwarden/testenv/logtest"
)

const journalBucket = "journal"

// org is an emulated organization with a person to offboard.
type org struct {
	t      testing.TB
	srv    *adminapitest.Server
	emu    *adminapi.Emulator
	s3     *locals3.Server
	store  *journal.Store
	logs   *logtest.Buffer
	person person
	// bystander shares the person's projects; nothing of theirs may change.
	bystander person
}

type person struct {
	email, id string
	projects  []string          // project ids, in order
	roles     map[string]string // project id -> role
	keys      map[string][]string
	invite    string
}

// newOrg builds an organization where the person (Jane) belongs to
// projects, owning the first one, with two keys in each of the first
// keyProjects projects and a pending invite to her email in other case;
// a bystander is in the same projects with keys of their own.
func newOrg(t testing.TB, projects, keyProjects int, opts ...adminapitest.Option) *org {
	t.Helper()
	return newOrgWith(t, adminapi.Options{}, projects, keyProjects, opts...)
}

func newOrgWith(t testing.TB, eopts adminapi.Options, projects, keyProjects int, opts ...adminapitest.Option) *org {
	t.Helper()
	srv := adminapitest.New(t, eopts, opts...)
	o := &org{t: t, srv: srv, emu: srv.Emulator, logs: &logtest.Buffer{}}
	o.person = o.addPerson("jane.leaver@example.com", projects, keyProjects, true)
	o.bystander = o.addPerson("bob.stays@example.com", 0, 0, false)
	for _, p := range o.person.projects {
		must(t, o.emu.AddProjectUser(p, o.bystander.id, "member"))
		id, _, err := o.emu.AddProjectAPIKey(p, adminapi.NewProjectAPIKey{Name: "bob's key", OwnerUserID: o.bystander.id})
		must(t, err)
		o.bystander.keys[p] = append(o.bystander.keys[p], id)
	}
	_, err := o.emu.AddInvite(adminapi.NewInvite{Email: "someone.new@example.com", Role: "reader"})
	must(t, err)

	o.s3 = s3test.New(t)
	must(t, o.s3.CreateBucket(context.Background(), journalBucket))
	o.store = &journal.Store{S3: o.s3.Client(), Bucket: journalBucket}
	return o
}

func (o *org) addPerson(email string, projects, keyProjects int, invite bool) person {
	t := o.t
	p := person{email: email, roles: map[string]string{}, keys: map[string][]string{}}
	var err error
	p.id, err = o.emu.AddUser(adminapi.NewUser{Email: email, Role: "reader"})
	must(t, err)
	for i := range projects {
		pid, err := o.emu.AddProject(adminapi.NewProject{Name: fmt.Sprintf("project %d", i)})
		must(t, err)
		role := "member"
		if i == 0 {
			role = "owner"
			_, err := o.emu.AddServiceAccount(pid, adminapi.NewServiceAccount{Name: "ci-bot"})
			must(t, err)
		}
		must(t, o.emu.AddProjectUser(pid, p.id, role))
		p.projects = append(p.projects, pid)
		p.roles[pid] = role
		if i < keyProjects {
			for k := range 2 {
				id, _, err := o.emu.AddProjectAPIKey(pid, adminapi.NewProjectAPIKey{Name: fmt.Sprintf("jane key %d", k), OwnerUserID: p.id})
				must(t, err)
				p.keys[pid] = append(p.keys[pid], id)
			}
		}
	}
	if invite {
		p.invite, err = o.emu.AddInvite(adminapi.NewInvite{Email: strings.ToUpper(email[:1]) + email[1:], Role: "reader",
			Projects: []adminapi.InviteProject{}})
		must(t, err)
	}
	return p
}

// client returns an Admin API client on the emulator, logging to o.logs.
func (o *org) client(dryRun bool, concurrency int) *adminclient.Client {
	o.t.Helper()
	c, err := adminclient.New(adminclient.Options{
		BaseURL:     o.srv.URL,
		AdminKey:    logging.Secret(o.srv.AdminKey),
		HTTPClient:  o.srv.HTTP.Client(),
		MaxRetries:  -1,
		Concurrency: concurrency,
		DryRun:      dryRun,
		Logger:      logging.New(o.logs, slog.LevelDebug),
	})
	must(o.t, err)
	return c
}

func (o *org) offboarder(dryRun bool, rules guard.Rules) *Offboarder {
	return &Offboarder{Client: o.client(dryRun, 4), Rules: rules, MaxKeyRevocations: 100, Journal: o.store,
		Prefix: journal.DefaultPrefix, Log: logging.New(o.logs, slog.LevelDebug)}
}

// remaining lists what the person still has: memberships, keys, pending
// invites, and whether the user exists.
func (o *org) remaining(p person) (memberships, keys, invites int, user bool) {
	for _, u := range o.emu.Users() {
		if strings.EqualFold(u.Email, p.email) {
			user = true
		}
	}
	for _, pr := range o.emu.Projects() {
		for _, pu := range o.emu.ProjectUsers(pr.ID) {
			if pu.UserID == p.id {
				memberships++
			}
		}
		for _, k := range o.emu.ProjectAPIKeys(pr.ID) {
			if k.OwnerID == p.id {
				keys++
			}
		}
	}
	for _, in := range o.emu.Invites() {
		if strings.EqualFold(in.Email, p.email) && in.Status == adminapi.InvitePending {
			invites++
		}
	}
	return
}

// assertNoSecretsLogged fails when any key value the emulator knows
// appears in the captured logs.
func (o *org) assertNoSecretsLogged(t testing.TB, extra ...string) {
	t.Helper()
	logs := o.logs.String() + strings.Join(extra, "\n")
	for _, s := range o.emu.IssuedSecrets() {
		if strings.Contains(logs, s) {
			t.Errorf("a key value the emulator issued appears in the logs")
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
