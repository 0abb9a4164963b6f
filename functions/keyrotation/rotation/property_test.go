package rotation_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation/secretdoc"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

// crash is a way a step fails midway; Secrets Manager then retries the
// rotation from createSecret with the same token.
type crash struct {
	name   string
	inject func(f *fixture, k kind)
	after  bool // the step did its work; the process stopped before answering
}

var crashes = []crash{
	{name: "process stopped after the step", after: true},
	{name: "mint answer lost", inject: func(f *fixture, k kind) {
		f.emu.Emulator.InjectFault(adminapi.Rule{Method: "POST", PathPattern: k.creates, Reset: true, AfterCommit: true})
	}},
	{name: "mint refused", inject: func(f *fixture, k kind) {
		f.emu.Emulator.InjectFault(adminapi.Rule{Method: "POST", PathPattern: k.creates, Status: 500})
	}},
	{name: "credential list unavailable", inject: func(f *fixture, k kind) {
		pattern := "/organization/admin_api_keys"
		if k.name == serviceAccountKind.name {
			pattern = "/organization/projects/*/service_accounts"
		}
		f.emu.Emulator.InjectFault(adminapi.Rule{Method: "GET", PathPattern: pattern, Status: 503, Count: 3})
	}},
	{name: "delete fails", inject: func(f *fixture, k kind) {
		f.emu.Emulator.InjectFault(adminapi.Rule{Method: "DELETE", PathPattern: k.creates + "/*", Status: 500, Count: 3})
	}},
}

// TestRotationProperty runs two rotations of one secret (tokens A and B,
// as a manual invoke during a scheduled rotation, or a stale retry) in a
// random interleaving of their steps, with steps crashing midway and
// retried, for many seeds. After every step AWSCURRENT authenticates and
// nothing but a credential minted by this secret's rotations was deleted;
// at the end no rotation is left pending, and once the grace period is
// over and the sweep has run, the only minted credential alive is the
// current one, and the original is gone exactly when it was replaced.
func TestRotationProperty(t *testing.T) {
	seeds := 200
	if testing.Short() {
		seeds = 40
	}
	for seed := range seeds {
		k := kinds[seed%len(kinds)]
		t.Run(fmt.Sprintf("%s/seed=%d", k.name, seed), func(t *testing.T) {
			t.Parallel()
			rotationProperty(t, k, uint64(seed))
		})
	}
}

type tokenRun struct {
	token string
	pos   int // next step
	done  bool
}

var steps = []string{rotation.StepCreate, rotation.StepSet, rotation.StepTest, rotation.StepFinish}

func rotationProperty(t *testing.T, k kind, seed uint64) {
	// Every request the emulator answers is validated against the spec by
	// the other tests; here the thousands of steps are about rotation.
	f := newFixture(t, adminapi.Options{}, adminapitest.WithoutValidation())
	arn := k.setup(f)
	_, original := f.version(arn, "AWSCURRENT")
	// Bystanders: credentials no rotation of this secret may delete.
	if _, _, err := f.emu.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "partner integration", LastUsedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if k.name == serviceAccountKind.name {
		sa, err := f.emu.Emulator.AddServiceAccount(original.ProjectID, adminapi.NewServiceAccount{Name: "payments-app"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.emu.Emulator.AddProjectAPIKey(original.ProjectID, adminapi.NewProjectAPIKey{OwnerServiceAccountID: sa, LastUsedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	start := f.credentialNames(original.ProjectID)
	f.enableRotation(arn)

	rng := rand.New(rand.NewPCG(seed, 11))
	runs := []*tokenRun{{token: tokenA}, {token: tokenB}}
	faults := 3
	var trail []string
	alive := start
	for tick := 0; ; tick++ {
		if tick == 100 {
			t.Fatalf("no convergence after %d steps: %v", tick, trail)
		}
		var active []*tokenRun
		for _, r := range runs {
			if !r.done {
				active = append(active, r)
			}
		}
		if len(active) == 0 {
			break
		}
		r := active[rng.IntN(len(active))]
		step := steps[r.pos]
		var c *crash
		if faults > 0 && rng.IntN(3) == 0 {
			c = &crashes[rng.IntN(len(crashes))]
			faults--
			if c.inject != nil {
				c.inject(f, k)
			}
		}
		err := f.step(f.handler(), arn, r.token, step)
		f.emu.Emulator.ClearFaults()
		if c != nil && c.after {
			err = errors.Join(err, errors.New(c.name))
		}
		what := r.token[:1] + " " + step
		if c != nil {
			what += " (" + c.name + ")"
		}
		if err != nil {
			what += ": failed"
		}
		trail = append(trail, what)

		// After every step: AWSCURRENT works, and only credentials
		// minted for this secret were deleted.
		_, cur := f.version(arn, "AWSCURRENT")
		if werr := f.keyWorks(cur); werr != nil {
			t.Fatalf("after %v: AWSCURRENT does not work: %v", trail, werr)
		}
		now := f.credentialNames(original.ProjectID)
		for id, name := range alive {
			if _, ok := now[id]; !ok && !rotation.MintedForSecret(name, arn) {
				t.Fatalf("after %v: %s (%q) was deleted, and no rotation of this secret minted it", trail, id, name)
			}
		}
		alive = now

		switch {
		case err == nil:
			r.pos++
			r.done = r.pos == len(steps)
		case c != nil:
			r.pos = 0 // Secrets Manager retries the rotation with the same token
		default:
			r.done = true // refused: another rotation took over
		}
	}

	d := f.describe(arn)
	curVersion, cur := f.version(arn, "AWSCURRENT")
	if v := versionWith(d, "AWSPENDING"); v != "" && v != curVersion {
		t.Fatalf("after %v: AWSPENDING left on %s", trail, v)
	}
	rets, _ := secretdoc.Retirements(d.Tags)
	allowed := []string{cur.CredentialID()}
	for _, r := range rets {
		allowed = append(allowed, r.CredentialID)
	}
	for _, id := range mintedAlive(f, k, original.ProjectID) {
		if !slices.Contains(allowed, id) {
			t.Errorf("after %v: minted credential %s is neither current nor awaiting retirement", trail, id)
		}
	}

	f.cfg.ManagedSecrets = []string{arn}
	f.emu.Emulator.AdvanceClock(f.cfg.Grace + time.Hour)
	if _, err := f.handler().Sweep(t.Context(), false); err != nil {
		t.Fatalf("after %v: sweep: %v", trail, err)
	}
	var want []string
	if cur.CredentialID() != original.CredentialID() {
		want = []string{cur.CredentialID()}
	}
	if got := mintedAlive(f, k, original.ProjectID); !slices.Equal(got, want) {
		t.Errorf("after %v and the sweep: minted credentials alive %v, want %v", trail, got, want)
	}
	if err := f.keyWorks(cur); err != nil {
		t.Errorf("after %v and the sweep: AWSCURRENT does not work: %v", trail, err)
	}
	final := f.credentialNames(original.ProjectID)
	for id, name := range start {
		_, ok := final[id]
		switch {
		case id == original.CredentialID() && cur.CredentialID() != original.CredentialID():
			if ok {
				t.Errorf("after %v: the replaced credential %s outlived its grace period", trail, id)
			}
		case !ok:
			t.Errorf("after %v: %s (%q) was deleted", trail, id, name)
		}
	}
}

// credentialNames maps every admin key and every service account of the
// project to its name.
func (f *fixture) credentialNames(project string) map[string]string {
	m := map[string]string{}
	for _, k := range f.emu.Emulator.AdminAPIKeys() {
		m[k.ID] = k.Name
	}
	if project != "" {
		for _, sa := range f.emu.Emulator.ServiceAccounts(project) {
			m[sa.ID] = sa.Name
		}
	}
	return m
}
