// Package sqltest queries exported inventory partitions with a real SQL
// engine (DuckDB, through cgo) in its tests only: the columns and partition
// layout come from package tables, the one definition the stack's Glue
// tables use too. The package has no code of its own, so nothing that ships
// links DuckDB (internal/layering checks it).
package sqltest
