package migrations

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/forgeauth/authstore/config"
)

// ScriptOptions select what Script returns.
type ScriptOptions struct {
	// Tables names authstore's tables (see Render).
	Tables config.Tables
	// VersionTable is the version table's name before the prefix and
	// schema of Tables; "" is DefaultVersionTable.
	VersionTable string
	// Down returns the down migrations, newest first; rolling back the
	// first drops the version table too.
	Down bool
	// After leaves out the migrations at or below this version: the ones a
	// database at this version already has (with Down, the ones it keeps).
	After uint
}

// Script returns the statements of the embedded migrations of d, rendered
// for o.Tables, for applying by hand (`psql -v ON_ERROR_STOP=1 -1 -f`,
// `sqlite3 DB <`, `mysql DATABASE <`). Each migration is followed by the statements that
// record its version in the version table as a Migrator does, so Status
// and Up agree with a database migrated this way.
func Script(d config.Dialect, o ScriptOptions) (string, error) {
	src, err := RenderedFS(d, o.Tables)
	if err != nil {
		return "", err
	}
	vs, err := Versions(d)
	if err != nil {
		return "", err
	}
	st := newSettings([]Option{WithTables(o.Tables), WithVersionTable(o.VersionTable)})
	var b strings.Builder
	fmt.Fprintf(&b, "-- authstore migrations (%s), table prefix %q, schema %q, version table %s.\n", d, o.Tables.Prefix, o.Tables.Schema, st.qualifiedVersionTable())
	if o.Down {
		for i := len(vs) - 1; i >= 0; i-- {
			if vs[i].Version <= o.After {
				break
			}
			record := fmt.Sprintf("DROP TABLE IF EXISTS %s;\n", st.qualifiedVersionTable()) // nothing left: as Migrator.DownAll
			if i > 0 {
				record = recordVersion(d, st, vs[i-1].Version)
			}
			if err := appendFile(&b, src, vs[i].downFile(), record); err != nil {
				return "", err
			}
		}
		return b.String(), nil
	}
	for _, v := range vs {
		if v.Version <= o.After {
			continue
		}
		if err := appendFile(&b, src, v.upFile(), recordVersion(d, st, v.Version)); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

func appendFile(b *strings.Builder, src fs.FS, name, record string) error {
	data, err := fs.ReadFile(src, name)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	// The files' own "Runs as-is" lines are for the embedded originals, not
	// for this rendering.
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if !strings.HasPrefix(l, "-- Runs as-is") {
			lines = append(lines, l)
		}
	}
	fmt.Fprintf(b, "\n-- %s\n%s\n", name, strings.Join(lines, "\n"))
	b.WriteString(record)
	return nil
}

// recordVersion returns the statements that record v (0: none) as the
// applied version, clean, in the version table, as golang-migrate's
// drivers create and write it.
func recordVersion(d config.Dialect, s settings, v uint) string {
	t := s.qualifiedVersionTable()
	var b strings.Builder
	switch d {
	case config.DialectPostgres, config.DialectMySQL:
		fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);\n", t)
	default:
		fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (version uint64, dirty bool);\n", t)
		fmt.Fprintf(&b, "CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON %s (version);\n", t)
	}
	fmt.Fprintf(&b, "DELETE FROM %s;\n", t)
	if v > 0 {
		fmt.Fprintf(&b, "INSERT INTO %s (version, dirty) VALUES (%d, false);\n", t, v)
	}
	return b.String()
}
