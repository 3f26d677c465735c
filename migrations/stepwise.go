package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"

	"github.com/golang-migrate/migrate/v4/database"
)

// stepwise is a golang-migrate driver that runs a migration file one
// statement at a time, in one transaction, so that a failure names the
// statement that failed and its line: the drivers send a file as one
// statement, and their errors point at its first line.
//
// A migration with a Go step (goSteps) runs it in the same transaction,
// before its statements. golang-migrate records the version a migration
// leads to (SetVersion, dirty) before it runs the migration: that and the
// Migrator's direction tell which migration runs.
type stepwise struct {
	database.Driver
	db      *sql.DB // where the statements run
	mg      *Migrator
	version int // the version the running migration leads to; -1 for none
}

// SetVersion records the version the next migration leads to and passes it
// on.
func (s *stepwise) SetVersion(version int, dirty bool) error {
	s.version = version
	return s.Driver.SetVersion(version, dirty)
}

// goStep returns the Go step of the migration under way, or nil.
func (s *stepwise) goStep() goStep {
	if !s.mg.down {
		return goSteps[uint(max(s.version, 0))].up
	}
	// Rolling back leads to the version below the one rolled back.
	vs, _ := Versions(s.mg.dialect)
	for _, v := range vs {
		if int(v.Version) > s.version {
			return goSteps[v.Version].down
		}
	}
	return nil
}

// Run runs the Go step and the statements of migration in one transaction:
// all of them or none.
func (s *stepwise) Run(migration io.Reader) error {
	data, err := io.ReadAll(migration)
	if err != nil {
		return fmt.Errorf("read migration: %w", err)
	}
	tx, err := s.db.Begin()
	if err != nil {
		return database.Error{OrigErr: err, Err: "migration failed to begin"}
	}
	if step := s.goStep(); step != nil {
		if err := step(context.Background(), tx, s.mg.dialect, s.mg.settings.tables); err != nil {
			_ = tx.Rollback()
			return database.Error{OrigErr: err, Err: "migration failed"}
		}
	}
	for _, st := range splitStatements(string(data)) {
		if _, err := tx.Exec(st.sql); err != nil {
			_ = tx.Rollback()
			return database.Error{OrigErr: err, Err: "migration failed", Query: []byte(st.sql), Line: st.line}
		}
	}
	if err := tx.Commit(); err != nil {
		return database.Error{OrigErr: err, Err: "migration failed to commit"}
	}
	return nil
}

// statement is one statement of a migration file and the line it starts on.
type statement struct {
	sql  string
	line uint
}

// splitStatements splits sql at every semicolon outside comments and
// string literals. A statement's line is that of its first character
// that is neither blank nor in a comment; statements that hold nothing
// else are left out.
func splitStatements(sql string) []statement {
	var out []statement
	line, start := uint(1), uint(0)
	var b strings.Builder
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\n':
			line++
			b.WriteByte(c)
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			i += j - 1 // the newline is counted on the next turn
		case c == '\'':
			if start == 0 {
				start = line
			}
			j := i + 1
			for j < len(sql) && (sql[j] != '\'' || j+1 < len(sql) && sql[j+1] == '\'') {
				if sql[j] == '\'' {
					j++ // a doubled quote
				} else if sql[j] == '\n' {
					line++
				}
				j++
			}
			b.WriteString(sql[i:min(j+1, len(sql))])
			i = j
		case c == ';':
			if text := strings.TrimSpace(b.String()); text != "" {
				out = append(out, statement{sql: text + ";", line: start})
			}
			b.Reset()
			start = 0
		default:
			if start == 0 && c != ' ' && c != '\t' && c != '\r' {
				start = line
			}
			b.WriteByte(c)
		}
	}
	if text := strings.TrimSpace(b.String()); text != "" {
		out = append(out, statement{sql: text, line: start})
	}
	return out
}
