package repositories

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// rowLookup reads one row of a model by one column with a statement built
// once, and scans it into the model field by field. GORM still runs the
// statement (its context, connection pool, logger, callbacks and any host
// plugin); skipping its clause building and reflective scanning on every
// call is what brings the lookups on every request's path (a user by email
// or id, a session by token) within reach of raw database/sql. The column
// list and the fields come from GORM's parsed schema of the model, so a
// column added to the model is read too.
//
// The statement is written straight into GORM's statement builder, with
// the dialect writing the placeholder (AddVar): Raw would scan the whole
// statement for placeholders on every call, which BenchmarkLookupPaths
// (BENCHMARKS.md) measures at about a third of the lookup's cost on SQLite.
type rowLookup struct {
	selectFrom string  // "SELECT a, b, ... FROM table WHERE "
	fields     [][]int // struct field index of each column, in order
}

// newRowLookup parses model (a pointer to a struct) with db's naming
// strategy.
func newRowLookup(db *gorm.DB, model any) rowLookup {
	s, err := schema.Parse(model, &sync.Map{}, db.NamingStrategy)
	if err != nil {
		panic(fmt.Sprintf("repositories: parse %T: %v", model, err)) // a bug in the model's tags
	}
	l := rowLookup{fields: make([][]int, 0, len(s.DBNames))}
	for _, name := range s.DBNames {
		l.fields = append(l.fields, s.FieldsByDBName[name].StructField.Index)
	}
	l.selectFrom = "SELECT " + strings.Join(s.DBNames, ", ") + " FROM " + s.Table + " WHERE "
	return l
}

// take reads the row whose column equals arg into dest, a pointer to the
// parsed model. No row is gorm.ErrRecordNotFound, as Take reports it.
func (l rowLookup) take(ctx context.Context, db *gorm.DB, column string, arg any, dest any) error {
	tx := db.WithContext(ctx).Raw("")
	tx.Statement.SQL.WriteString(l.selectFrom)
	tx.Statement.SQL.WriteString(column)
	tx.Statement.SQL.WriteString(" = ")
	tx.Statement.AddVar(&tx.Statement.SQL, arg)
	row := tx.Row()
	if row == nil {
		if tx.Error != nil {
			return tx.Error
		}
		return gorm.ErrInvalidDB
	}
	v := reflect.ValueOf(dest).Elem()
	targets := make([]any, len(l.fields))
	for i, idx := range l.fields {
		targets[i] = v.FieldByIndex(idx).Addr().Interface()
	}
	if err := row.Scan(targets...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return gorm.ErrRecordNotFound
		}
		return err
	}
	return nil
}
