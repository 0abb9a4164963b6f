package rotation

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation/secretdoc"
	"github.com/orgwarden/orgwarden/shared/adminclient"
)

// A secret's value comes from outside (people write secrets, and anyone
// allowed to PutSecretValue can stage a version), so nothing in it is
// trusted to name a credential orgwarden may delete. Two proofs stand in:
//
//   - pairing: the key_id (and service_account_id) a value names is the
//     key its api_key holds, shown by the key object's redacted_value
//     ("sk-admin...abcd") and, for a service account, by the key being
//     listed as that account's in that project;
//   - ownership: a credential a step may delete as its own was minted for
//     this secret by the rotation with this token, shown by its name
//     (credentialName), which only createSecret gives.

// ErrNotPaired refuses a value whose key_id or service_account_id does not
// name the key its api_key holds.
var ErrNotPaired = errors.New("the secret's key_id does not belong to its api_key")

// adminKeyOf returns the admin key d's api_key holds, listed by list (which
// also proves list's key authenticates), and false when no listed key is
// it. With a key_id, the key of that id must be it: a key_id naming another
// key, or naming none while a key of api_key's redaction exists, is
// ErrNotPaired. Without one, exactly one key must match the redaction.
func adminKeyOf(ctx context.Context, list *adminclient.Client, secret string, d secretdoc.Doc) (openai.AdminAPIKey, bool, error) {
	var (
		byID    *openai.AdminAPIKey
		matches []openai.AdminAPIKey
	)
	for k, err := range list.AdminAPIKeys(ctx) {
		if err != nil {
			return openai.AdminAPIKey{}, false, fmt.Errorf("list admin keys to identify the key of secret %s: %w", secret, err)
		}
		if d.KeyID != "" && k.ID == d.KeyID {
			byID = &k
		}
		if adminclient.RedactedMatches(k.RedactedValue, d.APIKey) {
			matches = append(matches, k)
		}
	}
	switch {
	case byID != nil && adminclient.RedactedMatches(byID.RedactedValue, d.APIKey):
		return *byID, true, nil
	case byID != nil:
		return openai.AdminAPIKey{}, false, fmt.Errorf("secret %s: admin key %s is listed as %q, which its api_key is not: %w", secret, d.KeyID, byID.RedactedValue, ErrNotPaired)
	case d.KeyID != "" && len(matches) > 0:
		return openai.AdminAPIKey{}, false, fmt.Errorf("secret %s: key_id %s names no admin key, while the key its api_key holds exists: %w", secret, d.KeyID, ErrNotPaired)
	case d.KeyID == "" && len(matches) == 1:
		return matches[0], true, nil
	}
	return openai.AdminAPIKey{}, false, nil
}

// serviceAccountOf returns the service account d names and false when it
// does not exist. It must own, in d's project, the key d's api_key holds
// (the key of id key_id, when given): otherwise ErrNotPaired.
func serviceAccountOf(ctx context.Context, c *adminclient.Client, secret string, d secretdoc.Doc) (openai.ProjectServiceAccount, bool, error) {
	accounts, err := adminclient.Collect(c.ServiceAccounts(ctx, d.ProjectID))
	if err != nil {
		return openai.ProjectServiceAccount{}, false, fmt.Errorf("list service accounts of project %s (secret %s): %w", d.ProjectID, secret, err)
	}
	i := slices.IndexFunc(accounts, func(sa openai.ProjectServiceAccount) bool { return sa.ID == d.ServiceAccountID })
	if i < 0 {
		return openai.ProjectServiceAccount{}, false, nil
	}
	keys, err := c.KeysOwnedBy(ctx, d.ProjectID, d.ServiceAccountID)
	if err != nil {
		return openai.ProjectServiceAccount{}, false, fmt.Errorf("list keys of service account %s (secret %s): %w", d.ServiceAccountID, secret, err)
	}
	if !slices.ContainsFunc(keys, func(k openai.ProjectAPIKey) bool {
		return (d.KeyID == "" || k.ID == d.KeyID) && adminclient.RedactedMatches(k.RedactedValue, d.APIKey)
	}) {
		return openai.ProjectServiceAccount{}, false, fmt.Errorf("secret %s: service account %s in project %s owns no key %s matching the secret's api_key: %w",
			secret, d.ServiceAccountID, d.ProjectID, d.KeyID, ErrNotPaired)
	}
	return accounts[i], true, nil
}

// pendingCredential returns the credential a pending value names when this
// rotation minted it for this secret, "" when it no longer exists, and an
// error naming the secret for anything else: a foreign or stale AWSPENDING
// must never make a step delete a credential that is not the rotation's.
func (r *Rotator) pendingCredential(ctx context.Context, arn, token string, cur, pending secretdoc.Doc) (string, error) {
	id := pending.CredentialID()
	foreign := func(what, name string) error {
		return fmt.Errorf("secret %s: the AWSPENDING version %s names %s %s (name %q), which this rotation did not mint for this secret and token; nothing deleted, AWSPENDING left in place: inspect the version and remove its AWSPENDING label by hand",
			arn, token, what, id, name)
	}
	switch {
	case id == "":
		return "", fmt.Errorf("secret %s: the AWSPENDING version %s names no credential; nothing deleted, AWSPENDING left in place", arn, token)
	case pending.Type != cur.Type:
		return "", fmt.Errorf("secret %s: the AWSPENDING version %s has type %q, the current one %q; nothing deleted, AWSPENDING left in place", arn, token, pending.Type, cur.Type)
	case id == cur.CredentialID():
		return "", foreign("the current credential", "")
	}
	if pending.Type == secretdoc.TypeAdminKey {
		for k, err := range r.Admin.AdminAPIKeys(ctx) {
			if err != nil {
				return "", fmt.Errorf("list admin keys to identify the pending key of %s: %w", arn, err)
			}
			if k.ID != id {
				continue
			}
			if !mintedBy(k.Name, arn, token) || r.Admin.IsSelf(k) {
				return "", foreign("admin key", k.Name)
			}
			return id, nil
		}
		return "", nil
	}
	if pending.ProjectID != cur.ProjectID {
		return "", fmt.Errorf("secret %s: the AWSPENDING version %s names project %s, the current one %s; nothing deleted, AWSPENDING left in place", arn, token, pending.ProjectID, cur.ProjectID)
	}
	for sa, err := range r.Admin.ServiceAccounts(ctx, pending.ProjectID) {
		if err != nil {
			return "", fmt.Errorf("list service accounts to identify the pending account of %s: %w", arn, err)
		}
		if sa.ID != id {
			continue
		}
		if !mintedBy(sa.Name, arn, token) {
			return "", foreign("service account", sa.Name)
		}
		return id, nil
	}
	return "", nil
}

// removeDead deletes credentials minted for this secret by other
// rotations (other tokens) that can never be used:
//
//   - superseded: held by a version of the secret with no staging label
//     left (its AWSPENDING was taken by a later rotation's createSecret, or
//     removed by abandon), whose token its name carries. No step of such a
//     rotation runs again (every step refuses a version that is not
//     AWSPENDING), so the credential has no user;
//   - with orphans, also unstored: no version of its token exists, so its
//     createSecret never stored it (its answer was lost and Secrets Manager
//     moved on to another token). Should that createSecret still be in
//     flight, it stores a deleted credential, which its testSecret refuses
//     and abandons: AWSCURRENT is never touched. createSecret passes
//     orphans; finishSecret does not.
//
// A credential awaiting retirement, held by a labelled version, or of this
// token is never one of them.
func (r *Rotator) removeDead(ctx context.Context, desc *secretsmanager.DescribeSecretOutput, cur secretdoc.Doc, token string, orphans bool, res *StepResult) error {
	arn := aws.ToString(desc.ARN)
	type version struct {
		id       string
		labelled bool
	}
	versions := map[string]version{} // token hash -> version
	unlabelled := 0
	p := secretsmanager.NewListSecretVersionIdsPaginator(r.SM, &secretsmanager.ListSecretVersionIdsInput{SecretId: desc.ARN, IncludeDeprecated: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list versions of %s: %w", arn, err)
		}
		for _, v := range page.Versions {
			id := aws.ToString(v.VersionId)
			versions[tokenHash(id)] = version{id: id, labelled: len(v.VersionStages) > 0}
			if len(v.VersionStages) == 0 {
				unlabelled++
			}
		}
	}
	if unlabelled == 0 && !orphans {
		return nil
	}
	// Whatever a labelled version holds stays, whatever its name says.
	keep := map[string]bool{cur.CredentialID(): true, cur.KeyID: true}
	for id, stages := range desc.VersionIdsToStages {
		out, err := r.SM.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: desc.ARN, VersionId: aws.String(id), VersionStage: aws.String(stages[0])})
		switch {
		case err != nil && isNotFound(err) && slices.Contains(stages, stagePending):
			continue // an empty AWSPENDING version: nothing stored yet
		case err != nil:
			// Its credential cannot be told apart: leave them all.
			r.Log.WarnContext(ctx, "earlier rotations' credentials not cleaned up: a labelled version is unreadable", "secret", arn, "version_id", id, "error", err)
			return nil
		}
		// A value that is not a secret document (the stack's placeholder, a
		// bare key stored by hand) names no credential id to keep; its
		// version's own token is labelled, so nothing minted under it is a
		// candidate either.
		if d, perr := secretdoc.Parse(aws.ToString(out.SecretString)); perr == nil {
			keep[d.CredentialID()], keep[d.KeyID] = true, true
		}
	}
	rets, errs := secretdoc.Retirements(desc.Tags)
	if len(errs) > 0 {
		// A retirement we cannot read may name one of them: wait.
		r.Log.WarnContext(ctx, "earlier rotations' credentials not cleaned up: a retirement tag is malformed", "secret", arn)
		return nil
	}
	for _, ret := range rets {
		keep[ret.CredentialID] = true
	}

	type cand struct {
		id, name, version, why string
	}
	var cands []cand
	consider := func(id, name string) {
		h, ok := mintedToken(name, arn)
		if !ok || keep[id] || h == tokenHash(token) {
			return
		}
		switch v, exists := versions[h]; {
		case !exists && orphans:
			cands = append(cands, cand{id, name, "", "orphan of an interrupted rotation of secret " + aws.ToString(desc.Name) + ": no version holds it"})
		case exists && !v.labelled:
			cands = append(cands, cand{id, name, v.id, "its rotation of secret " + aws.ToString(desc.Name) + " (version " + v.id + ") was superseded and can never complete"})
		}
	}
	if cur.Type == secretdoc.TypeAdminKey {
		for k, err := range r.Admin.AdminAPIKeys(ctx) {
			if err != nil {
				return fmt.Errorf("list admin keys for earlier rotations of %s: %w", arn, err)
			}
			if !r.Admin.IsSelf(k) {
				consider(k.ID, k.Name)
			}
		}
	} else {
		for sa, err := range r.Admin.ServiceAccounts(ctx, cur.ProjectID) {
			if err != nil {
				return fmt.Errorf("list service accounts for earlier rotations of %s: %w", arn, err)
			}
			consider(sa.ID, sa.Name)
		}
	}
	for _, c := range cands {
		if c.version != "" {
			d, err := r.doc(ctx, arn, c.version, "")
			if err != nil || d.CredentialID() != c.id || !mintedBy(c.name, arn, c.version) {
				continue // its own version does not hold it: not provably superseded
			}
		}
		var err error
		if cur.Type == secretdoc.TypeAdminKey {
			_, err = r.Admin.DeleteAdminAPIKey(ctx, c.id, c.why)
		} else {
			_, err = r.Admin.DeleteServiceAccount(ctx, cur.ProjectID, c.id, c.name, c.why)
		}
		if err != nil {
			return fmt.Errorf("remove credential %s of an earlier rotation of %s: %w", c.id, arn, err)
		}
		res.Removed = append(res.Removed, c.id)
	}
	return nil
}
