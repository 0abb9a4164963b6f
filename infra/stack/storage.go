package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/config"
)

type storageResources struct {
	auditKey, stateKey awskms.Key
	accessLogBucket    awss3.Bucket
	auditBucket        awss3.Bucket
	stateBucket        awss3.Bucket
}

// Access-log key prefixes in the access-log bucket, one per logged bucket.
const (
	auditAccessLogPrefix = "audit/"
	stateAccessLogPrefix = "state/"
)

// storage creates the audit bucket (Object Lock, SSE-KMS), the state bucket (export
// checkpoint, offboarding journals) and the bucket receiving their access logs.
//
// The checkpoint is in its own bucket because Object Lock default retention applies
// to every object version: a checkpoint rewritten every run would leave a year of
// undeletable versions behind, and a checkpoint is state, not evidence.
func (b *builder) storage() {
	s, cfg := b.stack, b.cfg
	lower := strings.ToLower(cfg.StackName)

	b.auditKey = awskms.NewKey(s, jsii.String("AuditKey"), &awskms.KeyProps{
		Description:       jsii.String("orgwarden: encrypts exported OpenAI audit logs"),
		Alias:             jsii.String("alias/" + lower + "/audit"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	b.stateKey = awskms.NewKey(s, jsii.String("StateKey"), &awskms.KeyProps{
		Description:       jsii.String("orgwarden: encrypts the export checkpoint and offboarding journals"),
		Alias:             jsii.String("alias/" + lower + "/state"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})

	// S3 server access logging delivers only to SSE-S3 buckets, hence no KMS here.
	var logRules []*awss3.LifecycleRule
	if days := cfg.AuditExport.AccessLogRetentionDays; days > 0 {
		logRules = append(logRules, &awss3.LifecycleRule{
			Id:                          jsii.String("expire-access-logs"),
			Expiration:                  awscdk.Duration_Days(jsii.Number(float64(days))),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(1)),
		})
	}
	b.accessLogBucket = awss3.NewBucket(s, jsii.String("AccessLogBucket"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		BlockedEncryptionTypes: &[]awss3.BlockedEncryptionType{awss3.BlockedEncryptionType_SSE_C()},
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:              jsii.Bool(true),
		LifecycleRules:         &logRules,
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
	})

	b.auditBucket = awss3.NewBucket(s, jsii.String("AuditBucket"), &awss3.BucketProps{
		BlockPublicAccess:          awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:                 jsii.Bool(true),
		MinimumTLSVersion:          jsii.Number(1.2),
		Encryption:                 awss3.BucketEncryption_KMS,
		EncryptionKey:              b.auditKey,
		BucketKeyEnabled:           jsii.Bool(true),
		BlockedEncryptionTypes:     &[]awss3.BlockedEncryptionType{awss3.BlockedEncryptionType_SSE_C()},
		ObjectOwnership:            awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:                  jsii.Bool(true),
		ObjectLockEnabled:          jsii.Bool(true),
		ObjectLockDefaultRetention: objectLockRetention(cfg.AuditExport.ObjectLock),
		LifecycleRules:             auditLifecycle(cfg.AuditExport.Lifecycle),
		ServerAccessLogsBucket:     b.accessLogBucket,
		ServerAccessLogsPrefix:     jsii.String(auditAccessLogPrefix),
		RemovalPolicy:              awscdk.RemovalPolicy_RETAIN,
	})

	b.stateBucket = awss3.NewBucket(s, jsii.String("StateBucket"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          b.stateKey,
		BucketKeyEnabled:       jsii.Bool(true),
		BlockedEncryptionTypes: &[]awss3.BlockedEncryptionType{awss3.BlockedEncryptionType_SSE_C()},
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		// Versioning keeps a checkpoint or journal that was overwritten by mistake
		// recoverable for a month.
		Versioned: jsii.Bool(true),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-old-versions"),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(30)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		}},
		ServerAccessLogsBucket: b.accessLogBucket,
		ServerAccessLogsPrefix: jsii.String(stateAccessLogPrefix),
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
	})
}

func objectLockRetention(lock config.ObjectLock) awss3.ObjectLockRetention {
	days := awscdk.Duration_Days(jsii.Number(float64(lock.RetentionDays)))
	if lock.Mode == config.ObjectLockGovernance {
		return awss3.ObjectLockRetention_Governance(days)
	}
	return awss3.ObjectLockRetention_Compliance(days)
}

func auditLifecycle(lc config.Lifecycle) *[]*awss3.LifecycleRule {
	rule := &awss3.LifecycleRule{
		Id:                                  jsii.String("audit-storage-classes"),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
	}
	var transitions []*awss3.Transition
	if lc.InfrequentAccessDays > 0 {
		transitions = append(transitions, &awss3.Transition{
			StorageClass:    awss3.StorageClass_INFREQUENT_ACCESS(),
			TransitionAfter: awscdk.Duration_Days(jsii.Number(float64(lc.InfrequentAccessDays))),
		})
	}
	// Glacier Instant Retrieval, unlike Flexible Retrieval, stays readable by Athena.
	if lc.GlacierInstantRetrievalDays > 0 {
		transitions = append(transitions, &awss3.Transition{
			StorageClass:    awss3.StorageClass_GLACIER_INSTANT_RETRIEVAL(),
			TransitionAfter: awscdk.Duration_Days(jsii.Number(float64(lc.GlacierInstantRetrievalDays))),
		})
	}
	if len(transitions) > 0 {
		rule.Transitions = &transitions
	}
	if lc.ExpireDays > 0 {
		rule.Expiration = awscdk.Duration_Days(jsii.Number(float64(lc.ExpireDays)))
		rule.NoncurrentVersionExpiration = awscdk.Duration_Days(jsii.Number(1))
	}
	return &[]*awss3.LifecycleRule{rule}
}

// s3ViaService limits a KMS permission to requests S3 makes on the caller's behalf.
func (b *builder) s3ViaService() *map[string]any {
	return &map[string]any{
		"StringEquals": map[string]any{
			"kms:ViaService": "s3." + *b.stack.Region() + ".amazonaws.com",
		},
	}
}

// objectStatements grant Get/Put on bucket/prefix* and List limited to that prefix,
// plus the KMS use S3 needs to encrypt and decrypt those objects.
func (b *builder) objectStatements(bucket awss3.Bucket, key awskms.Key, prefix string, actions ...string) []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(actions...),
			Resources: jsii.Strings(*bucket.ArnForObjects(jsii.String(prefix + "*"))),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("s3:ListBucket"),
			Resources: jsii.Strings(*bucket.BucketArn()),
			Conditions: &map[string]any{
				"StringLike": map[string]any{"s3:prefix": []string{prefix + "*"}},
			},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
			Resources:  jsii.Strings(*key.KeyArn()),
			Conditions: b.s3ViaService(),
		}),
	}
}
