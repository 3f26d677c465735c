package repositories

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

func TestTranslate(t *testing.T) {
	require.NoError(t, Translate("op", nil))
	driver := errors.New("driver said no")
	for _, c := range []struct {
		in   error
		want error
	}{
		{gorm.ErrRecordNotFound, ErrNotFound},
		{gorm.ErrDuplicatedKey, ErrDuplicate},
		{gorm.ErrForeignKeyViolated, ErrMissingReferent},
		{context.Canceled, context.Canceled},
		{context.DeadlineExceeded, context.DeadlineExceeded},
		{driver, driver},
	} {
		err := Translate("find thing", c.in)
		require.ErrorIs(t, err, c.want, "Translate(%v) = %v; want %v", c.in, err, c.want)
		require.True(t, strings.HasPrefix(err.Error(), "find thing: "), "Translate(%v) = %q; want it prefixed with the operation", c.in, err)
	}
	require.False(t, errors.Is(Translate("op", gorm.ErrRecordNotFound), gorm.ErrRecordNotFound), "callers must not see gorm.ErrRecordNotFound")
}

// TestTranslateDriverKinds: driver errors are classified by code, and the
// result shows the code, never the driver's message.
func TestTranslateDriverKinds(t *testing.T) {
	for _, c := range []struct {
		in   error
		want []error
	}{
		{&pgconn.PgError{Code: "40P01", Message: "secret-ish detail"}, []error{ErrConcurrentChange}},
		{&pgconn.PgError{Code: "55P03", Message: "secret-ish detail"}, []error{ErrTimeout}},
		{&pgconn.PgError{Code: "57014", Message: "secret-ish detail"}, []error{ErrTimeout}},
		{&pgconn.PgError{Code: "57P01", Message: "secret-ish detail"}, []error{ErrConnectionLost}},
		{sqlite3.Error{Code: sqlite3.ErrBusy, ExtendedCode: sqlite3.ErrNoExtended(sqlite3.ErrBusy)}, []error{ErrTimeout}},
		{fmt.Errorf("pgconn: %w", context.DeadlineExceeded), []error{ErrTimeout, context.DeadlineExceeded}},
	} {
		err := Translate("op", c.in)
		for _, w := range c.want {
			require.ErrorIs(t, err, w, "Translate(%v) = %v; want %v", c.in, err, w)
		}
		require.NotContains(t, err.Error(), "secret-ish", "Translate(%v) = %q shows the driver's message", c.in, err)
		require.NotContains(t, err.Error(), "database is locked", "Translate(%v) = %q shows the driver's message", c.in, err)
	}
	require.Contains(t, Translate("op", &pgconn.PgError{Code: "55P03"}).Error(), "55P03")
}

func TestErrCodeReplayedMatchesErrUsed(t *testing.T) {
	require.ErrorIs(t, fmt.Errorf("x: %w", ErrCodeReplayed), ErrUsed)
}

func TestErrInvalidWrapsBoth(t *testing.T) {
	plain := errors.New("redirect uri has a fragment")
	err := invalid(plain)
	require.ErrorIs(t, err, ErrInvalidInput)
	require.ErrorIs(t, err, plain)
	require.Equal(t, "redirect uri has a fragment: invalid input", err.Error())
	require.NoError(t, invalid(nil))
}
