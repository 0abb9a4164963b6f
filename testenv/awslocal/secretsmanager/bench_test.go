package secretsmanager_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager/secretsmanagertest"
)

func BenchmarkGetSecretValue(b *testing.B) {
	srv := secretsmanagertest.New(b)
	c := srv.Client()
	if _, err := c.CreateSecret(b.Context(), &awssm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String(`{"type":"admin_key"}`)}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.GetSecretValue(b.Context(), &awssm.GetSecretValueInput{SecretId: aws.String("s")}); err != nil {
			b.Fatal(err)
		}
	}
}
