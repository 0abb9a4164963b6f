package stack

import (
	"fmt"

	"github.com/orgwarden/orgwarden/infra/fnenv"
	"github.com/orgwarden/orgwarden/infra/rotatedsecret"
)

// secrets declares the admin-key secret and every configured service-account key
// secret. Their rotation is attached in rotation(), once keyrotation exists.
func (b *builder) secrets() error {
	var err error
	b.adminKey, err = rotatedsecret.New(b.stack, "AdminKey", rotatedsecret.Props{
		Name:        b.cfg.AdminKeySecretName(),
		Description: "OpenAI admin key used by orgwarden; rotated by the keyrotation function",
		Fields: map[string]string{
			"type":    "admin_key",
			"api_key": "",
			"key_id":  "",
		},
		RotationSchedule:  b.cfg.AdminKeySecret.RotationSchedule,
		ExistingSecretArn: b.cfg.AdminKeySecret.ExistingSecretArn,
	})
	if err != nil {
		return err
	}
	for _, k := range b.cfg.ServiceAccountKeys {
		secret, err := rotatedsecret.NewServiceAccountKey(b.stack, "ServiceAccountKey-"+k.ID, rotatedsecret.ServiceAccountKeyProps{
			Name:               b.cfg.ServiceAccountSecretName(k),
			ProjectID:          k.ProjectID,
			ServiceAccountID:   k.ServiceAccountID,
			ServiceAccountName: k.ServiceAccountName,
			RotationSchedule:   b.cfg.ServiceAccountRotationSchedule(k),
			ExistingSecretArn:  k.ExistingSecretArn,
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
	for _, sa := range b.serviceAccounts {
		sa.RotateWith(fn)
	}
}
