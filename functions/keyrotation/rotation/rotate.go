package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation/secretdoc"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
)

// Rotation steps, the values of the event's Step.
const (
	StepCreate = "createSecret"
	StepSet    = "setSecret"
	StepTest   = "testSecret"
	StepFinish = "finishSecret"
)

// Staging labels.
const (
	stageCurrent = "AWSCURRENT"
	stagePending = "AWSPENDING"
)

// Outcome is what one rotation step did.
type Outcome string

// Step outcomes.
const (
	OutcomeDone           Outcome = "done"
	OutcomeAlreadyCurrent Outcome = "already_current" // the version is AWSCURRENT: every step is done
	OutcomeAlreadyDone    Outcome = "already_done"    // createSecret found its pending version
	OutcomeNothingToDo    Outcome = "nothing_to_do"   // setSecret
	OutcomeFailed         Outcome = "failed"
)

// Rotator runs Secrets Manager's four-step rotation protocol for the two
// secret types orgwarden rotates, the way AWS's own rotation functions do:
// every step checks the version's staging labels first and is idempotent,
// so Secrets Manager can retry any step after any failure.
type Rotator struct {
	SM *secretsmanager.Client
	// Admin is authenticated with the deployment's current admin key.
	Admin *adminclient.Client
	// Grace is how long a rotated-out credential keeps working.
	Grace time.Duration
	Now   func() time.Time
	Log   *slog.Logger

	// BaseURL, HTTPClient and Timeout are for trying a pending
	// service-account key against the API itself.
	BaseURL    string
	HTTPClient *http.Client
	Timeout    time.Duration
}

// StepResult says what one step did; it is the invocation's summary.
type StepResult struct {
	SecretARN  string  `json:"secret_arn"`
	SecretName string  `json:"secret_name,omitempty"`
	Type       string  `json:"type,omitempty"`
	Step       string  `json:"step"`
	VersionID  string  `json:"version_id"`
	Outcome    Outcome `json:"outcome"`
	Detail     string  `json:"detail,omitempty"`
	// Created is the credential minted by createSecret (key or service account id).
	Created string `json:"created,omitempty"`
	// Removed are credentials deleted by this step: orphans of interrupted
	// attempts, or a pending credential that failed testSecret.
	Removed []string `json:"removed,omitempty"`
	// Retirement is the previous credential finishSecret scheduled for deletion.
	Retirement *secretdoc.Retirement `json:"retirement,omitempty"`
	Error      string                `json:"error,omitempty"`
}

// Step runs one rotation step.
func (r *Rotator) Step(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) (StepResult, error) {
	res := resultOf(ev)
	err := r.step(ctx, ev, &res)
	if err != nil {
		err = logging.RedactError(err)
		res.Outcome, res.Error = OutcomeFailed, err.Error()
	}
	return res, err
}

// resultOf is the start of every step's result: which step of which
// secret's version it is.
func resultOf(ev events.SecretsManagerSecretRotationEvent) StepResult {
	return StepResult{SecretARN: ev.SecretID, Step: ev.Step, VersionID: ev.ClientRequestToken}
}

func (r *Rotator) step(ctx context.Context, ev events.SecretsManagerSecretRotationEvent, res *StepResult) error {
	token := ev.ClientRequestToken
	if ev.SecretID == "" || token == "" {
		return errors.New("rotation event needs SecretId and ClientRequestToken")
	}
	if !slices.Contains([]string{StepCreate, StepSet, StepTest, StepFinish}, ev.Step) {
		return fmt.Errorf("unknown rotation step %q", logging.Redact(ev.Step))
	}
	desc, err := r.SM.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ev.SecretID)})
	if err != nil {
		return fmt.Errorf("describe secret %s: %w", ev.SecretID, err)
	}
	arn := aws.ToString(desc.ARN)
	res.SecretARN, res.SecretName = arn, aws.ToString(desc.Name)
	if !aws.ToBool(desc.RotationEnabled) {
		return fmt.Errorf("secret %s is not enabled for rotation", arn)
	}
	stages, known := desc.VersionIdsToStages[token]
	switch {
	case slices.Contains(stages, stageCurrent):
		res.Outcome, res.Detail = OutcomeAlreadyCurrent, "version is already AWSCURRENT"
		return nil
	case !known && ev.Step == StepCreate:
		// Secrets Manager labels an empty AWSPENDING version with the token
		// before it calls createSecret; a step invoked by hand may come
		// without one, and createSecret's PutSecretValue creates it.
	case !known:
		return fmt.Errorf("version %s of secret %s has no stage for rotation", token, arn)
	case !slices.Contains(stages, stagePending):
		return fmt.Errorf("version %s of secret %s is not AWSPENDING", token, arn)
	}

	switch ev.Step {
	case StepCreate:
		return r.createSecret(ctx, desc, token, res)
	case StepSet:
		res.Outcome = OutcomeNothingToDo
		res.Detail = "OpenAI issues the key in createSecret; no other system holds a copy to update"
		r.Log.InfoContext(ctx, "rotation step", "step", StepSet, "secret", arn, "version_id", token, "detail", res.Detail)
		return nil
	case StepTest:
		return r.testSecret(ctx, arn, token, res)
	default:
		return r.finishSecret(ctx, desc, token, res)
	}
}

// doc reads and parses a version by id and/or stage.
func (r *Rotator) doc(ctx context.Context, arn, versionID, stage string) (secretdoc.Doc, error) {
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}
	if stage != "" {
		in.VersionStage = aws.String(stage)
	}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	what := stage
	if what == "" {
		what = "version " + versionID
	}
	out, err := r.SM.GetSecretValue(ctx, in)
	if err != nil {
		return secretdoc.Doc{}, fmt.Errorf("read %s of %s: %w", what, arn, err)
	}
	d, err := secretdoc.Parse(aws.ToString(out.SecretString))
	if err != nil {
		return secretdoc.Doc{}, fmt.Errorf("%s of %s: %w", what, arn, err)
	}
	return d, nil
}

func isNotFound(err error) bool {
	var nf *smtypes.ResourceNotFoundException
	return errors.As(err, &nf)
}

// createSecret mints the new credential and stores it as AWSPENDING under
// the token. The credential's value is shown once, so the create is sent
// once; a credential left by an earlier attempt whose answer was lost is
// found by its name (see credentialName) and deleted before minting again.
func (r *Rotator) createSecret(ctx context.Context, desc *secretsmanager.DescribeSecretOutput, token string, res *StepResult) error {
	arn := aws.ToString(desc.ARN)
	cur, err := r.doc(ctx, arn, "", stageCurrent)
	if err != nil {
		return err
	}
	res.Type = cur.Type
	_, err = r.SM.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(arn), VersionId: aws.String(token), VersionStage: aws.String(stagePending),
	})
	switch {
	case err == nil:
		res.Outcome, res.Detail = OutcomeAlreadyDone, "the pending version already holds a key"
		r.Log.InfoContext(ctx, "rotation step", "step", StepCreate, "secret", arn, "version_id", token, "detail", res.Detail)
		return nil
	case !isNotFound(err):
		return fmt.Errorf("read pending version of %s: %w", arn, err)
	}

	// Credentials awaiting retirement are rotation-made too; they are not orphans.
	retiring := map[string]bool{}
	rets, _ := secretdoc.Retirements(desc.Tags)
	for _, ret := range rets {
		retiring[ret.CredentialID] = true
	}
	// Other tokens' credentials nobody can use any more: superseded, or
	// never stored. Stop rather than mint next to one that cannot go.
	if err := r.removeDead(ctx, desc, cur, token, true, res); err != nil {
		return err
	}
	var (
		minted secretdoc.Doc
		undo   func(context.Context) error
	)
	switch cur.Type {
	case secretdoc.TypeAdminKey:
		minted, undo, err = r.mintAdminKey(ctx, arn, aws.ToString(desc.Name), token, cur, retiring, res)
	default:
		minted, undo, err = r.mintServiceAccount(ctx, arn, aws.ToString(desc.Name), token, cur, retiring, res)
	}
	if err != nil {
		return err
	}
	value, err := minted.Marshal()
	if err == nil {
		_, err = r.SM.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(arn), ClientRequestToken: aws.String(token),
			SecretString: aws.String(value), VersionStages: []string{stagePending},
		})
	}
	if err != nil {
		// The write may have landed with its answer lost; then the version
		// holds the new credential, which must stay.
		if stored, gerr := r.doc(ctx, arn, token, stagePending); gerr == nil && stored.CredentialID() == minted.CredentialID() {
			err = nil
		} else {
			uerr := undo(ctx)
			if uerr == nil {
				res.Removed = append(res.Removed, minted.CredentialID())
			}
			return errors.Join(fmt.Errorf("store pending version of %s: %w", arn, err), uerr)
		}
	}
	res.Outcome, res.Created = OutcomeDone, minted.CredentialID()
	r.Log.InfoContext(ctx, "rotation step", "step", StepCreate, "secret", arn, "version_id", token,
		"type", cur.Type, "created", res.Created, "orphans_removed", len(res.Removed))
	return nil
}

func (r *Rotator) mintAdminKey(ctx context.Context, arn, secretName, token string, cur secretdoc.Doc, retiring map[string]bool, res *StepResult) (secretdoc.Doc, func(context.Context) error, error) {
	// A client for the current value, to recognise the current key by its
	// redacted value when the secret does not record its id.
	current, err := r.Admin.WithAdminKey(cur.APIKey, cur.KeyID)
	if err != nil {
		return secretdoc.Doc{}, nil, err
	}
	// Only this token's orphans: a key minted under another token may be
	// another rotation's pending key, which that rotation may still promote.
	var orphans []string
	for k, err := range r.Admin.AdminAPIKeys(ctx) {
		if err != nil {
			return secretdoc.Doc{}, nil, fmt.Errorf("look for orphan admin keys: %w", err)
		}
		if mintedBy(k.Name, arn, token) && k.ID != cur.KeyID && !retiring[k.ID] && !current.IsSelf(k) && !r.Admin.IsSelf(k) {
			orphans = append(orphans, k.ID)
		}
	}
	for _, id := range orphans {
		// Stop rather than mint another key next to one that cannot be removed.
		if _, err := r.Admin.DeleteAdminAPIKey(ctx, id, "orphan of an interrupted rotation of secret "+secretName+": its value was never stored"); err != nil {
			return secretdoc.Doc{}, nil, fmt.Errorf("remove orphan admin key %s: %w", id, err)
		}
		res.Removed = append(res.Removed, id)
	}
	name := credentialName(adminKeyBase, arn, token)
	created, err := r.Admin.CreateAdminAPIKey(ctx, name, "rotation of secret "+secretName)
	if err != nil {
		return secretdoc.Doc{}, nil, fmt.Errorf("mint admin key %s (a retry removes it if it was created): %w", name, err)
	}
	next := cur
	next.APIKey, next.KeyID = logging.Secret(created.Value), created.ID
	undo := func(ctx context.Context) error {
		_, err := r.Admin.DeleteAdminAPIKey(ctx, created.ID, "its rotation could not store it in secret "+secretName)
		return err
	}
	return next, undo, nil
}

func (r *Rotator) mintServiceAccount(ctx context.Context, arn, secretName, token string, cur secretdoc.Doc, retiring map[string]bool, res *StepResult) (secretdoc.Doc, func(context.Context) error, error) {
	accounts, err := adminclient.Collect(r.Admin.ServiceAccounts(ctx, cur.ProjectID))
	if err != nil {
		return secretdoc.Doc{}, nil, fmt.Errorf("list service accounts: %w", err)
	}
	role, base := "member", cur.ServiceAccountName
	if i := slices.IndexFunc(accounts, func(sa openai.ProjectServiceAccount) bool { return sa.ID == cur.ServiceAccountID }); i >= 0 {
		role = string(accounts[i].Role)
		if base == "" {
			base = baseName(accounts[i].Name, arn)
		}
	} else {
		r.Log.WarnContext(ctx, "current service account not found; the new one gets role member",
			"secret", arn, "project_id", cur.ProjectID, "service_account_id", cur.ServiceAccountID)
	}
	switch {
	case role == "none":
		return secretdoc.Doc{}, nil, fmt.Errorf("service account %s has no role in project %s, so its keys cannot work; give it a role before rotating", cur.ServiceAccountID, cur.ProjectID)
	case base == "":
		return secretdoc.Doc{}, nil, errors.New("secret has no service_account_name and its service account is gone; add the name to the secret")
	}

	for _, sa := range accounts {
		if !mintedBy(sa.Name, arn, token) || sa.ID == cur.ServiceAccountID || retiring[sa.ID] {
			continue
		}
		if _, err := r.Admin.DeleteServiceAccount(ctx, cur.ProjectID, sa.ID, sa.Name,
			"orphan of an interrupted rotation of secret "+secretName+": its key was never stored"); err != nil {
			return secretdoc.Doc{}, nil, fmt.Errorf("remove orphan service account %s: %w", sa.ID, err)
		}
		res.Removed = append(res.Removed, sa.ID)
	}

	name := credentialName(base, arn, token)
	created, err := r.Admin.CreateServiceAccount(ctx, cur.ProjectID, name, "rotation of secret "+secretName)
	if err != nil {
		return secretdoc.Doc{}, nil, fmt.Errorf("create service account %s (a retry removes it if it was created): %w", name, err)
	}
	undo := func(ctx context.Context) error {
		_, err := r.Admin.DeleteServiceAccount(ctx, cur.ProjectID, created.ID, name, "its rotation of secret "+secretName+" did not complete")
		return err
	}
	if created.APIKey.Value == "" || created.APIKey.ID == "" {
		return secretdoc.Doc{}, nil, errors.Join(errors.New("the API created service account "+created.ID+" without a key"), undo(ctx))
	}
	if role == "owner" {
		if _, err := r.Admin.UpdateServiceAccountRole(ctx, cur.ProjectID, created.ID, role, "same role as the service account it replaces"); err != nil {
			return secretdoc.Doc{}, nil, errors.Join(fmt.Errorf("give service account %s role %s: %w", created.ID, role, err), undo(ctx))
		}
	}
	next := cur
	next.APIKey, next.KeyID = logging.Secret(created.APIKey.Value), created.APIKey.ID
	next.ServiceAccountID, next.ServiceAccountName = created.ID, base
	return next, undo, nil
}

// testSecret tries the pending credential. If it does not work, the
// credential is deleted and AWSPENDING removed, so AWSCURRENT is untouched
// and the next rotation can start afresh (Secrets Manager refuses to start
// one while AWSPENDING sits on another version than AWSCURRENT). If it could
// not be tried (rate limit, server error, network), nothing is removed and
// the step fails for Secrets Manager to retry.
func (r *Rotator) testSecret(ctx context.Context, arn, token string, res *StepResult) error {
	pending, err := r.doc(ctx, arn, token, stagePending)
	if err != nil {
		return err
	}
	res.Type = pending.Type
	detail, err := r.try(ctx, arn, pending)
	if err == nil {
		res.Outcome, res.Detail = OutcomeDone, detail
		r.Log.InfoContext(ctx, "rotation step", "step", StepTest, "secret", arn, "version_id", token, "detail", detail)
		return nil
	}
	if adminclient.IsTransient(err) {
		return fmt.Errorf("could not test the pending key yet; Secrets Manager retries the step: %w", err)
	}
	cur, cerr := r.doc(ctx, arn, "", stageCurrent)
	if cerr != nil {
		return errors.Join(fmt.Errorf("the pending key does not work: %w", err), cerr)
	}
	aerr := r.abandon(ctx, arn, token, cur, pending, res)
	return errors.Join(fmt.Errorf("the pending key does not work, AWSCURRENT is unchanged: %w", err), aerr)
}

// try uses the credential on a read-only endpoint, returning what it saw.
func (r *Rotator) try(ctx context.Context, arn string, d secretdoc.Doc) (string, error) {
	if d.Type == secretdoc.TypeAdminKey {
		// Listing with the pending key proves it authenticates; finding its
		// key_id listed with its redaction proves the pairing finishSecret
		// and the sweep rely on.
		c, err := r.Admin.WithAdminKey(d.APIKey, d.KeyID)
		if err != nil {
			return "", err
		}
		_, found, err := adminKeyOf(ctx, c, arn, d)
		switch {
		case err != nil:
			return "", err
		case !found:
			return "", fmt.Errorf("secret %s: the pending key_id %s names no listed admin key: %w", arn, d.KeyID, ErrNotPaired)
		}
		return "the pending admin key lists admin keys, its own among them", nil
	}

	// The admin API must list the new key, owned by the new service
	// account, with access to the project.
	keys, err := r.Admin.KeysOwnedBy(ctx, d.ProjectID, d.ServiceAccountID)
	if err != nil {
		return "", fmt.Errorf("list keys of service account %s: %w", d.ServiceAccountID, err)
	}
	i := slices.IndexFunc(keys, func(k openai.ProjectAPIKey) bool { return k.ID == d.KeyID })
	switch {
	case i < 0:
		return "", fmt.Errorf("key %s is not among the keys of service account %s in project %s", d.KeyID, d.ServiceAccountID, d.ProjectID)
	case !adminclient.RedactedMatches(keys[i].RedactedValue, d.APIKey):
		return "", fmt.Errorf("secret %s: key %s of service account %s is listed as %q, which the pending api_key is not: %w", arn, d.KeyID, d.ServiceAccountID, keys[i].RedactedValue, ErrNotPaired)
	case keys[i].OwnerProjectAccess != "active":
		return "", fmt.Errorf("key %s has owner_project_access %q, not active", d.KeyID, keys[i].OwnerProjectAccess)
	}

	// Then the key itself, on a read-only endpoint a project key may call.
	c := openai.NewClient(
		option.WithBaseURL(r.BaseURL),
		option.WithAPIKey(d.APIKey.Reveal()),
		option.WithAdminAPIKey(""),
		option.WithHTTPClient(r.httpClient()),
		option.WithMaxRetries(2),
		option.WithRequestTimeout(r.timeout()),
	)
	_, err = c.Models.List(ctx)
	switch code := adminclient.StatusCode(err); {
	case err == nil:
		return "the admin API lists the key as active and the key lists models", nil
	case code == http.StatusForbidden:
		// Authenticated, not allowed: a key whose permissions exclude
		// models, or a caller the endpoint refuses. An unknown or revoked
		// key gets 401.
		return "the admin API lists the key as active; the key authenticates (403 on /models: not allowed to list models)", nil
	default:
		return "", logging.RedactError(fmt.Errorf("list models with the pending key: %w", err))
	}
}

func (r *Rotator) httpClient() *http.Client {
	if r.HTTPClient != nil {
		return r.HTTPClient
	}
	return http.DefaultClient
}

func (r *Rotator) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return 30 * time.Second
}

// abandon deletes a pending credential that failed its test and takes
// AWSPENDING off its version, when the credential is provably this
// rotation's (pendingCredential); otherwise it touches nothing and says why.
func (r *Rotator) abandon(ctx context.Context, arn, token string, cur, pending secretdoc.Doc, res *StepResult) error {
	id, err := r.pendingCredential(ctx, arn, token, cur, pending)
	if err != nil {
		return err
	}
	switch {
	case id == "":
		// Already gone: nothing to delete.
	case pending.Type == secretdoc.TypeAdminKey:
		_, err = r.Admin.DeleteAdminAPIKey(ctx, id, "it failed testSecret in the rotation of "+arn)
	default:
		_, err = r.Admin.DeleteServiceAccount(ctx, pending.ProjectID, id, "", "its key failed testSecret in the rotation of "+arn)
	}
	if err != nil {
		return fmt.Errorf("delete the pending credential %s (delete it by hand): %w", id, err)
	}
	if id != "" {
		res.Removed = append(res.Removed, id)
	}
	if _, err := r.SM.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(arn), VersionStage: aws.String(stagePending), RemoveFromVersionId: aws.String(token),
	}); err != nil {
		return fmt.Errorf("remove AWSPENDING from version %s: %w", token, err)
	}
	r.Log.WarnContext(ctx, "rotation abandoned", "secret", arn, "version_id", token, "removed", id)
	return nil
}

// finishSecret records the previous credential's retirement in the
// secret's tags, then moves AWSCURRENT to the new version. Recording first
// means no promoted rotation can forget its old credential; a record whose
// promotion never happens names the still-current credential, which the
// sweep refuses to delete. The previous credential is recorded only once
// proven to be the one the current value holds (previousCredential): a
// wrong key_id must not send someone else's key to the sweep. Credentials of
// rotations this one superseded are removed before the promotion, so a
// failure is retried with the step.
func (r *Rotator) finishSecret(ctx context.Context, desc *secretsmanager.DescribeSecretOutput, token string, res *StepResult) error {
	arn := aws.ToString(desc.ARN)
	currentVersion := ""
	for id, stages := range desc.VersionIdsToStages {
		if slices.Contains(stages, stageCurrent) {
			currentVersion = id
		}
	}
	pending, err := r.doc(ctx, arn, token, stagePending)
	if err != nil {
		return err
	}
	res.Type = pending.Type
	cur := pending
	if currentVersion != "" {
		if cur, err = r.doc(ctx, arn, currentVersion, stageCurrent); err != nil {
			return err
		}
		old, err := r.previousCredential(ctx, arn, cur)
		if err != nil {
			return fmt.Errorf("refusing to finish the rotation: %w", err)
		}
		switch {
		case old == "":
			res.Detail = "the previous credential no longer exists or could not be identified; if it lives on, delete it by hand once consumers have moved on"
			r.Log.WarnContext(ctx, "previous credential not identified", "secret", arn)
		case old == pending.CredentialID():
		case !secretdoc.ValidCredentialID(old):
			res.Detail = "the previous credential id cannot be recorded in a tag; delete it by hand"
			r.Log.WarnContext(ctx, "previous credential id not taggable", "secret", arn)
		default:
			ret := secretdoc.Retirement{CredentialID: old, Due: r.Now().Add(r.Grace).UTC().Truncate(time.Second)}
			if _, err := r.SM.TagResource(ctx, &secretsmanager.TagResourceInput{SecretId: aws.String(arn), Tags: []smtypes.Tag{ret.Tag()}}); err != nil {
				return fmt.Errorf("record retirement of %s on %s: %w", old, arn, err)
			}
			res.Retirement = &ret
			desc.Tags = append(desc.Tags, ret.Tag())
		}
	}
	if err := r.removeDead(ctx, desc, cur, token, false, res); err != nil {
		return err
	}
	in := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(arn), VersionStage: aws.String(stageCurrent), MoveToVersionId: aws.String(token),
	}
	if currentVersion != "" {
		in.RemoveFromVersionId = aws.String(currentVersion)
	}
	if _, err := r.SM.UpdateSecretVersionStage(ctx, in); err != nil {
		return fmt.Errorf("promote version %s of %s: %w", token, arn, err)
	}
	res.Outcome = OutcomeDone
	attrs := []any{"step", StepFinish, "secret", arn, "version_id", token, "previous_version_id", currentVersion, "superseded_removed", res.Removed}
	if res.Retirement != nil {
		attrs = append(attrs, "retire", res.Retirement.CredentialID, "retire_after", res.Retirement.Due)
	}
	r.Log.InfoContext(ctx, "rotation step", attrs...)
	return nil
}

// previousCredential is the credential the current value holds, proven
// (adminKeyOf, serviceAccountOf), or "" when it no longer exists.
func (r *Rotator) previousCredential(ctx context.Context, arn string, cur secretdoc.Doc) (string, error) {
	if cur.Type == secretdoc.TypeAdminKey {
		k, found, err := adminKeyOf(ctx, r.Admin, arn, cur)
		if err != nil || !found {
			return "", err
		}
		return k.ID, nil
	}
	sa, found, err := serviceAccountOf(ctx, r.Admin, arn, cur)
	if err != nil || !found {
		return "", err
	}
	return sa.ID, nil
}
