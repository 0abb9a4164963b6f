package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation/secretdoc"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/sweep"
	smlocal "github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager"
)

// keyRotationDemo previews the stale-key sweep on the seeded organization,
// rotates the deployment's own admin key through Secrets Manager's four
// steps, and, a day later on the emulator's clock, runs the sweep for real:
// stale keys revoked (or held by the cap) and the rotated-out admin key
// retired.
func keyRotationDemo() demoStep {
	return demoStep{name: rotation.Function, run: runKeyRotationDemo}
}

func runKeyRotationDemo(ctx context.Context, d *demo) error {
	newHandler := func() (*rotation.Handler, error) {
		// A fresh handler per phase, as a fresh Lambda container: it reads the
		// admin key's AWSCURRENT again. Ages are judged on the emulator's clock.
		return rotation.FromEnv(ctx, d.env(nil), app.Options{Out: d.logs}, rotation.WithClock(d.emu.Now))
	}

	// 1. Preview: the scheduled event with {"dry_run": true}.
	h, err := newHandler()
	if err != nil {
		return err
	}
	before := len(d.emu.MutatingRequests())
	out, err := lambda.NewHandler(h.Handle).Invoke(ctx, []byte(`{"dry_run": true}`))
	if err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	var res rotation.Result
	if err := json.Unmarshal(out, &res); err != nil || res.Sweep == nil {
		return fmt.Errorf("preview result %s: %v", out, err)
	}
	p := res.Sweep
	d.printf("    stale-key sweep, preview ({\"dry_run\": true}): %d projects, %d project keys, %d admin keys scanned; changes sent: %d\n",
		p.Scanned.Projects, p.Scanned.ProjectKeys, p.Scanned.AdminKeys, len(d.emu.MutatingRequests())-before)
	d.printf("    would revoke %d, report %d, skip %d (cap %d per run)\n", len(p.Keys.Deletions), len(p.Keys.Reports), len(p.Keys.Skipped), p.Keys.Cap)
	d.table("action,kind,name,why", demoEntries(p.Keys, 8))

	// 2. Rotate the deployment's own admin key, Secrets Manager driving the
	// four steps through the function's Lambda handler.
	arn := d.resource.AdminSecretARN
	oldDoc, err := demoSecret(ctx, d, arn)
	if err != nil {
		return err
	}
	var steps []string
	d.aws.SecretsManager.SetRotationInvoker(func(ctx context.Context, _ string, ev smlocal.RotationEvent) error {
		h, err := newHandler()
		if err != nil {
			return err
		}
		payload, _ := json.Marshal(ev)
		out, err := lambda.NewHandler(h.Handle).Invoke(ctx, payload)
		var r rotation.Result
		if json.Unmarshal(out, &r) == nil && r.Rotation != nil {
			steps = append(steps, ev.Step+": "+demoStepLine(r.Rotation.StepResult))
		}
		return err
	})
	sm := d.aws.SecretsManager.Client()
	creates := d.emu.CountRequests("POST", "/organization/admin_api_keys")
	if _, err := sm.RotateSecret(ctx, &awssm.RotateSecretInput{SecretId: aws.String(arn),
		RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:000000000000:function:orgwarden-keyrotation"),
		RotationRules:     &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}}); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	attempts := d.aws.SecretsManager.Rotations()
	if a := attempts[len(attempts)-1]; a.Err != nil {
		return fmt.Errorf("rotation failed: %w", a.Err)
	}
	d.printf("    admin-key rotation of %s (RotateSecret, every 30 days):\n", arn)
	for _, s := range steps {
		d.printf("      %s\n", s)
	}
	newDoc, err := demoSecret(ctx, d, arn)
	if err != nil {
		return err
	}
	newWorks, oldWorks := demoAdminKeyWorks(ctx, d, newDoc), demoAdminKeyWorks(ctx, d, oldDoc)
	d.printf("    AWSCURRENT now holds %s (works: %v); %s keeps working through the grace period (works: %v); admin keys minted: %d\n",
		newDoc.KeyID, newWorks == nil, oldDoc.KeyID, oldWorks == nil, d.emu.CountRequests("POST", "/organization/admin_api_keys")-creates)
	if newWorks != nil || oldWorks != nil {
		return fmt.Errorf("after rotation: new key: %v; old key: %v", newWorks, oldWorks)
	}

	// 3. A day later, the scheduled sweep runs for real.
	d.emu.AdvanceClock(25 * time.Hour)
	if h, err = newHandler(); err != nil {
		return err
	}
	sum, err := h.Sweep(ctx, false)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	d.printf("    25 hours later (emulator clock), the scheduled sweep:\n")
	if sum.Keys.CapExceeded {
		d.printf("      %d revocations planned, more than the cap of %d: none sent, CapExceeded=1 raises the alarm\n", len(sum.Keys.Deletions), sum.Keys.Cap)
	} else {
		d.printf("      stale keys revoked: %d; reported: %d; skipped (protected, owners, managed): %d\n",
			sum.Keys.Count("done"), len(sum.Keys.Reports), len(sum.Keys.Skipped))
	}
	for _, e := range sum.Retirements.Deletions {
		d.printf("      retired %s %s (%s): %s\n", e.Kind, e.ID, e.Reason, e.Outcome)
	}
	if len(sum.Retirements.Deletions) != 1 || sum.Retirements.Deletions[0].ID != oldDoc.KeyID || sum.Retirements.Deletions[0].Outcome != "done" {
		return fmt.Errorf("the rotated-out key was not retired: %+v", sum.Retirements)
	}
	oldWorks, newWorks = demoAdminKeyWorks(ctx, d, oldDoc), demoAdminKeyWorks(ctx, d, newDoc)
	d.printf("      old admin key now rejected: %v; current key works: %v; summary event on %s\n", oldWorks != nil, newWorks == nil, d.resource.SummaryBus)
	if oldWorks == nil || newWorks != nil {
		return fmt.Errorf("after retirement: old key still works: %v; current key: %v", oldWorks == nil, newWorks)
	}
	return nil
}

func demoSecret(ctx context.Context, d *demo, arn string) (secretdoc.Doc, error) {
	out, err := d.aws.SecretsManager.Client().GetSecretValue(ctx, &awssm.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return secretdoc.Doc{}, err
	}
	return secretdoc.Parse(aws.ToString(out.SecretString))
}

// demoAdminKeyWorks lists admin keys with the secret's key.
func demoAdminKeyWorks(ctx context.Context, d *demo, doc secretdoc.Doc) error {
	c := openai.NewClient(option.WithBaseURL(d.emuURL), option.WithAdminAPIKey(doc.APIKey.Reveal()), option.WithAPIKey(""), option.WithMaxRetries(0))
	_, err := c.Admin.Organization.AdminAPIKeys.List(ctx, openai.AdminOrganizationAdminAPIKeyListParams{Limit: openai.Int(1)})
	return err
}

func demoStepLine(r rotation.StepResult) string {
	parts := []string{string(r.Outcome)}
	if r.Created != "" {
		parts = append(parts, "minted "+r.Created)
	}
	if r.Detail != "" {
		parts = append(parts, r.Detail)
	}
	if r.Retirement != nil {
		parts = append(parts, fmt.Sprintf("AWSCURRENT moved; %s to be deleted after %s", r.Retirement.CredentialID, r.Retirement.Due.Format(time.RFC3339)))
	}
	return strings.Join(parts, "; ")
}

// demoEntries are up to n rows of a sweep result: deletions, then reports,
// then skips.
func demoEntries(r sweep.Result, n int) [][]string {
	var rows [][]string
	add := func(action string, es []sweep.Entry) {
		for _, e := range es {
			if len(rows) == n {
				return
			}
			name := e.Name
			if e.Email != "" {
				name += " (" + e.Email + ")"
			}
			rows = append(rows, []string{action, e.Kind, truncateDemo(name, 40), truncateDemo(e.Reason, 60)})
		}
	}
	add("revoke", r.Deletions)
	add("report", r.Reports)
	add("skip", r.Skipped)
	return rows
}
