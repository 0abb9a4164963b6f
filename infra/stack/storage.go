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

	b.auditKey = b.newKey("AuditKey", "orgwarden: encrypts exported OpenAI audit logs", "audit")
	b.stateKey = b.newKey("StateKey", "orgwarden: encrypts the export checkpoint and offboarding journals", "state")
	if !cfg.Trial() {
		b.guardAuditKey()
	}

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
		RemovalPolicy:          b.removal(),
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
		ObjectLockEnabled:          jsii.Bool(!cfg.Trial()),
		ObjectLockDefaultRetention: objectLockRetention(cfg.AuditExport.ObjectLock),
		LifecycleRules:             auditLifecycle(cfg.AuditExport.Lifecycle),
		ServerAccessLogsBucket:     b.accessLogBucket,
		ServerAccessLogsPrefix:     jsii.String(auditAccessLogPrefix),
		RemovalPolicy:              b.removal(),
	})
	b.requireCreateOnly()
	b.requireConditionalInventory()

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
		RemovalPolicy:          b.removal(),
	})
	// State is written under the state key only: a role that may write the
	// checkpoint cannot make it look like evidence, nor the other way round.
	b.stateBucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("StateKeyOnly"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  jsii.Strings(*b.stateBucket.ArnForObjects(jsii.String("*"))),
		Conditions: &map[string]any{"StringNotEqualsIfExists": map[string]any{
			"s3:x-amz-server-side-encryption-aws-kms-key-id": *b.stateKey.KeyArn(),
		}},
	}))
}

// removal is what happens to stateful resources when the stack is deleted:
// kept, unless the stack is a trial (evidence lock OFF).
func (b *builder) removal() awscdk.RemovalPolicy {
	if b.cfg.Trial() {
		return awscdk.RemovalPolicy_DESTROY
	}
	return awscdk.RemovalPolicy_RETAIN
}

// newKey creates a customer managed key with rotation; a deleted key waits
// the longest period KMS allows (7 days for a trial).
func (b *builder) newKey(id, description, alias string) awskms.Key {
	window := 30.0
	if b.cfg.Trial() {
		window = 7
	}
	return awskms.NewKey(b.stack, jsii.String(id), &awskms.KeyProps{
		Description:       jsii.String(description),
		Alias:             jsii.String("alias/" + strings.ToLower(b.cfg.StackName) + "/" + alias),
		EnableKeyRotation: jsii.Bool(true),
		PendingWindow:     awscdk.Duration_Days(jsii.Number(window)),
		RemovalPolicy:     b.removal(),
	})
}

// keyDestruction are the calls that make every object under a key unreadable
// (crypto-shredding), whatever its Object Lock says.
var keyDestruction = []string{"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:DeleteImportedKeyMaterial"}

// guardAuditKey denies destroying the audit key to everyone but the
// break-glass principals: the account root's kms:* in the default policy
// would otherwise let any administrator shred evidence under compliance lock.
func (b *builder) guardAuditKey() {
	st := &awsiam.PolicyStatementProps{
		Sid:        jsii.String("NoEvidenceShredding"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings(keyDestruction...),
		Resources:  jsii.Strings("*"), // in a key policy, "*" is this key
	}
	if len(b.cfg.BreakGlassPrincipalArns) > 0 {
		st.Conditions = &map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": b.cfg.BreakGlassPrincipalArns}}
	}
	b.auditKey.AddToResourcePolicy(awsiam.NewPolicyStatement(st), nil)
}

// requireCreateOnly makes data objects and digests write-once: a PutObject
// (or CompleteMultipartUpload) without If-None-Match is refused, so even the
// export role cannot put a new current version over evidence. S3 exempts the
// multipart steps that take no conditional header through
// s3:ObjectCreationOperation (false for CreateMultipartUpload and UploadPart).
func (b *builder) requireCreateOnly() {
	prefix := b.cfg.AuditExport.Prefix + "/"
	b.auditBucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("EvidenceIsCreateOnly"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources: jsii.Strings(
			*b.auditBucket.ArnForObjects(jsii.String(prefix + "org_id=*")),
			*b.auditBucket.ArnForObjects(jsii.String(prefix + "_digests/*")),
			*b.auditBucket.ArnForObjects(jsii.String(prefix + "_findings/*")),
		),
		Conditions: &map[string]any{
			"Null": map[string]any{"s3:if-none-match": "true"},
			"Bool": map[string]any{"s3:ObjectCreationOperation": "true"},
		},
	}))
}

// requireConditionalInventory keeps the inventory from being overwritten
// blindly: a manifest is create-only (If-None-Match), and a table object is
// written either new (If-None-Match) or over the exact version a run that
// wrote no manifest left (If-Match), never unconditionally.
func (b *builder) requireConditionalInventory() {
	root := b.cfg.Inventory.Prefix + "/inventory/"
	b.auditBucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("InventoryManifestsAreCreateOnly"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  jsii.Strings(*b.auditBucket.ArnForObjects(jsii.String(root + "_manifests/*"))),
		Conditions: &map[string]any{
			"Null": map[string]any{"s3:if-none-match": "true"},
			"Bool": map[string]any{"s3:ObjectCreationOperation": "true"},
		},
	}))
	b.auditBucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("InventoryTablesAreWrittenConditionally"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  jsii.Strings(*b.auditBucket.ArnForObjects(jsii.String(root + "table=*"))),
		Conditions: &map[string]any{
			"Null": map[string]any{"s3:if-none-match": "true", "s3:if-match": "true"},
			"Bool": map[string]any{"s3:ObjectCreationOperation": "true"},
		},
	}))
}

func objectLockRetention(lock config.ObjectLock) awss3.ObjectLockRetention {
	if lock.Mode == config.ObjectLockOff {
		return nil
	}
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
	return b.objectStatementsFor(bucket, key, []string{prefix + "*"}, []string{prefix + "*"}, actions...)
}

// objectStatementsFor grant actions on the given object keys (patterns) of
// bucket, List with those prefixes, and the KMS use S3 needs for them.
func (b *builder) objectStatementsFor(bucket awss3.Bucket, key awskms.Key, objects, listPrefixes []string, actions ...string) []awsiam.PolicyStatement {
	arns := make([]string, len(objects))
	for i, o := range objects {
		arns[i] = *bucket.ArnForObjects(jsii.String(o))
	}
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings(actions...),
			Resources: jsii.Strings(arns...),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("s3:ListBucket"),
			Resources: jsii.Strings(*bucket.BucketArn()),
			Conditions: &map[string]any{
				"StringLike": map[string]any{"s3:prefix": listPrefixes},
			},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
			Resources:  jsii.Strings(*key.KeyArn()),
			Conditions: b.s3ViaService(),
		}),
	}
}
