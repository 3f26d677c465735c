package integration

// Issue 11, class 7: addresses that look the same. An address is compared
// in its normalised form (models.NormalizeEmail: NFKC, case folded), so a
// fullwidth, decomposed, mathematical, circled or upper-case spelling of a
// registered address is that account, and an address holding a character
// nobody sees (zero-width, soft hyphen, bidi control, byte order mark,
// Hangul filler) is refused, on every backend; migration 000004 normalises
// the rows written before it, or refuses, changing nothing, when two of
// them would become one.

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/migrations"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// sameAsAda are spellings of ada@example.com that must reach Ada's account.
var sameAsAda = map[string]string{
	"upper case":             "ADA@Example.COM",
	"fullwidth":              "ＡＤＡ@ｅｘａｍｐｌｅ.ｃｏｍ",
	"mathematical bold":      "𝐚𝐝𝐚@example.com",
	"mathematical script":    "𝒶𝒹𝒶@example.com",
	"circled":                "ⓐⓓⓐ@example.com",
	"spaces around":          "  ada@example.com\t",
	"fullwidth and case mix": "Ａda@EXAMPLE.com",
}

// lookAlikesRefused are addresses that look like ada@example.com (or like
// nothing) and must be refused wherever an address enters.
var lookAlikesRefused = map[string]string{
	"zero-width space":       "ada\u200b@example.com",
	"zero-width joiner":      "a\u200dda@example.com",
	"soft hyphen":            "a\u00adda@example.com",
	"right-to-left override": "ada\u202e@example.com",
	"byte order mark":        "\ufeffada@example.com",
	"word joiner":            "ada@exa\u2060mple.com",
	"hangul filler":          "ada\u3164@example.com",
	"variation selector":     "ada\ufe0f@example.com",
	"no-break space inside":  "ada\u00a0x@example.com",
	"control character":      "ada\x07@example.com",
	"private use":            "ada\ue000@example.com",
}

func TestHardeningEmails(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := context.Background()
		ada := f.register(t, "ada@example.com", userPassword)
		require.Equal(t, "ada@example.com", ada.EmailNormalized)
		users := func() int64 {
			var n int64
			require.NoError(t, f.s.DB().Model(&models.User{}).Count(&n).Error)
			return n
		}
		before := users()

		for name, email := range sameAsAda {
			t.Run("same/"+name, func(t *testing.T) {
				require.Equal(t, "ada@example.com", models.NormalizeEmail(email))
				_, err := f.s.Users.Create(ctx, repositories.UserInput{Name: "Eve", Email: email, Password: userPassword, PasswordConfirmation: userPassword})
				requireRefused(t, fmt.Sprintf("Create(%q)", email), err, repositories.ErrDuplicate)

				got, err := f.s.Users.FindByEmail(ctx, email)
				require.NoError(t, err, "FindByEmail(%q)", email)
				require.Equal(t, ada.ID, got.ID, "FindByEmail(%q) found another user", email)

				got, err = f.s.Users.Authenticate(ctx, email, userPassword)
				require.NoError(t, err, "Authenticate(%q)", email)
				require.Equal(t, ada.ID, got.ID)

				var to string
				require.NoError(t, f.s.PasswordResets.Request(ctx, email, func(_ context.Context, addr, _ string) error { to = addr; return nil }))
				require.Equal(t, "ada@example.com", to, "Request(%q) delivered to another address", email)

				res, err := f.s.Users.Import(ctx, []repositories.ImportUser{{Name: "Eve", Email: email, PasswordHash: userHash()}}, repositories.ImportOptions{})
				require.NoError(t, err, "Import(%q)", email)
				require.Equal(t, 0, res.Created, "Import(%q) created a second account: %+v", email, res)
				require.Equal(t, repositories.ImportSkipped, res.Rows[0].Outcome)
				require.Equal(t, ada.ID, res.Rows[0].ID, "Import(%q) matched another user", email)
			})
		}

		for name, email := range lookAlikesRefused {
			t.Run("refused/"+name, func(t *testing.T) {
				_, err := f.s.Users.Create(ctx, repositories.UserInput{Name: "Eve", Email: email, Password: userPassword, PasswordConfirmation: userPassword})
				requireRefused(t, fmt.Sprintf("Create(%q)", email), err, repositories.ErrInvalidInput)
				require.Contains(t, err.Error(), "email")

				_, err = f.s.Users.FindByEmail(ctx, email)
				requireRefused(t, fmt.Sprintf("FindByEmail(%q)", email), err, repositories.ErrInvalidInput)

				_, err = f.s.Users.Authenticate(ctx, email, userPassword)
				requireRefused(t, fmt.Sprintf("Authenticate(%q)", email), err, repositories.ErrInvalidCredentials)

				err = f.s.PasswordResets.Request(ctx, email, func(context.Context, string, string) error {
					t.Errorf("Request(%q) delivered", email)
					return nil
				})
				requireRefused(t, fmt.Sprintf("Request(%q)", email), err, repositories.ErrInvalidInput)

				_, err = f.s.Users.UpdateProfile(ctx, ada.ID, repositories.ProfileInput{Email: &email})
				requireRefused(t, fmt.Sprintf("UpdateProfile(%q)", email), err, repositories.ErrInvalidInput)

				_, err = f.s.Users.Import(ctx, []repositories.ImportUser{{Name: "Eve", Email: email, PasswordHash: userHash()}}, repositories.ImportOptions{})
				requireRefused(t, fmt.Sprintf("Import(%q)", email), err, repositories.ErrInvalidInput)
			})
		}
		require.Equal(t, before, users(), "a look-alike address registered a second account")

		t.Run("NFD and NFC", func(t *testing.T) {
			nfc := "zo\u00eb@example.com"       // ë as one code point
			nfd := "ZO\u0065\u0308@example.com" // e + combining diaeresis, upper case
			zoe := f.register(t, nfd, userPassword)
			require.Equal(t, nfd, zoe.Email, "the address as typed is kept for display")
			require.Equal(t, nfc, zoe.EmailNormalized)
			_, err := f.s.Users.Create(ctx, repositories.UserInput{Name: "Eve", Email: nfc, Password: userPassword, PasswordConfirmation: userPassword})
			requireRefused(t, "Create(NFC)", err, repositories.ErrDuplicate)
			got, err := f.s.Users.FindByEmail(ctx, nfc)
			require.NoError(t, err)
			require.Equal(t, zoe.ID, got.ID)

			// A verification sent to the address as typed verifies it.
			_, token, err := f.s.EmailVerifications.Issue(ctx, zoe.ID)
			require.NoError(t, err)
			_, err = f.s.EmailVerifications.Consume(ctx, token)
			require.NoError(t, err, "a verification sent to a non-ASCII address")
		})

		t.Run("update to a look-alike of another account", func(t *testing.T) {
			bob := f.register(t, "bob@example.com", userPassword)
			taken := "ⒶⒹⒶ@ＥＸＡＭＰＬＥ.com"
			_, err := f.s.Users.UpdateProfile(ctx, bob.ID, repositories.ProfileInput{Email: &taken})
			requireRefused(t, "UpdateProfile(circled ada)", err, repositories.ErrDuplicate)
			own := "ＢＯＢ@example.com"
			u, err := f.s.Users.UpdateProfile(ctx, bob.ID, repositories.ProfileInput{Email: &own})
			require.NoError(t, err, "a new spelling of one's own address")
			require.Equal(t, own, u.Email)
			require.Equal(t, "bob@example.com", u.EmailNormalized)
		})

		t.Run("the normalised form is an address", func(t *testing.T) {
			for _, email := range []string{"\u2024ada@example.com", "ada\u2024\u2024b@example.com", "ada＠example.com"} {
				_, err := f.s.Users.Create(ctx, repositories.UserInput{Name: "Eve", Email: email, Password: userPassword, PasswordConfirmation: userPassword})
				requireRefused(t, fmt.Sprintf("Create(%q)", email), err, repositories.ErrInvalidInput)
			}
			long := strings.Repeat("\u337f", 70) + "@example.com" // 222 bytes; NFKC makes each ㍿ 株式会社, 12 bytes
			_, err := f.s.Users.Create(ctx, repositories.UserInput{Name: "Eve", Email: long, Password: userPassword, PasswordConfirmation: userPassword})
			requireRefused(t, "Create(long once normalised)", err, repositories.ErrInvalidInput)
			require.Contains(t, err.Error(), "once normalised")
		})
	})
}

// atVersion3 opens a fresh database of b migrated to version 3, the one
// before 000004, and its Migrator.
func atVersion3(t *testing.T, b Backend) (*authstore.Store, *migrations.Migrator) {
	t.Helper()
	s := openEmpty(t, b)
	m := migrator(t, s)
	require.NoError(t, m.Up(context.Background()))
	require.NoError(t, m.Down(context.Background(), int(migrations.Latest())-3))
	return s, m
}

// TestNormaliseEmailsMigration: migration 000004 normalises the rows that
// version 3 wrote (their email_normalized trimmed and lower-cased), so that
// the fullwidth, decomposed and circled spellings stored before it are found
// by their normalised form; down writes the earlier form back; and a
// database where two rows would become one is refused before anything
// changes, naming both users, with the version left at 3 and clean.
func TestNormaliseEmailsMigration(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, b Backend) {
		// Version 3, with rows as the binary before 000004 wrote them.
		s, m := atVersion3(t, b)
		old := []string{
			"ＡＤＡ@example.com",       // fullwidth
			"ZOE\u0308@example.com", // NFD
			"ⓑⓞⓑ@example.com",       // circled
			"plain@example.com",     // ASCII: the same in both forms
		}
		insertOld := func(t *testing.T, email string) models.UUID {
			u := newUserRow(email)
			u.EmailNormalized = strings.ToLower(strings.TrimSpace(email)) // version 3's form
			require.NoError(t, s.DB().Session(&gorm.Session{SkipHooks: true}).Create(u).Error)
			return u.ID
		}
		ids := map[string]models.UUID{}
		for _, email := range old {
			ids[email] = insertOld(t, email)
		}

		// Two rows that would become one: refused, nothing changed.
		clash := insertOld(t, "bob@example.com")
		require.NoError(t, m.Close())
		m = migrator(t, s)
		err := m.Up(ctx)
		require.ErrorIs(t, err, migrations.ErrEmailCollision)
		require.Contains(t, err.Error(), string(clash))
		require.Contains(t, err.Error(), string(ids["ⓑⓞⓑ@example.com"]))
		require.Contains(t, err.Error(), "migrate up again")
		st, err := m.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, uint(3), st.Version, "a refused 000004 moved the version")
		require.False(t, st.Dirty, "a refused 000004 left the database dirty")
		var stored string
		require.NoError(t, s.DB().Raw("SELECT email_normalized FROM users WHERE id = ?", ids["ＡＤＡ@example.com"]).Scan(&stored).Error)
		require.Equal(t, "ａｄａ@example.com", stored, "a refused 000004 changed a row")

		// Resolved as the error says: up normalises every row.
		require.NoError(t, s.DB().Exec("DELETE FROM users WHERE id = ?", clash).Error)
		require.NoError(t, m.Up(ctx))
		st, err = m.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, migrations.Latest(), st.Version)
		for email, id := range ids {
			for _, lookup := range []string{email, models.NormalizeEmail(email)} {
				u, err := s.Users.FindByEmail(ctx, lookup)
				require.NoError(t, err, "FindByEmail(%q) after 000004", lookup)
				require.Equal(t, id, u.ID)
				require.Equal(t, email, u.Email, "000004 changed the address as typed")
			}
		}
		_, err = s.Users.Create(ctx, repositories.UserInput{Name: "Eve", Email: "ada@example.com", Password: userPassword, PasswordConfirmation: userPassword})
		require.ErrorIs(t, err, repositories.ErrDuplicate, "the row written before 000004 still lets a look-alike register")

		// Down to 3 writes version 3's form back.
		require.NoError(t, m.Down(ctx, int(migrations.Latest())-3))
		require.NoError(t, s.DB().Raw("SELECT email_normalized FROM users WHERE id = ?", ids["ＡＤＡ@example.com"]).Scan(&stored).Error)
		require.Equal(t, "ａｄａ@example.com", stored)

		// Applied by hand (the SQL alone), 000004 refuses while such rows
		// exist, naming how to apply it.
		script, err := migrations.Script(b.Dialect, migrations.ScriptOptions{After: 3})
		require.NoError(t, err)
		err = execScript(t, s.DB(), script)
		require.Error(t, err, "000004 by hand over non-ASCII rows")
		require.Contains(t, err.Error(), "apply_000004_with_authstore_migrate")
		st, err = m.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, uint(3), st.Version)
		require.NoError(t, m.Up(ctx))
	})
}

// TestNormaliseEmailsByHandOnASCII: on a database whose addresses are all
// printable ASCII, the SQL of 000004 applies by hand (as `authstore migrate
// sql` prints it) and changes no row.
func TestNormaliseEmailsByHandOnASCII(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, b Backend) {
		s, m := atVersion3(t, b)
		u := newUserRow("Ada@Example.com")
		require.NoError(t, s.DB().Create(u).Error)
		script, err := migrations.Script(b.Dialect, migrations.ScriptOptions{After: 3})
		require.NoError(t, err)
		require.NoError(t, execScript(t, s.DB(), script))
		st, err := m.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, migrations.Latest(), st.Version)
		var stored string
		require.NoError(t, s.DB().Raw("SELECT email_normalized FROM users WHERE id = ?", u.ID).Scan(&stored).Error)
		require.Equal(t, "ada@example.com", stored)
	})
}

// TestNormaliseEmailsBaseline: a database built by AutoMigrate with rows an
// earlier binary wrote gets them normalised by Baseline, as Up's 000004
// would; two that would become one are refused, recording nothing.
func TestNormaliseEmailsBaseline(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, b Backend) {
		s := openEmpty(t, b, authstore.WithAutoMigrate())
		insertOld := func(email string) models.UUID {
			u := newUserRow(email)
			u.EmailNormalized = strings.ToLower(email) // before 000004
			require.NoError(t, s.DB().Session(&gorm.Session{SkipHooks: true}).Create(u).Error)
			return u.ID
		}
		ada := insertOld("ＡＤＡ@example.com")
		clash := insertOld("ada@example.com")
		m := migrator(t, s)
		err := m.Baseline(ctx)
		require.ErrorIs(t, err, migrations.ErrEmailCollision)
		require.Contains(t, err.Error(), string(ada))
		require.Contains(t, err.Error(), string(clash))
		st, err := m.Status(ctx)
		require.NoError(t, err)
		require.False(t, st.Recorded, "a refused baseline recorded a version")

		require.NoError(t, s.DB().Exec("DELETE FROM users WHERE id = ?", clash).Error)
		require.NoError(t, m.Baseline(ctx))
		u, err := s.Users.FindByEmail(ctx, "ada@example.com")
		require.NoError(t, err, "baseline left the row in the earlier form")
		require.Equal(t, ada, u.ID)
		require.NoError(t, s.CheckSchema(ctx))
	})
}
