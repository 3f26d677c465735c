package migrations

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"testing/fstest"

	"github.com/forgeauth/authstore/config"
	"gorm.io/gorm/schema"
)

// objects are the original names of authstore's tables and views, longest
// first, so that an index name is matched to the longest table name it
// starts with (idx_user_activity_log_... is user_activity_log's, not
// users').
var objects = func() []string {
	names := []string{
		"users", "sessions", "password_resets", "email_verifications", "user_activity_log",
		"oauth_clients", "oauth_access_tokens", "oauth_refresh_tokens", "oauth_authorization_codes",
		"oauth_personal_access_tokens", "expired_auth_records", "oauth_expired_tokens", "signing_keys",
		"oauth_auth_requests",
		"recovery_codes", "two_factor_used_steps", "two_factor_challenges",
	}
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	return names
}()

// Objects returns the original names of authstore's tables and views.
func Objects() []string {
	out := append([]string(nil), objects...)
	sort.Strings(out)
	return out
}

// Render returns the statements of an embedded migration file (or of
// Views) for tables named as t says: every table and view name takes the
// prefix and the schema, and every index and foreign key name
// (idx_TABLE_COLUMN, fk_TABLE_RELATION) takes them as GORM's naming
// strategy gives them, so that AutoMigrate and the rendered files build
// the same schema. Comments and string literals are left as they are. The
// zero Tables returns sql unchanged.
func Render(sql string, t config.Tables) string {
	if t == (config.Tables{}) {
		return sql
	}
	return mapIdentifiers(sql, func(id string) string {
		for _, base := range objects {
			switch {
			case id == base:
				return t.Name(base)
			case strings.HasPrefix(id, "idx_"+base+"_"):
				return schema.NamingStrategy{}.IndexName(t.Name(base), id[len("idx_"+base+"_"):])
			case strings.HasPrefix(id, "fk_"+base+"_"):
				return fkName(t.Name(base), id[len("fk_"+base+"_"):])
			}
		}
		return id
	})
}

// fkName is GORM's name for the foreign key of a relation of table.
func fkName(table, relation string) string {
	return schema.NamingStrategy{}.RelationshipFKName(schema.Relationship{Name: relation, Schema: &schema.Schema{Table: table}})
}

// unrender maps a name found in a database whose tables are named by t
// back to its original name (see Render); other names are returned as
// they are.
func unrender(name string, t config.Tables) string {
	if t == (config.Tables{}) {
		return name
	}
	name = strings.TrimPrefix(name, t.Schema+".")
	for _, base := range objects {
		switch {
		case name == t.Prefix+base:
			return base
		case strings.HasPrefix(name, "idx_"+flat(t.Name(base))+"_"):
			return "idx_" + base + "_" + name[len("idx_"+flat(t.Name(base))+"_"):]
		case strings.HasPrefix(name, "fk_"+flat(t.Name(base))+"_"):
			return "fk_" + base + "_" + name[len("fk_"+flat(t.Name(base))+"_"):]
		}
	}
	return name
}

// unrenderSQL maps every identifier of a statement read back from the
// database (a view's definition) to its original name, dropping the
// schema that qualifies a table.
func unrenderSQL(sql string, t config.Tables) string {
	if t == (config.Tables{}) {
		return sql
	}
	if t.Schema != "" {
		sql = strings.ReplaceAll(sql, t.Schema+".", "")
	}
	return mapIdentifiers(sql, func(id string) string { return unrender(id, t) })
}

// flat is a qualified name as it appears inside an index name.
func flat(name string) string { return strings.ReplaceAll(name, ".", "_") }

// mapIdentifiers returns sql with every identifier that does not follow a
// dot (a column of a table alias) replaced by fn's result. Comments and
// string literals are copied as they are.
func mapIdentifiers(sql string, fn func(string) string) string {
	var b strings.Builder
	b.Grow(len(sql) + len(sql)/8)
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			b.WriteString(sql[i : i+j])
			i += j
		case c == '\'':
			j := i + 1
			for j < len(sql) {
				if sql[j] == '\'' {
					if j+1 < len(sql) && sql[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(sql))
			b.WriteString(sql[i:j])
			i = j
		case identStart(c):
			j := i + 1
			for j < len(sql) && (identStart(sql[j]) || sql[j] >= '0' && sql[j] <= '9') {
				j++
			}
			id := sql[i:j]
			if i > 0 && sql[i-1] == '.' {
				b.WriteString(id)
			} else {
				b.WriteString(fn(id))
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func identStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// RenderedFS returns the migration files of dialect d rendered for t (see
// Render). On PostgreSQL with a schema, the first up migration begins by
// creating the schema if it does not exist; rolling back leaves it.
func RenderedFS(d config.Dialect, t config.Tables) (fs.FS, error) {
	src, err := FS(d)
	if err != nil {
		return nil, err
	}
	if d != config.DialectPostgres && t.Schema != "" {
		return nil, fmt.Errorf("migrations: a schema (%q) is PostgreSQL's; %s has none of its own", t.Schema, d)
	}
	vs, err := Versions(d)
	if err != nil {
		return nil, err
	}
	out := fstest.MapFS{}
	entries, err := fs.ReadDir(src, ".")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		data, err := fs.ReadFile(src, e.Name())
		if err != nil {
			return nil, err
		}
		sql := Render(string(data), t)
		if t.Schema != "" && len(vs) > 0 && e.Name() == vs[0].upFile() {
			sql = fmt.Sprintf("CREATE SCHEMA IF NOT EXISTS %s;\n\n%s", t.Schema, sql)
		}
		out[e.Name()] = &fstest.MapFile{Data: []byte(sql), Mode: 0o444}
	}
	return out, nil
}
