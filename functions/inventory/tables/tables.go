// Package tables is the one definition of the inventory's tables: their
// names, scope and column types. The function writes them (package
// snapshot), the stack declares a Glue table for each from the same list
// (infra/stack), and the SQL tests read the exported partitions with the
// same columns in DuckDB, so the three cannot drift apart.
//
// Layout of every table, Hive-partitioned:
//
//	PREFIX/inventory/table=<name>/org_id=<org>/dt=YYYY-MM-DD/<name>.jsonl.gz
//
// An organization-scoped table has one line per record, the record's JSON
// exactly as the API returned it. A project-scoped table's line wraps the
// record, whose JSON the API returned without the project's id:
//
//	{"project_id":"proj_…","record":<the record's JSON as the API returned it>}
package tables

import "strings"

// Scope says what a table's records belong to.
type Scope string

const (
	// Organization: one list (or object) for the organization.
	Organization Scope = "organization"
	// Project: one list (or object) per project.
	Project Scope = "project"
)

// Table is one table of the inventory.
type Table struct {
	Name        string
	Scope       Scope
	Description string
	// Record is the record's columns as the API documents them; fields the
	// API adds later stay in the raw lines and are simply not declared.
	Record []Field
}

// Columns are the table's columns (partition columns excluded): the
// record's fields, or project_id and the record as a struct for a
// project-scoped table.
func (t Table) Columns() []Field {
	if t.Scope == Project {
		return []Field{{"project_id", String}, {"record", Struct(t.Record...)}}
	}
	return t.Record
}

// PartitionColumns are every table's partition columns, in the order of the
// layout; both are strings.
var PartitionColumns = []string{"org_id", "dt"}

// Field is a named column or struct field.
type Field struct {
	Name string
	Type Type
}

// Type is a column type, rendered for Hive/Glue (Athena) and for DuckDB.
type Type struct {
	hive, duck string
	fields     []Field
	elem       *Type
}

// Scalar types.
var (
	String = Type{hive: "string", duck: "VARCHAR"}
	BigInt = Type{hive: "bigint", duck: "BIGINT"}
	Double = Type{hive: "double", duck: "DOUBLE"}
	Bool   = Type{hive: "boolean", duck: "BOOLEAN"}
)

// Struct is a struct of fields.
func Struct(fields ...Field) Type { return Type{fields: fields} }

// Array is an array of elem.
func Array(elem Type) Type { return Type{elem: &elem} }

// Hive renders the type as Glue and Athena write it.
func (t Type) Hive() string {
	switch {
	case t.elem != nil:
		return "array<" + t.elem.Hive() + ">"
	case t.fields != nil:
		parts := make([]string, len(t.fields))
		for i, f := range t.fields {
			parts[i] = f.Name + ":" + f.Type.Hive()
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	}
	return t.hive
}

// DuckDB renders the type as DuckDB writes it.
func (t Type) DuckDB() string {
	switch {
	case t.elem != nil:
		return t.elem.DuckDB() + "[]"
	case t.fields != nil:
		parts := make([]string, len(t.fields))
		for i, f := range t.fields {
			parts[i] = `"` + f.Name + `" ` + f.Type.DuckDB()
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	}
	return t.duck
}

func fields(pairs ...any) []Field {
	out := make([]Field, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Field{pairs[i].(string), pairs[i+1].(Type)})
	}
	return out
}

// Shapes shared by several tables (docs: the OpenAI Admin API spec).
var (
	spendAlert = fields(
		"object", String, "id", String, "threshold_amount", BigInt, "currency", String, "interval", String,
		"notification_channel", Struct(fields("type", String, "recipients", Array(String), "subject_prefix", String)...),
	)
	retention = fields("object", String, "type", String)
)

// All is every table, in the order a snapshot writes them. Adding a table
// is one entry here and one source in package snapshot.
var All = []Table{
	{Name: "users", Scope: Organization, Description: "organization users and their organization role",
		Record: fields("object", String, "id", String, "name", String, "email", String, "role", String, "added_at", BigInt,
			"is_default", Bool, "is_service_account", Bool, "is_scim_managed", Bool, "api_key_last_used_at", BigInt,
			"technical_level", String, "developer_persona", String,
			"projects", Struct(fields("object", String, "data", Array(Struct(fields("id", String, "name", String, "role", String)...)))...))},
	{Name: "invites", Scope: Organization, Description: "invites in every status",
		Record: fields("object", String, "id", String, "email", String, "role", String, "status", String,
			"created_at", BigInt, "expires_at", BigInt, "accepted_at", BigInt,
			"projects", Array(Struct(fields("id", String, "role", String)...)))},
	{Name: "projects", Scope: Organization, Description: "projects, archived ones included",
		Record: fields("object", String, "id", String, "name", String, "created_at", BigInt, "archived_at", BigInt,
			"status", String, "external_key_id", String, "residency", String)},
	{Name: "admin_api_keys", Scope: Organization, Description: "admin API keys (metadata as the API returns it, no secret)",
		Record: fields("object", String, "id", String, "name", String, "redacted_value", String, "created_at", BigInt,
			"expires_at", BigInt, "last_used_at", BigInt,
			"owner", Struct(fields("type", String, "object", String, "id", String, "name", String, "created_at", BigInt, "role", String)...))},
	{Name: "organization_data_retention", Scope: Organization, Description: "the organization's data retention", Record: retention},
	{Name: "organization_spend_alerts", Scope: Organization, Description: "the organization's spend alerts", Record: spendAlert},
	{Name: "project_users", Scope: Project, Description: "project members and their project role",
		Record: fields("object", String, "id", String, "name", String, "email", String, "role", String, "added_at", BigInt)},
	{Name: "project_service_accounts", Scope: Project, Description: "project service accounts and their role",
		Record: fields("object", String, "id", String, "name", String, "role", String, "created_at", BigInt)},
	{Name: "project_api_keys", Scope: Project, Description: "project API keys (metadata as the API returns it, no secret)",
		Record: fields("object", String, "id", String, "name", String, "redacted_value", String, "created_at", BigInt,
			"last_used_at", BigInt, "owner_project_access", String,
			"owner", Struct(fields("type", String,
				"user", Struct(fields("id", String, "email", String, "name", String, "created_at", BigInt, "role", String)...),
				"service_account", Struct(fields("id", String, "name", String, "created_at", BigInt, "role", String)...))...))},
	{Name: "project_rate_limits", Scope: Project, Description: "per-model rate limits of each project",
		Record: fields("object", String, "id", String, "model", String, "max_requests_per_1_minute", BigInt,
			"max_tokens_per_1_minute", BigInt, "max_images_per_1_minute", BigInt, "max_audio_megabytes_per_1_minute", Double,
			"max_requests_per_1_day", BigInt, "batch_1_day_max_input_tokens", BigInt)},
	{Name: "project_model_permissions", Scope: Project, Description: "each project's model allow or deny list",
		Record: fields("object", String, "mode", String, "model_ids", Array(String))},
	{Name: "project_data_retention", Scope: Project, Description: "each project's data retention", Record: retention},
	{Name: "project_spend_alerts", Scope: Project, Description: "each project's spend alerts", Record: spendAlert},
}

// ByName returns the table called name.
func ByName(name string) (Table, bool) {
	for _, t := range All {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}
