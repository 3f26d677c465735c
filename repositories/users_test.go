package repositories

import (
	"strings"
	"testing"

	"github.com/forgeauth/authstore/hooks"
	"github.com/stretchr/testify/require"
)

func TestValidateProfile(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for _, c := range []struct{ name, email, wantName, wantEmail string }{
			{"Ada", "ada@example.com", "Ada", "ada@example.com"},
			{"  Ada Lovelace\t", "  Ada@Example.COM ", "Ada Lovelace", "Ada@Example.COM"},
			{strings.Repeat("é", MaxNameLength), "a.b+tag@sub.example.org", strings.Repeat("é", MaxNameLength), "a.b+tag@sub.example.org"},
		} {
			name, email, err := validateProfile(c.name, c.email)
			require.NoError(t, err, "validateProfile(%q, %q) = %v; want nil", c.name, c.email, err)
			require.Equal(t, c.wantName, name)
			require.Equal(t, c.wantEmail, email)
		}
	})

	t.Run("ErrInvalidInput", func(t *testing.T) {
		for _, c := range []struct{ name, email string }{
			{"", "ada@example.com"},
			{" \t", "ada@example.com"},
			{strings.Repeat("x", MaxNameLength+1), "ada@example.com"},
			{"Ada\r\nBcc: eve@example.com", "ada@example.com"},
			{"Ada\x00", "ada@example.com"},
			{"Ada", ""},
			{"Ada", "ada"},
			{"Ada", "ada@localhost"},
			{"Ada", "Ada <ada@example.com>"},
			{"Ada", "ada@example.com, eve@example.com"},
			{"Ada", strings.Repeat("a", MaxEmailLength-11) + "@example.com"},
		} {
			_, _, err := validateProfile(c.name, c.email)
			require.ErrorIs(t, err, ErrInvalidInput, "validateProfile(%.30q, %.30q) = %v; want ErrInvalidInput", c.name, c.email, err)
		}
	})
}

func TestValidatePassword(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for _, pw := range []string{"12345678", "pässwörd", strings.Repeat("x", hooks.MaxPasswordLength)} {
			require.NoError(t, validatePassword(pw, pw), "validatePassword(%d bytes)", len(pw))
		}
	})

	t.Run("ErrInvalidInput", func(t *testing.T) {
		long := strings.Repeat("x", hooks.MaxPasswordLength+1)
		for _, c := range []struct{ pw, confirm string }{
			{"", ""}, {"1234567", "1234567"}, {"pässwör", "pässwör"}, {long, long}, {"12345678", "12345679"}, {"12345678", ""},
		} {
			err := validatePassword(c.pw, c.confirm)
			require.ErrorIs(t, err, ErrInvalidInput, "validatePassword(%.20q, %.20q) = %v; want ErrInvalidInput", c.pw, c.confirm, err)
			if c.pw != "" {
				require.NotContains(t, err.Error(), c.pw, "the error holds the password")
			}
		}
	})
}
