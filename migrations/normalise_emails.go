package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/models"
)

// ErrEmailCollision is returned by Up, before it changes anything, when
// migration 000004_normalise_emails would give two users the same
// normalised address (models.NormalizeEmail: "ＡＤＡ@example.com" and
// "ada@example.com", registered as two accounts before it). The error names
// both users' ids. Give one of them another address or delete it, with the
// binary and schema the database has now (authstore user update ID --email
// ADDRESS, authstore user delete ID, or SQL), then run Up again.
var ErrEmailCollision = errors.New("migrations: two users' addresses are the same once normalised")

// emailsVersion is the migration whose Go step normalises emails.
const emailsVersion = 4

// goStep is Go work a migration does in its transaction, before its SQL
// statements: what SQL cannot do the same way on every dialect.
type goStep func(ctx context.Context, tx *sql.Tx, d config.Dialect, t config.Tables) error

// goSteps are the Go steps by version, up and down.
var goSteps = map[uint]struct{ up, down goStep }{
	emailsVersion: {
		up: func(ctx context.Context, tx *sql.Tx, d config.Dialect, t config.Tables) error {
			return emailsStep(ctx, tx, d, t, models.NormalizeEmail)
		},
		down: func(ctx context.Context, tx *sql.Tx, d config.Dialect, t config.Tables) error {
			return emailsStep(ctx, tx, d, t, lowerEmail)
		},
	},
}

// lowerEmail is the normalised form before 000004: trimmed and lower-cased.
func lowerEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// emailChange is one user whose email_normalized the step rewrites.
type emailChange struct {
	id, from, to string
}

// planEmails returns the users whose email_normalized differs from form
// of their email, among those whose address is not printable ASCII (for
// the others every form is the trimmed lower-cased address), and an error
// wrapping ErrEmailCollision when two users would have the same form.
func planEmails(ctx context.Context, q querier, d config.Dialect, t config.Tables, form func(string) string) ([]emailChange, error) {
	users := t.Name("users")
	nonASCII := `email GLOB '*[^ -~]*'`
	switch d {
	case config.DialectPostgres:
		nonASCII = `email !~ '^[ -~]*$'`
	case config.DialectMySQL:
		nonASCII = `email NOT REGEXP '^[ -~]*$'`
	}
	rows, err := q.QueryContext(ctx, "SELECT id, email, email_normalized FROM "+users+" WHERE "+nonASCII+" ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("migrations: read addresses: %s", oneLine(err))
	}
	type row struct{ id, email, normalized string }
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.email, &r.normalized); err != nil {
			rows.Close()
			return nil, fmt.Errorf("migrations: read addresses: %s", oneLine(err))
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migrations: read addresses: %s", oneLine(err))
	}
	rewritten := make(map[string]bool, len(all)) // ids whose form this step sets
	for _, r := range all {
		rewritten[r.id] = true
	}
	owner := make(map[string]string, len(all)) // form -> id, among them
	var out []emailChange
	for _, r := range all {
		to := form(r.email)
		if other, ok := owner[to]; ok {
			return nil, collision(other, r.id)
		}
		owner[to] = r.id
		// A user outside the rewritten ones keeps its form: is it to?
		var other string
		err := q.QueryRowContext(ctx, "SELECT id FROM "+users+" WHERE email_normalized = "+placeholder(d, 1)+" AND NOT ("+nonASCII+")", to).Scan(&other)
		switch {
		case err == nil && !rewritten[other]:
			return nil, collision(other, r.id)
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return nil, fmt.Errorf("migrations: read addresses: %s", oneLine(err))
		}
		if to != r.normalized {
			out = append(out, emailChange{id: r.id, from: r.normalized, to: to})
		}
	}
	return out, nil
}

// collision is ErrEmailCollision naming two users, the one kept first.
func collision(first, second string) error {
	return fmt.Errorf("%w (NFKC, case folded): users %s and %s; give one of them another address or delete it (authstore user update ID --email ADDRESS, authstore user delete ID, or SQL) with the schema the database has now, then migrate up again (baseline again, after a refused baseline)", ErrEmailCollision, first, second)
}

// emailsStep is 000004's Go step: renormalise, then the temporary table
// that tells the migration's SQL check the rows were normalised.
func emailsStep(ctx context.Context, tx *sql.Tx, d config.Dialect, t config.Tables, form func(string) string) error {
	if err := renormalise(ctx, tx, d, t, form); err != nil {
		return err
	}
	marker := "CREATE TEMP TABLE IF NOT EXISTS authstore_emails_normalised (done integer)"
	if d == config.DialectMySQL {
		// The marker is a session variable: MySQL's catalogue does not
		// list temporary tables, so the SQL could not look for one.
		marker = "SET @authstore_emails_normalised = 1"
	}
	if _, err := tx.ExecContext(ctx, marker); err != nil {
		return fmt.Errorf("migrations: %s", oneLine(err))
	}
	return nil
}

// renormalise rewrites email_normalized as form says for every user whose
// address is not printable ASCII. It writes in two passes (each row first
// to a placeholder no address can equal: one without an @) so that two
// rows exchanging forms never meet on the unique index.
func renormalise(ctx context.Context, tx *sql.Tx, d config.Dialect, t config.Tables, form func(string) string) error {
	changes, err := planEmails(ctx, tx, d, t, form)
	if err != nil {
		return err
	}
	update := "UPDATE " + t.Name("users") + " SET email_normalized = " + placeholder(d, 1) + " WHERE id = " + placeholder(d, 2)
	for _, pass := range []func(emailChange) string{
		func(c emailChange) string { return "renormalising " + c.id },
		func(c emailChange) string { return c.to },
	} {
		for _, c := range changes {
			if _, err := tx.ExecContext(ctx, update, pass(c), c.id); err != nil {
				return fmt.Errorf("migrations: normalise the address of user %s: %s", c.id, oneLine(err))
			}
		}
	}
	return nil
}

// normaliseEmails is Baseline's share of 000004: renormalise in a
// transaction of its own.
func (mg *Migrator) normaliseEmails(ctx context.Context) error {
	tx, err := mg.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrations: %s", oneLine(err))
	}
	defer tx.Rollback()
	if err := renormalise(ctx, tx, mg.dialect, mg.settings.tables, models.NormalizeEmail); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrations: %s", oneLine(err))
	}
	return nil
}

// placeholder is the n-th bind parameter of d.
func placeholder(d config.Dialect, n int) string {
	if d == config.DialectPostgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// checkEmails refuses, before Up changes anything, an upgrade across
// 000004 that would give two users the same normalised address, so the
// database is not left dirty by a failing migration. A dirty database is
// left to Up, which refuses it.
func (mg *Migrator) checkEmails(ctx context.Context, st Status) error {
	if !st.Recorded || st.Dirty || st.Version == 0 || st.Version >= emailsVersion || st.Latest() < emailsVersion {
		return nil
	}
	_, err := planEmails(ctx, mg.db, mg.dialect, mg.settings.tables, models.NormalizeEmail)
	return err
}
