package config

import "strings"

// Physical names derive from the stack name so that two deployments (staging and
// production, say) can live in one account and region.

// FunctionName is the Lambda function name of one of the four functions.
func (c Config) FunctionName(function string) string {
	return c.StackName + "-" + function
}

// AdminKeySecretName is the Secrets Manager name of the admin-key secret.
func (c Config) AdminKeySecretName() string {
	if c.AdminKeySecret.Name != "" {
		return c.AdminKeySecret.Name
	}
	return strings.ToLower(c.StackName) + "/admin-key"
}

// ServiceAccountSecretName is the Secrets Manager name of a declared service-account key secret.
func (c Config) ServiceAccountSecretName(k ServiceAccountKey) string {
	return strings.ToLower(c.StackName) + "/service-accounts/" + k.ID
}

// ServiceAccountRotationSchedule is k's rotation schedule, defaulting to the admin key's.
func (c Config) ServiceAccountRotationSchedule(k ServiceAccountKey) string {
	if k.RotationSchedule != "" {
		return k.RotationSchedule
	}
	return c.AdminKeySecret.RotationSchedule
}
