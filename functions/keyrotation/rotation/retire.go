package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation/secretdoc"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/awsconfig"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/sweep"
)

// managedSecret is what the sweep needs of a secret the rotation manages.
type managedSecret struct {
	ARN, Name string
	Doc       secretdoc.Doc // the AWSCURRENT value
	// Values are the AWSCURRENT and AWSPENDING values.
	Values []secretdoc.Doc
	// Live are the ids in the AWSCURRENT and AWSPENDING values: credentials
	// and keys that consumers use or are about to use.
	Live        map[string]bool
	Retirements []secretdoc.Retirement
}

// readManagedSecrets reads every ORGWARDEN_MANAGED_SECRET_ARNS secret and
// proves each value's key_id belongs to its api_key (proveManaged). A
// secret that cannot be read, parsed or proven is returned in unreadable
// (an error naming it): its credentials cannot be told from anyone else's,
// so the sweep fails closed. Malformed retirement tags are reported in
// tagErrs; the secret's other retirements proceed.
func (h *Handler) readManagedSecrets(ctx context.Context, client *adminclient.Client) (managed []managedSecret, unreadable, tagErrs error) {
	var bad, tags []error
	for _, id := range h.cfg.ManagedSecrets {
		ms, err := readManaged(ctx, h.deps.AWS.SecretsManager, id)
		if ms == nil {
			bad = append(bad, fmt.Errorf("managed secret %s cannot be read: %w", id, err))
			continue
		}
		if err != nil {
			tags = append(tags, fmt.Errorf("managed secret %s: %w", id, err))
		}
		if perr := proveManaged(ctx, client, ms); perr != nil {
			bad = append(bad, fmt.Errorf("managed secret %s cannot be trusted: %w", id, perr))
			continue
		}
		managed = append(managed, *ms)
	}
	return managed, errors.Join(bad...), errors.Join(tags...)
}

// proveManaged checks that every live value of ms names the key its
// api_key holds, and adds the key found by its redaction to ms.Live, so a
// value without key_id still protects its key.
func proveManaged(ctx context.Context, client *adminclient.Client, ms *managedSecret) error {
	for _, d := range ms.Values {
		if d.Type == secretdoc.TypeAdminKey {
			k, found, err := adminKeyOf(ctx, client, ms.ARN, d)
			if err != nil {
				return err
			}
			if found {
				ms.Live[k.ID] = true
			}
			continue
		}
		if _, _, err := serviceAccountOf(ctx, client, ms.ARN, d); err != nil {
			return err
		}
	}
	return nil
}

// readManaged returns the secret, and an error for malformed retirement
// tags, which are reported and skipped while the others proceed. A nil
// secret means it could not be read.
func readManaged(ctx context.Context, sm *secretsmanager.Client, id string) (*managedSecret, error) {
	desc, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		return nil, err
	}
	ms := &managedSecret{ARN: aws.ToString(desc.ARN), Name: aws.ToString(desc.Name), Live: map[string]bool{}}
	for versionID, stages := range desc.VersionIdsToStages {
		current := slices.Contains(stages, stageCurrent)
		if !current && !slices.Contains(stages, stagePending) {
			continue
		}
		stage := stageCurrent
		if !current {
			stage = stagePending
		}
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: desc.ARN, VersionId: aws.String(versionID), VersionStage: aws.String(stage)})
		switch {
		case err != nil && !current && isNotFound(err):
			continue // an empty AWSPENDING version: a rotation before createSecret stored its key
		case err != nil:
			return nil, fmt.Errorf("read %s version: %w", stage, err)
		}
		d, err := secretdoc.Parse(aws.ToString(out.SecretString))
		if err != nil {
			return nil, fmt.Errorf("%s version: %w", stage, err)
		}
		if current {
			ms.Doc = d
		}
		ms.Values = append(ms.Values, d)
		for _, live := range []string{d.CredentialID(), d.KeyID} {
			if live != "" {
				ms.Live[live] = true
			}
		}
	}
	if ms.Doc.Type == "" {
		return nil, errors.New("no AWSCURRENT version")
	}
	rets, errs := secretdoc.Retirements(desc.Tags)
	ms.Retirements = rets
	return ms, errors.Join(errs...)
}

// managedCredentials maps every credential a managed secret uses or will
// retire to why the stale sweep leaves it alone: a key in use by a managed
// secret is not stale for the sweep to judge, and a rotated-out one is the
// retirement's to delete, after its grace period.
func managedCredentials(managed []managedSecret) map[string]string {
	m := map[string]string{}
	for _, ms := range managed {
		for id := range ms.Live {
			m[id] = "in use by managed secret " + ms.Name
		}
		for _, r := range ms.Retirements {
			if !ms.Live[r.CredentialID] {
				m[r.CredentialID] = "rotated out of managed secret " + ms.Name + "; retired after " + r.Due.Format(time.RFC3339)
			}
		}
	}
	return m
}

// planRetirements adds every due retirement to plan and returns those still
// in their grace period. A retirement naming a credential the secret still
// uses (a rotation that recorded it and never promoted) is skipped.
// held, when not "", is why no retirement may run this run (fail closed).
func planRetirements(clients *awsconfig.Clients, client *adminclient.Client, managed []managedSecret, now time.Time, held string, plan *sweep.Plan, log *slog.Logger) []PendingRetirement {
	var pending []PendingRetirement
	for _, ms := range managed {
		for _, r := range ms.Retirements {
			id := r.CredentialID
			subject := guard.Subject{Kind: "admin_api_key", ID: id, Self: client.IsSelf(openai.AdminAPIKey{ID: id})}
			if ms.Doc.Type == secretdoc.TypeServiceAccountKey {
				subject = guard.Subject{Kind: "service_account", ID: id, ProjectID: ms.Doc.ProjectID}
			}
			switch {
			case ms.Live[id]:
				plan.Skip(subject, "still in use by secret "+ms.Name+" (its rotation did not finish); not retired")
				continue
			case r.Due.After(now):
				pending = append(pending, PendingRetirement{Secret: ms.Name, CredentialID: id, Due: r.Due})
				continue
			case held != "":
				plan.Skip(subject, held)
				continue
			}
			arn, secretType, projectID := ms.ARN, ms.Doc.Type, ms.Doc.ProjectID
			plan.Add(sweep.Candidate{
				Subject: subject,
				Reason:  fmt.Sprintf("rotated out of secret %s; grace period ended %s", ms.Name, r.Due.Format(time.RFC3339)),
				Delete: func(ctx context.Context, reason string) (adminclient.Outcome, error) {
					var (
						outcome adminclient.Outcome
						err     error
					)
					if secretType == secretdoc.TypeServiceAccountKey {
						outcome, err = client.DeleteServiceAccount(ctx, projectID, id, "", reason)
					} else {
						outcome, err = client.DeleteAdminAPIKey(ctx, id, reason)
					}
					if err != nil || (outcome != adminclient.Done && outcome != adminclient.AlreadyDone) {
						return outcome, err
					}
					// The credential is gone; drop its record. If this fails the
					// next run finds the credential already gone and tries again.
					if _, uerr := clients.SecretsManager.UntagResource(ctx, &secretsmanager.UntagResourceInput{
						SecretId: aws.String(arn), TagKeys: []string{secretdoc.RetireTagKey(id)},
					}); uerr != nil {
						log.WarnContext(ctx, "retirement done, record not removed", "secret", arn, "credential_id", id, "error", uerr)
					}
					return outcome, nil
				},
			})
		}
	}
	return pending
}
