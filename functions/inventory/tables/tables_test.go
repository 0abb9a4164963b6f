package tables

import "testing"

func TestTypesRenderForGlueAndDuckDB(t *testing.T) {
	tests := []struct {
		typ        Type
		hive, duck string
	}{
		{String, "string", "VARCHAR"},
		{Array(BigInt), "array<bigint>", "BIGINT[]"},
		{Struct(Field{"id", String}, Field{"tags", Array(String)}), "struct<id:string,tags:array<string>>", `STRUCT("id" VARCHAR, "tags" VARCHAR[])`},
		{Array(Struct(Field{"ok", Bool}, Field{"mb", Double})), "array<struct<ok:boolean,mb:double>>", `STRUCT("ok" BOOLEAN, "mb" DOUBLE)[]`},
	}
	for _, tt := range tests {
		if got := tt.typ.Hive(); got != tt.hive {
			t.Errorf("Hive() = %s, want %s", got, tt.hive)
		}
		if got := tt.typ.DuckDB(); got != tt.duck {
			t.Errorf("DuckDB() = %s, want %s", got, tt.duck)
		}
	}
}

func TestEveryTableIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, tbl := range All {
		if seen[tbl.Name] || tbl.Name == "" || len(tbl.Record) == 0 || (tbl.Scope != Organization && tbl.Scope != Project) {
			t.Errorf("table %+v: duplicate, unnamed, without columns or without scope", tbl.Name)
		}
		seen[tbl.Name] = true
		cols := tbl.Columns()
		if tbl.Scope == Project && (cols[0].Name != "project_id" || cols[1].Name != "record") {
			t.Errorf("%s: a project table's columns are project_id and record, got %v", tbl.Name, cols)
		}
		for _, c := range cols {
			for _, p := range PartitionColumns {
				if c.Name == p {
					t.Errorf("%s: column %s is also a partition column", tbl.Name, c.Name)
				}
			}
		}
	}
}
