// Package awslocal holds what every local AWS emulator in orgwarden agrees
// on: one region, one account and one pair of fake static credentials. The
// emulators live in the subpackages (s3, secretsmanager, sqs, eventbridge);
// package stack starts them all for the demo and the end-to-end suite.
//
// The emulators do not check signatures, but the real SDK clients still sign
// every request, so they need credentials that look real.
package awslocal

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

const (
	// Region is the only region the emulators serve.
	Region = "us-east-1"
	// AccountID appears in every ARN and queue URL the emulators mint.
	AccountID = "000000000000"
	// AccessKeyID and SecretAccessKey are fake static credentials. They are
	// not key material and are safe to log.
	AccessKeyID     = "AKIAORGWARDENLOCAL00"
	SecretAccessKey = "orgwarden-local-secret-access-key"
)

// Credentials returns a provider for the fake static credentials.
func Credentials() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")
}

// Config returns an aws.Config for talking to a local emulator: the local
// region and fake credentials, and the checksum behaviour that
// config.LoadDefaultConfig gives the functions in production (checksums
// sent and validated whenever the operation supports them), so that tests
// exercise the same wire traffic. Service clients add their BaseEndpoint.
func Config() aws.Config {
	return aws.Config{
		Region:                     Region,
		Credentials:                Credentials(),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
}
