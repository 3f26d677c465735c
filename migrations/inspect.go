package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/forgeauth/authstore/config"
	"gorm.io/gorm"
)

// Schema is what a database's tables and views inspect to, for comparing
// two databases of one dialect (a live one against one the migrations
// built). Types are compared by family, so that spellings of one type
// (timestamptz and timestamp with time zone, datetime and timestamp)
// compare equal; column order is not compared.
type Schema struct {
	// Tables maps a table's name to its shape.
	Tables map[string]Table
	// Views maps a view's name to its definition, whitespace collapsed:
	// the statement as written on SQLite, PostgreSQL's pg_get_viewdef on
	// PostgreSQL, and on MySQL information_schema's VIEW_DEFINITION
	// without the database name it qualifies every table with.
	Views map[string]string
}

// Table is a table's columns, primary key, indexes and foreign keys.
type Table struct {
	// Columns are sorted by name.
	Columns []Column
	// PrimaryKey is the primary key's columns in key order, empty for a
	// table without one.
	PrimaryKey []string
	// Indexes are the indexes other than the primary key's, sorted by
	// name. A SQLite UNIQUE constraint is an index named
	// sqlite_autoindex_TABLE_N.
	Indexes []Index
	// ForeignKeys are sorted by their columns.
	ForeignKeys []ForeignKey
}

// Column is one column of a table.
type Column struct {
	Name string
	// Type is the type's family: "integer", "text", "time", "bool",
	// "uuid", or the declared type in lower case for any other. On MySQL
	// "time" is DATETIME(6) alone (fewer digits lose the microseconds),
	// "uuid" is CHAR(36), and a text type is given with its length and
	// collation ("varchar(255) utf8mb4_bin"): an index needs the one, and
	// comparing digests byte for byte the other.
	Type string
	// NotNull is true for a NOT NULL or primary key column.
	NotNull bool
}

// Index is one index of a table.
type Index struct {
	Name   string
	Unique bool
	// Columns are the indexed columns (or expressions) in key order.
	Columns []string
}

// ForeignKey is one foreign key constraint of a table.
type ForeignKey struct {
	// Name is the constraint's name on PostgreSQL and MySQL, empty on
	// SQLite, which does not report it.
	Name string
	// Columns are the referencing columns, in key order.
	Columns []string
	// RefTable is the referenced table, qualified by its schema on
	// PostgreSQL when that is not the inspected one.
	RefTable string
	// RefColumns are the referenced columns, in key order (empty on SQLite
	// for a reference to the primary key that names no column).
	RefColumns []string
	// OnDelete and OnUpdate are the actions in lower case: "no action",
	// "restrict", "cascade", "set null" or "set default".
	OnDelete string
	OnUpdate string
}

// InspectOptions says which tables and views Inspect reads.
type InspectOptions struct {
	// Schema is the PostgreSQL schema to inspect; "" is the connection's
	// CURRENT_SCHEMA(). It must be "" on SQLite.
	Schema string
	// Include reports whether a table or view is inspected, by name; nil
	// inspects every one. Inspect always leaves out golang-migrate's
	// version tables, whatever their name (a table whose only columns are
	// version and dirty), and SQLite's internal sqlite_* tables.
	Include func(name string) bool
}

// Inspect reads the tables and views of the database db is connected to:
// their columns, indexes other than primary keys, foreign keys and view
// definitions. The dialect is db's (PostgreSQL, SQLite or MySQL, where it
// reads the connection's database); Inspect returns
// ErrDialect for any other. It only reads.
func Inspect(ctx context.Context, db *gorm.DB, opts InspectOptions) (Schema, error) {
	db = db.WithContext(ctx)
	keep := func(name string) bool { return opts.Include == nil || opts.Include(name) }
	var (
		s   Schema
		err error
	)
	switch d := config.Dialect(db.Dialector.Name()); d {
	case config.DialectPostgres:
		s, err = inspectPostgres(db, opts.Schema, keep)
	case config.DialectSQLite:
		if opts.Schema != "" {
			return Schema{}, fmt.Errorf("migrations: inspect: a schema (%q) is for PostgreSQL; SQLite has none", opts.Schema)
		}
		s, err = inspectSQLite(db, keep)
	case config.DialectMySQL:
		if opts.Schema != "" {
			return Schema{}, fmt.Errorf("migrations: inspect: a schema (%q) is for PostgreSQL; MySQL's is the connection's database", opts.Schema)
		}
		s, err = inspectMySQL(db, keep)
	default:
		return Schema{}, fmt.Errorf("%w: %q", ErrDialect, d)
	}
	if err != nil {
		return Schema{}, fmt.Errorf("migrations: inspect: %w", err)
	}
	return s, nil
}

func inspectSQLite(db *gorm.DB, keep func(string) bool) (Schema, error) {
	s := Schema{Tables: map[string]Table{}, Views: map[string]string{}}
	var objs []struct{ Type, Name, SQL string }
	err := db.Raw(`SELECT type, name, COALESCE(sql, '') AS sql FROM sqlite_master
		WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&objs).Error
	if err != nil {
		return Schema{}, fmt.Errorf("list tables: %w", err)
	}
	for _, o := range objs {
		if !keep(o.Name) {
			continue
		}
		if o.Type == "view" {
			s.Views[o.Name] = normaliseSQL(o.SQL)
			continue
		}
		tb, err := inspectSQLiteTable(db, o.Name)
		if err != nil {
			return Schema{}, fmt.Errorf("table %s: %w", o.Name, err)
		}
		if !isVersionTable(tb) {
			s.Tables[o.Name] = tb
		}
	}
	return s, nil
}

func inspectSQLiteTable(db *gorm.DB, name string) (Table, error) {
	var tb Table
	var cols []struct {
		Name    string
		Type    string
		NotNull bool
		PK      int // the column's position in the primary key, from 1; 0 when not in it
	}
	if err := db.Raw(`SELECT name, type, "notnull" AS not_null, pk AS pk FROM pragma_table_info(?)`, name).Scan(&cols).Error; err != nil {
		return Table{}, fmt.Errorf("columns: %w", err)
	}
	pk := map[int]string{}
	for _, c := range cols {
		tb.Columns = append(tb.Columns, Column{Name: c.Name, Type: typeFamily(config.DialectSQLite, c.Type), NotNull: c.NotNull || c.PK > 0})
		if c.PK > 0 {
			pk[c.PK] = c.Name
		}
	}
	for pos := 1; pos <= len(pk); pos++ {
		tb.PrimaryKey = append(tb.PrimaryKey, pk[pos])
	}
	var idx []struct {
		Name   string
		Unique bool
		Origin string
	}
	if err := db.Raw(`SELECT name, "unique" AS "unique", origin FROM pragma_index_list(?)`, name).Scan(&idx).Error; err != nil {
		return Table{}, fmt.Errorf("indexes: %w", err)
	}
	for _, ix := range idx {
		if ix.Origin == "pk" {
			continue
		}
		var icols []string
		if err := db.Raw(`SELECT COALESCE(name, '(expression)') FROM pragma_index_info(?) ORDER BY seqno`, ix.Name).Scan(&icols).Error; err != nil {
			return Table{}, fmt.Errorf("index %s: %w", ix.Name, err)
		}
		tb.Indexes = append(tb.Indexes, Index{Name: ix.Name, Unique: ix.Unique, Columns: icols})
	}
	var fks []struct {
		ID       int
		Table    string
		From     string
		To       string
		OnUpdate string
		OnDelete string
	}
	if err := db.Raw(`SELECT id, "table" AS "table", "from" AS "from", COALESCE("to", '') AS "to", on_update, on_delete
		FROM pragma_foreign_key_list(?) ORDER BY id, seq`, name).Scan(&fks).Error; err != nil {
		return Table{}, fmt.Errorf("foreign keys: %w", err)
	}
	for i, fk := range fks {
		if i == 0 || fk.ID != fks[i-1].ID {
			tb.ForeignKeys = append(tb.ForeignKeys, ForeignKey{
				RefTable: fk.Table, OnDelete: strings.ToLower(fk.OnDelete), OnUpdate: strings.ToLower(fk.OnUpdate),
			})
		}
		last := &tb.ForeignKeys[len(tb.ForeignKeys)-1]
		last.Columns = append(last.Columns, fk.From)
		if fk.To != "" {
			last.RefColumns = append(last.RefColumns, fk.To)
		}
	}
	sortTable(&tb)
	return tb, nil
}

func inspectPostgres(db *gorm.DB, schema string, keep func(string) bool) (Schema, error) {
	if schema == "" {
		var cur sql.NullString
		if err := db.Raw(`SELECT CURRENT_SCHEMA()`).Scan(&cur).Error; err != nil {
			return Schema{}, fmt.Errorf("current schema: %w", err)
		}
		if !cur.Valid {
			return Schema{}, fmt.Errorf("no current schema: no schema of the search_path exists")
		}
		schema = cur.String
	}
	var n int64
	if err := db.Raw(`SELECT count(*) FROM pg_namespace WHERE nspname = ?`, schema).Scan(&n).Error; err != nil {
		return Schema{}, fmt.Errorf("schema %s: %w", schema, err)
	}
	if n == 0 {
		return Schema{}, fmt.Errorf("schema %s does not exist", schema)
	}
	s := Schema{Tables: map[string]Table{}, Views: map[string]string{}}
	var rels []struct {
		RelID   int64
		Name    string
		Kind    string
		ViewDef string
	}
	err := db.Raw(`SELECT c.oid::bigint AS rel_id, c.relname AS name, c.relkind::text AS kind,
			CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) ELSE '' END AS view_def
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = ? AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition`, schema).Scan(&rels).Error
	if err != nil {
		return Schema{}, fmt.Errorf("list tables: %w", err)
	}
	for _, r := range rels {
		if !keep(r.Name) {
			continue
		}
		if r.Kind == "v" {
			s.Views[r.Name] = normaliseSQL(r.ViewDef)
			continue
		}
		tb, err := inspectPostgresTable(db, schema, r.RelID)
		if err != nil {
			return Schema{}, fmt.Errorf("table %s: %w", r.Name, err)
		}
		if !isVersionTable(tb) {
			s.Tables[r.Name] = tb
		}
	}
	return s, nil
}

func inspectMySQL(db *gorm.DB, keep func(string) bool) (Schema, error) {
	var database sql.NullString
	if err := db.Raw(`SELECT DATABASE()`).Scan(&database).Error; err != nil {
		return Schema{}, fmt.Errorf("current database: %w", err)
	}
	if !database.Valid {
		return Schema{}, fmt.Errorf("no current database: the connection selected none")
	}
	s := Schema{Tables: map[string]Table{}, Views: map[string]string{}}
	var rels []struct {
		Name string
		Kind string
	}
	if err := db.Raw(`SELECT table_name AS name, table_type AS kind FROM information_schema.tables
		WHERE table_schema = DATABASE() AND table_type IN ('BASE TABLE', 'VIEW')`).Scan(&rels).Error; err != nil {
		return Schema{}, fmt.Errorf("list tables: %w", err)
	}
	for _, r := range rels {
		if !keep(r.Name) {
			continue
		}
		if r.Kind == "VIEW" {
			var def string
			if err := db.Raw(`SELECT view_definition FROM information_schema.views
				WHERE table_schema = DATABASE() AND table_name = ?`, r.Name).Scan(&def).Error; err != nil {
				return Schema{}, fmt.Errorf("view %s: %w", r.Name, err)
			}
			s.Views[r.Name] = normaliseSQL(strings.ReplaceAll(def, "`"+database.String+"`.", ""))
			continue
		}
		tb, err := inspectMySQLTable(db, r.Name)
		if err != nil {
			return Schema{}, fmt.Errorf("table %s: %w", r.Name, err)
		}
		if !isVersionTable(tb) {
			s.Tables[r.Name] = tb
		}
	}
	return s, nil
}

func inspectMySQLTable(db *gorm.DB, name string) (Table, error) {
	var tb Table
	var cols []struct {
		Name      string
		Type      string
		Nullable  string
		Collation sql.NullString
	}
	if err := db.Raw(`SELECT column_name AS name, column_type AS type, is_nullable AS nullable, collation_name AS collation
		FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?`, name).Scan(&cols).Error; err != nil {
		return Table{}, fmt.Errorf("columns: %w", err)
	}
	for _, c := range cols {
		typ := mysqlTypeFamily(c.Type)
		if c.Collation.Valid && typ != "uuid" {
			typ += " " + c.Collation.String
		}
		tb.Columns = append(tb.Columns, Column{Name: c.Name, Type: typ, NotNull: c.Nullable == "NO"})
	}
	var keys []struct {
		Name      string
		NonUnique bool
		Col       string
		SubPart   sql.NullInt64
	}
	if err := db.Raw(`SELECT index_name AS name, non_unique, column_name AS col, sub_part
		FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ?
		ORDER BY index_name, seq_in_index`, name).Scan(&keys).Error; err != nil {
		return Table{}, fmt.Errorf("indexes: %w", err)
	}
	for _, k := range keys {
		col := k.Col
		if k.SubPart.Valid {
			col = fmt.Sprintf("%s(%d)", col, k.SubPart.Int64) // a key on the column's first characters
		}
		if k.Name == "PRIMARY" {
			tb.PrimaryKey = append(tb.PrimaryKey, col)
			continue
		}
		if n := len(tb.Indexes); n == 0 || tb.Indexes[n-1].Name != k.Name {
			tb.Indexes = append(tb.Indexes, Index{Name: k.Name, Unique: !k.NonUnique})
		}
		last := &tb.Indexes[len(tb.Indexes)-1]
		last.Columns = append(last.Columns, col)
	}
	var fks []struct {
		Name      string
		RefSchema string
		RefTable  string
		OnDelete  string
		OnUpdate  string
		Col       string
		RefColumn string
	}
	if err := db.Raw(`SELECT k.constraint_name AS name, k.referenced_table_schema AS ref_schema, k.referenced_table_name AS ref_table,
			r.delete_rule AS on_delete, r.update_rule AS on_update, k.column_name AS col, k.referenced_column_name AS ref_column
		FROM information_schema.key_column_usage k
		JOIN information_schema.referential_constraints r
			ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name AND r.table_name = k.table_name
		WHERE k.table_schema = DATABASE() AND k.table_name = ? AND k.referenced_table_name IS NOT NULL
		ORDER BY k.constraint_name, k.ordinal_position`, name).Scan(&fks).Error; err != nil {
		return Table{}, fmt.Errorf("foreign keys: %w", err)
	}
	var database string
	if err := db.Raw(`SELECT DATABASE()`).Scan(&database).Error; err != nil {
		return Table{}, fmt.Errorf("current database: %w", err)
	}
	for i, fk := range fks {
		if i == 0 || fk.Name != fks[i-1].Name {
			ref := fk.RefTable
			if fk.RefSchema != database {
				ref = fk.RefSchema + "." + ref
			}
			tb.ForeignKeys = append(tb.ForeignKeys, ForeignKey{
				Name: fk.Name, RefTable: ref, OnDelete: strings.ToLower(fk.OnDelete), OnUpdate: strings.ToLower(fk.OnUpdate),
			})
		}
		last := &tb.ForeignKeys[len(tb.ForeignKeys)-1]
		last.Columns = append(last.Columns, fk.Col)
		last.RefColumns = append(last.RefColumns, fk.RefColumn)
	}
	sortTable(&tb)
	return tb, nil
}

// mysqlTypeFamily maps a MySQL COLUMN_TYPE to its family: integers of any
// display width, TINYINT(1) as bool (MySQL's BOOLEAN), DATETIME(6) as
// time, CHAR(36) as uuid; any other type is kept as MySQL spells it.
func mysqlTypeFamily(typ string) string {
	t := strings.ToLower(strings.TrimSpace(typ))
	switch {
	case t == "tinyint(1)":
		return "bool"
	case mysqlIntType.MatchString(t):
		return "integer"
	case t == "datetime(6)":
		return "time"
	case t == "char(36)":
		return "uuid"
	}
	return t
}

// mysqlIntType matches MySQL's integer types with or without a display
// width, signed or not.
var mysqlIntType = regexp.MustCompile(`^(tiny|small|medium|big)?int(\(\d+\))?( unsigned)?$`)

// isVersionTable reports whether tb is a golang-migrate version table:
// (version, dirty) and nothing else, whatever its name.
func isVersionTable(tb Table) bool {
	return len(tb.Columns) == 2 && tb.Columns[0].Name == "dirty" && tb.Columns[1].Name == "version" && len(tb.ForeignKeys) == 0
}

// pgActions maps pg_constraint's confdeltype and confupdtype codes to the
// actions' names.
var pgActions = map[string]string{"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}

func inspectPostgresTable(db *gorm.DB, schema string, oid int64) (Table, error) {
	var tb Table
	var cols []struct {
		Name    string
		Type    string
		NotNull bool
	}
	if err := db.Raw(`SELECT attname AS name, format_type(atttypid, atttypmod) AS type, attnotnull AS not_null
		FROM pg_attribute WHERE attrelid = ? AND attnum > 0 AND NOT attisdropped`, oid).Scan(&cols).Error; err != nil {
		return Table{}, fmt.Errorf("columns: %w", err)
	}
	for _, c := range cols {
		tb.Columns = append(tb.Columns, Column{Name: c.Name, Type: typeFamily(config.DialectPostgres, c.Type), NotNull: c.NotNull})
	}
	var keys []struct {
		Name    string
		Unique  bool
		Primary bool
		Key     string
	}
	if err := db.Raw(`SELECT i.relname AS name, x.indisunique AS "unique", x.indisprimary AS "primary",
			pg_get_indexdef(x.indexrelid, k.n, true) AS key
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
		CROSS JOIN LATERAL generate_series(1, x.indnkeyatts::int) AS k(n)
		WHERE x.indrelid = ?
		ORDER BY i.relname, k.n`, oid).Scan(&keys).Error; err != nil {
		return Table{}, fmt.Errorf("indexes: %w", err)
	}
	for _, k := range keys {
		if k.Primary {
			tb.PrimaryKey = append(tb.PrimaryKey, k.Key)
			continue
		}
		if n := len(tb.Indexes); n == 0 || tb.Indexes[n-1].Name != k.Name {
			tb.Indexes = append(tb.Indexes, Index{Name: k.Name, Unique: k.Unique})
		}
		last := &tb.Indexes[len(tb.Indexes)-1]
		last.Columns = append(last.Columns, k.Key)
	}
	var fks []struct {
		Name      string
		RefTable  string
		OnDelete  string
		OnUpdate  string
		Column    string
		RefColumn string
	}
	if err := db.Raw(`SELECT con.conname AS name,
			CASE WHEN rn.nspname = ? THEN rc.relname ELSE rn.nspname || '.' || rc.relname END AS ref_table,
			con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update,
			a.attname AS "column", ra.attname AS ref_column
		FROM pg_constraint con
		JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
		CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, refattnum, n)
		JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
		JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.refattnum
		WHERE con.contype = 'f' AND con.conrelid = ?
		ORDER BY con.conname, k.n`, schema, oid).Scan(&fks).Error; err != nil {
		return Table{}, fmt.Errorf("foreign keys: %w", err)
	}
	for i, fk := range fks {
		if i == 0 || fk.Name != fks[i-1].Name {
			tb.ForeignKeys = append(tb.ForeignKeys, ForeignKey{
				Name: fk.Name, RefTable: fk.RefTable, OnDelete: pgActions[fk.OnDelete], OnUpdate: pgActions[fk.OnUpdate],
			})
		}
		last := &tb.ForeignKeys[len(tb.ForeignKeys)-1]
		last.Columns = append(last.Columns, fk.Column)
		last.RefColumns = append(last.RefColumns, fk.RefColumn)
	}
	sortTable(&tb)
	return tb, nil
}

// sortTable puts a table's lists in the order Table documents.
func sortTable(tb *Table) {
	slices.SortFunc(tb.Columns, func(a, b Column) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(tb.Indexes, func(a, b Index) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(tb.ForeignKeys, func(a, b ForeignKey) int {
		for _, c := range []int{
			slices.Compare(a.Columns, b.Columns), strings.Compare(a.RefTable, b.RefTable),
			slices.Compare(a.RefColumns, b.RefColumns), strings.Compare(a.Name, b.Name),
		} {
			if c != 0 {
				return c
			}
		}
		return 0
	})
}

// intType matches the spellings of an integer type: SQLite's and
// PostgreSQL's, serials included, and not interval or point.
var intType = regexp.MustCompile(`^((tiny|small|medium|big|unsigned big) ?int(eger)?|int[248]?|integer|(small|big)?serial)( unsigned)?$`)

// typeFamily maps a declared column type to its family, so that spellings
// of one type compare equal.
func typeFamily(d config.Dialect, typ string) string {
	t := strings.ToLower(strings.TrimSpace(typ))
	switch {
	case strings.HasPrefix(t, "timestamp"), t == "datetime":
		return "time"
	case intType.MatchString(t):
		return "integer"
	case t == "boolean", t == "bool", d == config.DialectSQLite && t == "numeric": // GORM declares a SQLite bool numeric
		return "bool"
	case t == "uuid":
		return "uuid"
	case t == "text", strings.Contains(t, "char"):
		return "text"
	}
	return t
}

var space = regexp.MustCompile(`\s+`)

// normaliseSQL collapses every run of white space to one space.
func normaliseSQL(s string) string {
	return strings.TrimSpace(space.ReplaceAllString(s, " "))
}

// Diff compares s, a live database's schema, with want, normally the one
// the migrations build, and returns nil when they are the same. Otherwise
// it returns an error naming the first difference, tables before views
// and each in name order, e.g. "migrations: table users: column lockouts
// is missing" or "migrations: view oauth_expired_tokens differs".
func (s Schema) Diff(want Schema) error {
	for _, name := range unionKeys(s.Tables, want.Tables) {
		got, inGot := s.Tables[name]
		w, inWant := want.Tables[name]
		switch {
		case !inGot:
			return fmt.Errorf("migrations: table %s is missing", name)
		case !inWant:
			return fmt.Errorf("migrations: table %s is not in the migrations", name)
		}
		if d := got.diff(w); d != "" {
			return fmt.Errorf("migrations: table %s: %s", name, d)
		}
	}
	for _, name := range unionKeys(s.Views, want.Views) {
		got, inGot := s.Views[name]
		w, inWant := want.Views[name]
		switch {
		case !inGot:
			return fmt.Errorf("migrations: view %s is missing", name)
		case !inWant:
			return fmt.Errorf("migrations: view %s is not in the migrations", name)
		case got != w:
			return fmt.Errorf("migrations: view %s differs", name)
		}
	}
	return nil
}

// diff returns the first difference between t and want as a phrase, ""
// when there is none.
func (t Table) diff(want Table) string {
	if d := diffColumns(t.Columns, want.Columns); d != "" {
		return d
	}
	if !slices.Equal(t.PrimaryKey, want.PrimaryKey) {
		return fmt.Sprintf("primary key is (%s), want (%s)", strings.Join(t.PrimaryKey, ", "), strings.Join(want.PrimaryKey, ", "))
	}
	if d := diffIndexes(t.Indexes, want.Indexes); d != "" {
		return d
	}
	return diffForeignKeys(t.ForeignKeys, want.ForeignKeys)
}

func diffColumns(got, want []Column) string {
	g := keyed(got, func(c Column) string { return c.Name })
	w := keyed(want, func(c Column) string { return c.Name })
	for _, name := range unionKeys(g, w) {
		gc, inGot := g[name]
		wc, inWant := w[name]
		switch {
		case !inGot:
			return fmt.Sprintf("column %s is missing", name)
		case !inWant:
			return fmt.Sprintf("column %s is not in the migrations", name)
		case gc.Type != wc.Type:
			return fmt.Sprintf("column %s is %s, want %s", name, gc.Type, wc.Type)
		case gc.NotNull != wc.NotNull:
			return fmt.Sprintf("column %s is %s, want %s", name, nullability(gc.NotNull), nullability(wc.NotNull))
		}
	}
	return ""
}

func nullability(notNull bool) string {
	if notNull {
		return "not null"
	}
	return "nullable"
}

func diffIndexes(got, want []Index) string {
	g := keyed(got, func(ix Index) string { return ix.Name })
	w := keyed(want, func(ix Index) string { return ix.Name })
	for _, name := range unionKeys(g, w) {
		gi, inGot := g[name]
		wi, inWant := w[name]
		switch {
		case !inGot:
			return fmt.Sprintf("index %s is missing", name)
		case !inWant:
			return fmt.Sprintf("index %s is not in the migrations", name)
		case gi.Unique != wi.Unique:
			return fmt.Sprintf("index %s is %s, want %s", name, uniqueness(gi.Unique), uniqueness(wi.Unique))
		case !slices.Equal(gi.Columns, wi.Columns):
			return fmt.Sprintf("index %s is on (%s), want (%s)", name, strings.Join(gi.Columns, ", "), strings.Join(wi.Columns, ", "))
		}
	}
	return ""
}

func uniqueness(unique bool) string {
	if unique {
		return "unique"
	}
	return "not unique"
}

// diffForeignKeys pairs foreign keys by their columns (SQLite reports no
// constraint name), then compares the rest.
func diffForeignKeys(got, want []ForeignKey) string {
	g, w := keyedForeignKeys(got), keyedForeignKeys(want)
	for _, key := range unionKeys(g, w) {
		gf, inGot := g[key]
		wf, inWant := w[key]
		label := "foreign key (" + strings.Join(keyOf(gf, wf).Columns, ", ") + ")"
		switch {
		case !inGot:
			return fmt.Sprintf("%s references %s is missing", label, wf.ref())
		case !inWant:
			return fmt.Sprintf("%s references %s is not in the migrations", label, gf.ref())
		case gf.ref() != wf.ref():
			return fmt.Sprintf("%s references %s, want %s", label, gf.ref(), wf.ref())
		case gf.OnDelete != wf.OnDelete:
			return fmt.Sprintf("%s is on delete %s, want on delete %s", label, gf.OnDelete, wf.OnDelete)
		case gf.OnUpdate != wf.OnUpdate:
			return fmt.Sprintf("%s is on update %s, want on update %s", label, gf.OnUpdate, wf.OnUpdate)
		case gf.Name != wf.Name:
			return fmt.Sprintf("%s is named %q, want %q", label, gf.Name, wf.Name)
		}
	}
	return ""
}

// keyOf returns whichever of got and want is set.
func keyOf(got, want ForeignKey) ForeignKey {
	if got.Columns != nil {
		return got
	}
	return want
}

// ref returns what fk references, as table(columns).
func (fk ForeignKey) ref() string {
	return fk.RefTable + "(" + strings.Join(fk.RefColumns, ", ") + ")"
}

// keyedForeignKeys maps foreign keys by their columns, numbering a second
// key on the same columns.
func keyedForeignKeys(fks []ForeignKey) map[string]ForeignKey {
	out := make(map[string]ForeignKey, len(fks))
	for _, fk := range fks {
		base := strings.Join(fk.Columns, ",")
		key := base
		for n := 2; ; n++ {
			if _, dup := out[key]; !dup {
				break
			}
			key = fmt.Sprintf("%s#%d", base, n)
		}
		out[key] = fk
	}
	return out
}

func keyed[T any](xs []T, key func(T) string) map[string]T {
	out := make(map[string]T, len(xs))
	for _, x := range xs {
		out[key(x)] = x
	}
	return out
}

// unionKeys returns the keys of a and b, sorted.
func unionKeys[V any](a, b map[string]V) []string {
	seen := make(map[string]bool, len(a)+len(b))
	var out []string
	for _, m := range []map[string]V{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Rename returns a copy of s with the name of every table, view, index and
// foreign key constraint, and every table a foreign key references, passed
// through fn; in view definitions, every identifier that names one of s's
// tables or views (outside string literals) is passed through too. Column
// names are kept. fn must map distinct names to distinct names. It serves
// to compare a database whose objects carry a prefix (auth_users,
// idx_auth_users_created_at) with the migrations' base names.
func (s Schema) Rename(fn func(name string) string) Schema {
	known := make(map[string]bool, len(s.Tables)+len(s.Views))
	for name := range s.Tables {
		known[name] = true
	}
	for name := range s.Views {
		known[name] = true
	}
	var out Schema
	if s.Tables != nil {
		out.Tables = make(map[string]Table, len(s.Tables))
	}
	for name, tb := range s.Tables {
		nt := Table{Columns: slices.Clone(tb.Columns), PrimaryKey: slices.Clone(tb.PrimaryKey)}
		for _, ix := range tb.Indexes {
			ix.Name = fn(ix.Name)
			ix.Columns = slices.Clone(ix.Columns)
			nt.Indexes = append(nt.Indexes, ix)
		}
		for _, fk := range tb.ForeignKeys {
			if fk.Name != "" {
				fk.Name = fn(fk.Name)
			}
			fk.RefTable = fn(fk.RefTable)
			fk.Columns = slices.Clone(fk.Columns)
			fk.RefColumns = slices.Clone(fk.RefColumns)
			nt.ForeignKeys = append(nt.ForeignKeys, fk)
		}
		sortTable(&nt)
		out.Tables[fn(name)] = nt
	}
	if s.Views != nil {
		out.Views = make(map[string]string, len(s.Views))
	}
	for name, def := range s.Views {
		out.Views[fn(name)] = renameIdentifiers(def, known, fn)
	}
	return out
}

// renameIdentifiers passes every identifier of def that is in known, bare
// or double-quoted, through fn, leaving string literals alone.
func renameIdentifiers(def string, known map[string]bool, fn func(string) string) string {
	var b strings.Builder
	for i := 0; i < len(def); {
		switch c := def[i]; {
		case c == '\'': // a literal: copied to its closing quote ('' escapes restart one)
			j := strings.IndexByte(def[i+1:], '\'')
			if j < 0 {
				b.WriteString(def[i:])
				return b.String()
			}
			b.WriteString(def[i : i+j+2])
			i += j + 2
		case c == '"':
			j := strings.IndexByte(def[i+1:], '"')
			if j < 0 {
				b.WriteString(def[i:])
				return b.String()
			}
			name := def[i+1 : i+1+j]
			if known[name] {
				name = fn(name)
			}
			b.WriteString(`"` + name + `"`)
			i += j + 2
		case isIdentStart(c):
			j := i + 1
			for j < len(def) && (isIdentStart(def[j]) || def[j] >= '0' && def[j] <= '9' || def[j] == '$') {
				j++
			}
			name := def[i:j]
			if known[name] {
				name = fn(name)
			}
			b.WriteString(name)
			i = j
		case c >= '0' && c <= '9': // a number, with any letters after it (1e5)
			j := i + 1
			for j < len(def) && (isIdentStart(def[j]) || def[j] >= '0' && def[j] <= '9' || def[j] == '.') {
				j++
			}
			b.WriteString(def[i:j])
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
