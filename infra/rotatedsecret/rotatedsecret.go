// Package rotatedsecret declares Secrets Manager secrets that orgwarden's
// keyrotation function rotates: the admin-key secret and service-account key
// secrets, each with its own rotation schedule.
//
// A secret is declared first and attached to its rotation function afterwards,
// because the function's environment lists the secrets it manages.
package rotatedsecret

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/fnenv"
)

// PlaceholderKey is the JSON field of the random value CloudFormation generates
// when it creates a secret. The key fields stay empty until an operator stores the
// real key: the template never carries key material.
const PlaceholderKey = fnenv.SecretPlaceholderField

// Props declares a rotated secret.
type Props struct {
	Name        string
	Description string
	// Fields are the initial JSON fields besides the placeholder (type, key_id, ...).
	Fields map[string]string
	// RotationSchedule is a Secrets Manager expression: rate(30 days), cron(...).
	RotationSchedule string
	// ExistingSecretArn, when set, rotates that secret (created out of band and
	// already holding a key) instead of creating one; Name and Fields are unused.
	ExistingSecretArn string
	// KMSKeyArn, when set, encrypts a created secret with that customer
	// managed key. It is set on the CloudFormation resource directly: the L2
	// binding would add key policy statements with wildcard actions.
	KMSKeyArn string
	// RemovalPolicy of a created secret; default RETAIN.
	RemovalPolicy awscdk.RemovalPolicy
}

// Secret is a declared secret and its rotation schedule.
type Secret struct {
	// Scope holds the secret and its rotation resources. It is a field, not an
	// embedded construct: jsii cannot pass a Go struct embedding a construct.
	Scope            constructs.Construct
	Secret           awssecretsmanager.ISecret
	rotationSchedule string
	// Created is false for a secret created out of band (ExistingSecretArn):
	// the stack does not own its policy or key.
	Created bool
}

// New declares a secret whose initial value holds props.Fields plus a generated
// placeholder, or imports props.ExistingSecretArn.
func New(scope constructs.Construct, id string, props Props) (*Secret, error) {
	c := constructs.NewConstruct(scope, jsii.String(id))
	if props.ExistingSecretArn != "" {
		existing := awssecretsmanager.Secret_FromSecretCompleteArn(c, jsii.String("Secret"), jsii.String(props.ExistingSecretArn))
		return &Secret{Scope: c, Secret: existing, rotationSchedule: props.RotationSchedule}, nil
	}
	template, err := json.Marshal(props.Fields)
	if err != nil {
		return nil, fmt.Errorf("secret %s: encoding the initial value: %w", props.Name, err)
	}
	removal := props.RemovalPolicy
	if removal == "" {
		removal = awscdk.RemovalPolicy_RETAIN
	}
	secret := awssecretsmanager.NewSecret(c, jsii.String("Secret"), &awssecretsmanager.SecretProps{
		SecretName:  jsii.String(props.Name),
		Description: jsii.String(props.Description),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(string(template)),
			GenerateStringKey:    jsii.String(PlaceholderKey),
			ExcludePunctuation:   jsii.Bool(true),
			PasswordLength:       jsii.Number(32),
		},
		// Deleting the stack must not destroy the organization's keys.
		RemovalPolicy: removal,
	})
	if props.KMSKeyArn != "" {
		secret.Node().DefaultChild().(awssecretsmanager.CfnSecret).SetKmsKeyId(jsii.String(props.KMSKeyArn))
	}
	return &Secret{Scope: c, Secret: secret, rotationSchedule: props.RotationSchedule, Created: true}, nil
}

// ServiceAccountKeyProps declares a service-account key secret.
type ServiceAccountKeyProps struct {
	Name               string
	ProjectID          string
	ServiceAccountID   string
	ServiceAccountName string
	RotationSchedule   string
	ExistingSecretArn  string
	RemovalPolicy      awscdk.RemovalPolicy
}

// NewServiceAccountKey declares a secret in the service-account key format of
// docs/architecture.md; keyrotation fills api_key and key_id on its first rotation.
func NewServiceAccountKey(scope constructs.Construct, id string, props ServiceAccountKeyProps) (*Secret, error) {
	return New(scope, id, Props{
		Name:        props.Name,
		Description: fmt.Sprintf("OpenAI service-account key for %s (%s), rotated by orgwarden", props.ServiceAccountName, props.ProjectID),
		Fields: map[string]string{
			"type":                 "service_account_key",
			"project_id":           props.ProjectID,
			"service_account_id":   props.ServiceAccountID,
			"service_account_name": props.ServiceAccountName,
			"api_key":              "",
			"key_id":               "",
		},
		RotationSchedule:  props.RotationSchedule,
		ExistingSecretArn: props.ExistingSecretArn,
		RemovalPolicy:     props.RemovalPolicy,
	})
}

// RotationActions are what a rotation function needs on the secret it rotates.
var RotationActions = []string{
	"secretsmanager:DescribeSecret",
	"secretsmanager:GetSecretValue",
	"secretsmanager:PutSecretValue",
	"secretsmanager:UpdateSecretVersionStage",
}

// TagActions may only touch fnenv.RetireTagPrefix tags.
var TagActions = []string{"secretsmanager:TagResource", "secretsmanager:UntagResource"}

// RotateWith schedules rotation by fn and grants fn exactly RotationActions and
// TagActions (retirement tags only) on this secret. Secrets Manager may invoke fn only on behalf of this secret.
//
// The L1 schedule is used instead of Secret.addRotationSchedule, which also grants
// secretsmanager:GetRandomPassword on "*" (keyrotation generates no passwords).
func (s *Secret) RotateWith(fn awslambda.IFunction) awssecretsmanager.CfnRotationSchedule {
	stack := awscdk.Stack_Of(s.Scope)
	permission := awslambda.NewCfnPermission(s.Scope, jsii.String("InvokePermission"), &awslambda.CfnPermissionProps{
		Action:        jsii.String("lambda:InvokeFunction"),
		FunctionName:  fn.FunctionArn(),
		Principal:     jsii.String("secretsmanager.amazonaws.com"),
		SourceAccount: stack.Account(),
		SourceArn:     s.Secret.SecretArn(),
	})
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(RotationActions...),
		Resources: jsii.Strings(*s.Secret.SecretArn()),
	}))
	// keyrotation records rotated-out credentials awaiting deletion as tags.
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(TagActions...),
		Resources: jsii.Strings(*s.Secret.SecretArn()),
		Conditions: &map[string]any{
			"ForAllValues:StringLike": map[string]any{"aws:TagKeys": []string{fnenv.RetireTagPrefix + "*"}},
		},
	}))
	schedule := awssecretsmanager.NewCfnRotationSchedule(s.Scope, jsii.String("RotationSchedule"), &awssecretsmanager.CfnRotationScheduleProps{
		SecretId:          s.Secret.SecretArn(),
		RotationLambdaArn: fn.FunctionArn(),
		RotationRules: &awssecretsmanager.CfnRotationSchedule_RotationRulesProperty{
			ScheduleExpression: jsii.String(s.rotationSchedule),
		},
		// Rotating on deploy would rotate the placeholder before an operator has
		// stored a key; Secrets Manager still runs the testSecret step.
		RotateImmediatelyOnUpdate: jsii.Bool(false),
	})
	// Secrets Manager invokes the function (testSecret) when the schedule is created.
	// The function already waits for its role's policy; the permission is separate.
	schedule.Node().AddDependency(permission)
	return schedule
}
