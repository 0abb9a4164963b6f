package stack

import (
	"fmt"

	"github.com/orgwarden/orgwarden/functions/inventory/tables"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/jsii-runtime-go"
)

// auditColumns follows one OpenAI audit-log event (docs: AuditLog). The object keyed
// by the event type ("api_key.created": {...}) is not declared: its name changes with
// every type and new types appear; the raw table below exposes each line whole so
// json_extract(line, '$["api_key.created"]') reaches any of them.
var auditColumns = []struct{ name, typ string }{
	{"id", "string"},
	{"type", "string"},
	{"effective_at", "bigint"},
	{"project", "struct<id:string,name:string>"},
	{"actor", "struct<" +
		"type:string," +
		"session:struct<user:struct<id:string,email:string>,ip_address:string>," +
		"api_key:struct<id:string,type:string,user:struct<id:string,email:string>,service_account:struct<id:string>>" +
		">"},
}

// Partition columns in the order of the export layout:
// PREFIX/org_id=ORG/year=YYYY/month=MM/day=DD/<object>.jsonl.gz
var partitionColumns = []string{"org_id", "year", "month", "day"}

// projectionParameters lets Athena compute partitions from the layout, so no
// crawler or MSCK REPAIR is ever needed. Years run from the configured start to
// the current year; months and days are zero-padded like the export writes them.
func (b *builder) projectionParameters() map[string]any {
	location := fmt.Sprintf("s3://%s/%s/org_id=${org_id}/year=${year}/month=${month}/day=${day}/",
		*b.auditBucket.BucketName(), b.cfg.AuditExport.Prefix)
	return map[string]any{
		"classification":                "json",
		"compressionType":               "gzip",
		"projection.enabled":            "true",
		"projection.org_id.type":        "enum",
		"projection.org_id.values":      b.cfg.OrgID,
		"projection.year.type":          "date",
		"projection.year.format":        "yyyy",
		"projection.year.range":         fmt.Sprintf("%d,NOW", b.cfg.AuditExport.ProjectionStartYear),
		"projection.year.interval":      "1",
		"projection.year.interval.unit": "YEARS",
		"projection.month.type":         "integer",
		"projection.month.range":        "1,12",
		"projection.month.digits":       "2",
		"projection.day.type":           "integer",
		"projection.day.range":          "1,31",
		"projection.day.digits":         "2",
		"storage.location.template":     location,
	}
}

// glueTables declares the Glue database and two tables over the export layout:
// a typed one (JSON SerDe) and a raw one with each event as a single string.
func (b *builder) glueTables() {
	s, cfg := b.stack, b.cfg
	db := awsglue.NewCfnDatabase(s, jsii.String("AuditDatabase"), &awsglue.CfnDatabaseProps{
		CatalogId: s.Account(),
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(cfg.GlueDatabaseName()),
			Description: jsii.String("orgwarden: OpenAI audit logs exported to S3"),
		},
	})

	location := jsii.String(fmt.Sprintf("s3://%s/%s/", *b.auditBucket.BucketName(), cfg.AuditExport.Prefix))
	var partitions []any
	for _, name := range partitionColumns {
		partitions = append(partitions, &awsglue.CfnTable_ColumnProperty{Name: jsii.String(name), Type: jsii.String("string")})
	}

	var columns []any
	for _, c := range auditColumns {
		columns = append(columns, &awsglue.CfnTable_ColumnProperty{Name: jsii.String(c.name), Type: jsii.String(c.typ)})
	}
	awsglue.NewCfnTable(s, jsii.String("AuditTable"), &awsglue.CfnTableProps{
		CatalogId:    s.Account(),
		DatabaseName: db.Ref(),
		TableInput: &awsglue.CfnTable_TableInputProperty{
			Name:          jsii.String(cfg.AuditExport.GlueTable),
			Description:   jsii.String("OpenAI audit-log events, one row per event; partitions are projected from the S3 layout"),
			TableType:     jsii.String("EXTERNAL_TABLE"),
			Parameters:    b.projectionParameters(),
			PartitionKeys: &partitions,
			StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
				Location:     location,
				Columns:      &columns,
				Compressed:   jsii.Bool(true),
				InputFormat:  jsii.String("org.apache.hadoop.mapred.TextInputFormat"),
				OutputFormat: jsii.String("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
				SerdeInfo: &awsglue.CfnTable_SerdeInfoProperty{
					SerializationLibrary: jsii.String("org.openx.data.jsonserde.JsonSerDe"),
				},
			},
		},
	})

	b.inventoryGlueTables(db)

	rawColumns := []any{&awsglue.CfnTable_ColumnProperty{Name: jsii.String("line"), Type: jsii.String("string")}}
	awsglue.NewCfnTable(s, jsii.String("AuditRawTable"), &awsglue.CfnTableProps{
		CatalogId:    s.Account(),
		DatabaseName: db.Ref(),
		TableInput: &awsglue.CfnTable_TableInputProperty{
			Name:          jsii.String(cfg.AuditExport.GlueTable + "_raw"),
			Description:   jsii.String("OpenAI audit-log events as raw JSON lines, for the per-type payloads: json_extract(line, '$[\"api_key.created\"]')"),
			TableType:     jsii.String("EXTERNAL_TABLE"),
			Parameters:    b.projectionParameters(),
			PartitionKeys: &partitions,
			StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
				Location:     location,
				Columns:      &rawColumns,
				Compressed:   jsii.Bool(true),
				InputFormat:  jsii.String("org.apache.hadoop.mapred.TextInputFormat"),
				OutputFormat: jsii.String("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
				SerdeInfo: &awsglue.CfnTable_SerdeInfoProperty{
					// JSON never contains a raw \x01 (the default field delimiter), so
					// each line lands whole in the single column.
					SerializationLibrary: jsii.String("org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"),
					Parameters:           map[string]any{"serialization.format": "1"},
				},
			},
		},
	})
}

// inventoryGlueTables declares one table per inventory table, from the same
// definition the function writes and the SQL tests read (package tables),
// partitioned like snapshot.Layout writes them:
// PREFIX/inventory/table=<name>/org_id=ORG/dt=YYYY-MM-DD/<name>.jsonl.gz.
// Partitions are projected: no crawler, no MSCK REPAIR.
func (b *builder) inventoryGlueTables(db awsglue.CfnDatabase) {
	s, cfg := b.stack, b.cfg
	var partitions []any
	for _, name := range tables.PartitionColumns {
		partitions = append(partitions, &awsglue.CfnTable_ColumnProperty{Name: jsii.String(name), Type: jsii.String("string")})
	}
	for _, t := range tables.All {
		var columns []any
		for _, c := range t.Columns() {
			columns = append(columns, &awsglue.CfnTable_ColumnProperty{Name: jsii.String(c.Name), Type: jsii.String(c.Type.Hive())})
		}
		root := fmt.Sprintf("s3://%s/%s/inventory/table=%s/", *b.auditBucket.BucketName(), cfg.Inventory.Prefix, t.Name)
		awsglue.NewCfnTable(s, jsii.String("InventoryTable_"+t.Name), &awsglue.CfnTableProps{
			CatalogId:    s.Account(),
			DatabaseName: db.Ref(),
			TableInput: &awsglue.CfnTable_TableInputProperty{
				Name:        jsii.String(cfg.Inventory.GlueTablePrefix + t.Name),
				Description: jsii.String("orgwarden inventory: " + t.Description + "; one row per record of each daily snapshot (dt), as the Admin API returned it"),
				TableType:   jsii.String("EXTERNAL_TABLE"),
				Parameters: map[string]any{
					"classification":              "json",
					"compressionType":             "gzip",
					"projection.enabled":          "true",
					"projection.org_id.type":      "enum",
					"projection.org_id.values":    cfg.OrgID,
					"projection.dt.type":          "date",
					"projection.dt.format":        "yyyy-MM-dd",
					"projection.dt.range":         fmt.Sprintf("%d-01-01,NOW", cfg.AuditExport.ProjectionStartYear),
					"projection.dt.interval":      "1",
					"projection.dt.interval.unit": "DAYS",
					"storage.location.template":   root + "org_id=${org_id}/dt=${dt}/",
				},
				PartitionKeys: &partitions,
				StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
					Location:     jsii.String(root),
					Columns:      &columns,
					Compressed:   jsii.Bool(true),
					InputFormat:  jsii.String("org.apache.hadoop.mapred.TextInputFormat"),
					OutputFormat: jsii.String("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
					SerdeInfo: &awsglue.CfnTable_SerdeInfoProperty{
						SerializationLibrary: jsii.String("org.openx.data.jsonserde.JsonSerDe"),
					},
				},
			},
		})
	}
}
