package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/fnenv"
	"github.com/orgwarden/orgwarden/infra/rotatedsecret"
)

// secrets declares the admin-key secret (and the read-only one, when
// configured), under their own customer managed key, and every configured
// service-account key secret. Rotation is attached in rotation(), once
// keyrotation exists; resource policies in secretPolicies(), once every
// function's role does.
func (b *builder) secrets() error {
	b.adminKeysKey = b.newKey("AdminKeySecretKey", "orgwarden: encrypts the admin-key secrets", "admin-key")
	adminFields := map[string]string{"type": "admin_key", "api_key": "", "key_id": ""}
	var err error
	b.adminKey, err = rotatedsecret.New(b.stack, "AdminKey", rotatedsecret.Props{
		Name:              b.cfg.AdminKeySecretName(),
		Description:       "OpenAI admin key used by orgwarden; rotated by the keyrotation function",
		Fields:            adminFields,
		RotationSchedule:  b.cfg.AdminKeySecret.RotationSchedule,
		ExistingSecretArn: b.cfg.AdminKeySecret.ExistingSecretArn,
		KMSKeyArn:         *b.adminKeysKey.KeyArn(),
		RemovalPolicy:     b.removal(),
	})
	if err != nil {
		return err
	}
	if ro := b.cfg.ReadOnlyAdminKeySecret; ro.Enabled {
		// Not rotated: only an owner can create a read-only admin key (in the
		// dashboard), so orgwarden cannot mint its successor.
		b.readOnlyAdminKey, err = rotatedsecret.New(b.stack, "ReadOnlyAdminKey", rotatedsecret.Props{
			Name:              b.cfg.ReadOnlyAdminKeySecretName(),
			Description:       "Read-only OpenAI admin key: the audit export and dry runs use it",
			Fields:            adminFields,
			ExistingSecretArn: ro.ExistingSecretArn,
			KMSKeyArn:         *b.adminKeysKey.KeyArn(),
			RemovalPolicy:     b.removal(),
		})
		if err != nil {
			return err
		}
	}
	for _, k := range b.cfg.ServiceAccountKeys {
		secret, err := rotatedsecret.NewServiceAccountKey(b.stack, "ServiceAccountKey-"+k.ID, rotatedsecret.ServiceAccountKeyProps{
			Name:               b.cfg.ServiceAccountSecretName(k),
			ProjectID:          k.ProjectID,
			ServiceAccountID:   k.ServiceAccountID,
			ServiceAccountName: k.ServiceAccountName,
			RotationSchedule:   b.cfg.ServiceAccountRotationSchedule(k),
			ExistingSecretArn:  k.ExistingSecretArn,
			RemovalPolicy:      b.removal(),
		})
		if err != nil {
			return fmt.Errorf("service-account key %s: %w", k.ID, err)
		}
		b.serviceAccounts = append(b.serviceAccounts, secret)
	}
	return nil
}

// rotation points every declared secret's rotation schedule at keyrotation.
func (b *builder) rotation() {
	fn := b.fns[fnenv.KeyRotation].fn
	b.adminKey.RotateWith(fn)
	b.grantAdminKeysKey(fnenv.KeyRotation, b.adminKey, "kms:Decrypt", "kms:GenerateDataKey")
	for _, sa := range b.serviceAccounts {
		sa.RotateWith(fn)
	}
}

// adminKeyReaders maps each admin-key secret to the functions that read it:
// keyrotation always reads (and rotates) the read-write key; each function
// reads the one fnenv gives it.
func (b *builder) adminKeyReaders() map[*rotatedsecret.Secret][]string {
	readers := map[*rotatedsecret.Secret][]string{b.adminKey: {fnenv.KeyRotation}}
	for _, name := range fnenv.Functions {
		if fnenv.UsesReadOnlyKey(name, b.cfg) {
			readers[b.readOnlyAdminKey] = append(readers[b.readOnlyAdminKey], name)
		} else if name != fnenv.KeyRotation {
			readers[b.adminKey] = append(readers[b.adminKey], name)
		}
	}
	return readers
}

// grantAdminKeys lets each function read the admin-key secret its
// environment names, and decrypt it through Secrets Manager only.
func (b *builder) grantAdminKeys() {
	for secret, fns := range b.adminKeyReaders() {
		for _, name := range fns {
			if name == fnenv.KeyRotation && secret == b.adminKey {
				continue // its rotation grant (RotateWith) includes the read
			}
			b.fns[name].role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
				Resources: jsii.Strings(*secret.Secret.SecretArn()),
			}))
			b.grantAdminKeysKey(name, secret, "kms:Decrypt")
		}
	}
}

// grantAdminKeysKey grants KMS actions on the admin-key secrets' key, for
// requests Secrets Manager makes on the function's behalf for that secret.
func (b *builder) grantAdminKeysKey(fn string, secret *rotatedsecret.Secret, actions ...string) {
	if !secret.Created {
		return // a secret created out of band keeps its own key
	}
	b.fns[fn].role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(*b.adminKeysKey.KeyArn()),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{
				"kms:ViaService":                  "secretsmanager." + *b.stack.Region() + ".amazonaws.com",
				"kms:EncryptionContext:SecretARN": *secret.Secret.SecretArn(),
			},
		},
	}))
}

// secretPolicies gives each admin-key secret the stack creates a resource
// policy denying its value to every principal but the roles that read it
// (and the break-glass principals), whatever IAM policies say elsewhere in
// the account. Writing a key in (PutSecretValue) stays with administrators.
func (b *builder) secretPolicies() {
	for secret, fns := range b.adminKeyReaders() {
		if !secret.Created {
			continue
		}
		allowed := append([]string{}, b.cfg.BreakGlassPrincipalArns...)
		for _, name := range fns {
			allowed = append(allowed, *b.fns[name].role.RoleArn())
		}
		secret.Secret.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("OnlyOrgwardenReadsTheAdminKey"),
			Effect:     awsiam.Effect_DENY,
			Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
			Actions:    jsii.Strings("secretsmanager:GetSecretValue"),
			Resources:  jsii.Strings("*"), // in a secret's policy, "*" is this secret
			Conditions: &map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": allowed}},
		}))
	}
}
