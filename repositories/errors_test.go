package repositories

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

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
