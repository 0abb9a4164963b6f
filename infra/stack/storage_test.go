package stack_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/functions/inventory/tables"
)

func blockAll() map[string]any {
	return map[string]any{
		"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
	}
}

func TestAuditBucket(t *testing.T) {
	bucket := logicalID(t, "AuditBucket/Resource")
	key := logicalID(t, "AuditKey/Resource")
	assert(t, "audit bucket", func() {
		tpl.HasResource(jsii.String("AWS::S3::Bucket"), map[string]any{
			"DeletionPolicy": "Retain",
			"Properties": map[string]any{
				"PublicAccessBlockConfiguration": blockAll(),
				"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
					"BucketKeyEnabled":       true,
					"BlockedEncryptionTypes": map[string]any{"EncryptionType": []any{"SSE-C"}},
					"ServerSideEncryptionByDefault": map[string]any{
						"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": getAtt(key),
					},
				}}},
				"VersioningConfiguration": map[string]any{"Status": "Enabled"},
				"ObjectLockEnabled":       true,
				"ObjectLockConfiguration": map[string]any{
					"ObjectLockEnabled": "Enabled",
					"Rule": map[string]any{"DefaultRetention": map[string]any{
						"Mode": "COMPLIANCE", "Days": cfg.AuditExport.ObjectLock.RetentionDays,
					}},
				},
				"LoggingConfiguration": map[string]any{
					"DestinationBucketName": ref(logicalID(t, "AccessLogBucket/Resource")),
					"LogFilePrefix":         "audit/",
				},
				"LifecycleConfiguration": map[string]any{"Rules": []any{map[string]any{
					"Status":                         "Enabled",
					"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 7},
					"Transitions": []any{
						map[string]any{"StorageClass": "STANDARD_IA", "TransitionInDays": cfg.AuditExport.Lifecycle.InfrequentAccessDays},
						map[string]any{"StorageClass": "GLACIER_IR", "TransitionInDays": cfg.AuditExport.Lifecycle.GlacierInstantRetrievalDays},
					},
					// Audit logs are kept unless an expiry is configured.
					"ExpirationInDays": assertions.Match_Absent(),
				}}},
			},
		})
	})
	if resources[bucket].Type != "AWS::S3::Bucket" {
		t.Fatalf("AuditBucket is %s", resources[bucket].Type)
	}
	assertTLSOnly(t, "AuditBucket/Policy/Resource", "s3:*")
	if policy := canonical(resources[logicalID(t, "AuditBucket/Policy/Resource")].Properties); !contains(policy, `{"NumericLessThan":{"s3:TlsVersion":1.2}}`) {
		t.Errorf("audit bucket accepts TLS below 1.2: %s", policy)
	}
	assert(t, "audit key rotation", func() {
		tpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
			"EnableKeyRotation": true, "Description": assertions.Match_StringLikeRegexp(jsii.String("audit")),
		})
	})
}

func TestStateBucketHasNoObjectLock(t *testing.T) {
	r := resources[logicalID(t, "StateBucket/Resource")]
	if _, locked := r.Properties["ObjectLockEnabled"]; locked {
		t.Error("the state bucket has Object Lock: every checkpoint write would leave a locked version")
	}
	encryption := canonical(r.Properties["BucketEncryption"])
	if !strings.Contains(encryption, canonical(getAtt(logicalID(t, "StateKey/Resource")))) || !strings.Contains(encryption, "aws:kms") {
		t.Errorf("state bucket encryption = %s, want SSE-KMS with the state key", encryption)
	}
	if canonical(r.Properties["PublicAccessBlockConfiguration"]) != canonical(blockAll()) {
		t.Errorf("state bucket public access block = %s", canonical(r.Properties["PublicAccessBlockConfiguration"]))
	}
	if canonical(r.Properties["LoggingConfiguration"]) != canonical(map[string]any{
		"DestinationBucketName": ref(logicalID(t, "AccessLogBucket/Resource")), "LogFilePrefix": "state/",
	}) {
		t.Errorf("state bucket logging = %s", canonical(r.Properties["LoggingConfiguration"]))
	}
	assertTLSOnly(t, "StateBucket/Policy/Resource", "s3:*")
}

func TestAccessLogBucket(t *testing.T) {
	r := resources[logicalID(t, "AccessLogBucket/Resource")]
	if canonical(r.Properties["PublicAccessBlockConfiguration"]) != canonical(blockAll()) {
		t.Errorf("access-log bucket public access block = %s", canonical(r.Properties["PublicAccessBlockConfiguration"]))
	}
	// Server access log delivery supports SSE-S3 only.
	if !strings.Contains(canonical(r.Properties["BucketEncryption"]), `"SSEAlgorithm":"AES256"`) {
		t.Errorf("access-log bucket encryption = %s", canonical(r.Properties["BucketEncryption"]))
	}
	assertTLSOnly(t, "AccessLogBucket/Policy/Resource", "s3:*")
	policy := canonical(resources[logicalID(t, "AccessLogBucket/Policy/Resource")].Properties)
	if !strings.Contains(policy, "logging.s3.amazonaws.com") {
		t.Error("the access-log bucket policy does not let S3 log delivery write")
	}
}

// assertTLSOnly checks that the resource policy at path denies non-TLS requests.
func assertTLSOnly(t *testing.T, path, action string) {
	t.Helper()
	doc := canonical(resources[logicalID(t, path)].Properties)
	want := `"Condition":{"Bool":{"aws:SecureTransport":"false"}},"Effect":"Deny"`
	if !strings.Contains(doc, want) || !strings.Contains(doc, `"Action":"`+action+`"`) {
		t.Errorf("%s does not deny %s without TLS: %s", path, action, doc)
	}
}

func TestGlueDatabaseAndTables(t *testing.T) {
	db := logicalID(t, "AuditDatabase")
	assert(t, "database", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Glue::Database"), map[string]any{
			"DatabaseInput": map[string]any{"Name": cfg.GlueDatabaseName()},
		})
	})
	bucket := logicalID(t, "AuditBucket/Resource")
	prefix := cfg.AuditExport.Prefix
	template := map[string]any{"Fn::Join": []any{"", []any{
		"s3://", ref(bucket), "/" + prefix + "/org_id=${org_id}/year=${year}/month=${month}/day=${day}/",
	}}}
	projection := map[string]any{
		"projection.enabled":            "true",
		"projection.org_id.type":        "enum",
		"projection.org_id.values":      cfg.OrgID,
		"projection.year.type":          "date",
		"projection.year.format":        "yyyy",
		"projection.year.range":         fmt.Sprintf("%d,NOW", cfg.AuditExport.ProjectionStartYear),
		"projection.year.interval":      "1",
		"projection.year.interval.unit": "YEARS",
		"projection.month.type":         "integer",
		"projection.month.range":        "1,12",
		"projection.month.digits":       "2",
		"projection.day.type":           "integer",
		"projection.day.range":          "1,31",
		"projection.day.digits":         "2",
		"storage.location.template":     template,
		"compressionType":               "gzip",
	}
	partitions := []any{
		map[string]any{"Name": "org_id", "Type": "string"},
		map[string]any{"Name": "year", "Type": "string"},
		map[string]any{"Name": "month", "Type": "string"},
		map[string]any{"Name": "day", "Type": "string"},
	}
	location := map[string]any{"Fn::Join": []any{"", []any{"s3://", ref(bucket), "/" + prefix + "/"}}}

	assert(t, "typed table", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Glue::Table"), map[string]any{
			"DatabaseName": ref(db),
			"TableInput": map[string]any{
				"Name":          cfg.AuditExport.GlueTable,
				"TableType":     "EXTERNAL_TABLE",
				"Parameters":    assertions.Match_ObjectLike(&projection),
				"PartitionKeys": partitions,
				"StorageDescriptor": map[string]any{
					"Location":   location,
					"Compressed": true,
					"SerdeInfo":  map[string]any{"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
					"Columns": []any{
						map[string]any{"Name": "id", "Type": "string"},
						map[string]any{"Name": "type", "Type": "string"},
						map[string]any{"Name": "effective_at", "Type": "bigint"},
						map[string]any{"Name": "project", "Type": "struct<id:string,name:string>"},
						map[string]any{"Name": "actor", "Type": assertions.Match_StringLikeRegexp(jsii.String(
							`^struct<type:string,session:struct<user:struct<id:string,email:string>,ip_address:string>,api_key:struct<id:string,type:string,user:struct<id:string,email:string>,service_account:struct<id:string>>>$`))},
					},
				},
			},
		})
	})
	assert(t, "raw table", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Glue::Table"), map[string]any{
			"DatabaseName": ref(db),
			"TableInput": map[string]any{
				"Name":          cfg.AuditExport.GlueTable + "_raw",
				"Parameters":    assertions.Match_ObjectLike(&projection),
				"PartitionKeys": partitions,
				"StorageDescriptor": assertions.Match_ObjectLike(&map[string]any{
					"Location": location,
					"Columns":  []any{map[string]any{"Name": "line", "Type": "string"}},
				}),
			},
		})
	})
	assert(t, "no crawler", func() { tpl.ResourceCountIs(jsii.String("AWS::Glue::Crawler"), jsii.Number(0)) })
}

// TestInventoryGlueTables: one Glue table per inventory table, with the
// columns of package tables (what the function writes and the SQL tests
// read) and dt partitions projected from the layout snapshot.Layout writes.
func TestInventoryGlueTables(t *testing.T) {
	db := logicalID(t, "AuditDatabase")
	bucket := logicalID(t, "AuditBucket/Resource")
	for _, tbl := range tables.All {
		root := "/" + cfg.Inventory.Prefix + "/inventory/table=" + tbl.Name + "/"
		var columns []any
		for _, c := range tbl.Columns() {
			columns = append(columns, map[string]any{"Name": c.Name, "Type": c.Type.Hive()})
		}
		assert(t, tbl.Name, func() {
			tpl.HasResourceProperties(jsii.String("AWS::Glue::Table"), map[string]any{
				"DatabaseName": ref(db),
				"TableInput": map[string]any{
					"Name": cfg.Inventory.GlueTablePrefix + tbl.Name,
					"Parameters": assertions.Match_ObjectLike(&map[string]any{
						"projection.enabled":        "true",
						"projection.org_id.values":  cfg.OrgID,
						"projection.dt.type":        "date",
						"projection.dt.format":      "yyyy-MM-dd",
						"storage.location.template": map[string]any{"Fn::Join": []any{"", []any{"s3://", ref(bucket), root + "org_id=${org_id}/dt=${dt}/"}}},
					}),
					"PartitionKeys": []any{map[string]any{"Name": "org_id", "Type": "string"}, map[string]any{"Name": "dt", "Type": "string"}},
					"StorageDescriptor": assertions.Match_ObjectLike(&map[string]any{
						"Location": map[string]any{"Fn::Join": []any{"", []any{"s3://", ref(bucket), root}}},
						"Columns":  columns,
					}),
				},
			})
		})
	}
}

// TestInventoryWritesAreConditional: manifests are create-only, table
// objects are written with If-None-Match or If-Match, never blindly.
func TestInventoryWritesAreConditional(t *testing.T) {
	root := cfg.Inventory.Prefix + "/inventory/"
	for sid, want := range map[string][2]any{
		"InventoryManifestsAreCreateOnly":        {root + "_manifests/*", map[string]any{"s3:if-none-match": "true"}},
		"InventoryTablesAreWrittenConditionally": {root + "table=*", map[string]any{"s3:if-none-match": "true", "s3:if-match": "true"}},
	} {
		s := statementWithSid(t, "AuditBucket/Policy/Resource", sid)
		cond, _ := s["Condition"].(map[string]any)
		if s["Effect"] != "Deny" || s["Action"] != "s3:PutObject" || canonical(cond["Null"]) != canonical(want[1]) ||
			!strings.Contains(canonical(s["Resource"]), want[0].(string)) {
			t.Errorf("%s: %s", sid, canonical(s))
		}
	}
}
