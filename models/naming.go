package models

import (
	"github.com/forgeauth/authstore/config"
	"gorm.io/gorm/schema"
)

// Namer returns the GORM naming strategy of a database whose authstore
// tables are named by t: GORM's default strategy, under which every model
// of this package takes t's name for its table, so that its indexes and
// foreign keys (idx_TABLE_COLUMN, fk_TABLE_RELATION) carry t's prefix and
// schema too. A Store's DB has it; a host that runs AutoMigrate itself on
// a handle of its own gets the original names.
func Namer(t config.Tables) schema.Namer { return namer{tables: t} }

// namer is GORM's default naming strategy carrying the Tables the models
// take their names from.
type namer struct {
	schema.NamingStrategy
	tables config.Tables
}

// tableName is every model's TableName: base under a namer made by Namer,
// the original name under any other.
func tableName(n schema.Namer, base string) string {
	if x, ok := n.(namer); ok {
		return x.tables.Name(base)
	}
	return base
}

// BaseTable returns the original name of a model's table ("users" for
// *User), whatever prefix or schema a database gives it.
func BaseTable(model schema.TablerWithNamer) string {
	return model.TableName(schema.NamingStrategy{})
}

// TablesOf returns the Tables of a naming strategy made by Namer, and
// false for any other.
func TablesOf(n schema.Namer) (config.Tables, bool) {
	x, ok := n.(namer)
	return x.tables, ok
}
