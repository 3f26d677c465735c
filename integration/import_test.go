package integration

// Tests of Users.Import/Export and Clients.Import/Export
// (repositories/import.go): the round trip into a fresh store, logins with
// imported bcrypt and Argon2id hashes, idempotent re-runs, dry runs,
// refused rows, conflicts, and the time 10,000 users take.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/protocol"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// laravelHash returns a PHP-style ($2y$) bcrypt hash of password at cost 10,
// as Laravel stores it.
func laravelHash(t testing.TB, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), 10)
	require.NoError(t, err)
	return "$2y$" + string(h[4:])
}

// exportUsers collects Users.Export.
func exportUsers(t *testing.T, users *repositories.Users) []repositories.ImportUser {
	t.Helper()
	var out []repositories.ImportUser
	require.NoError(t, users.Export(context.Background(), func(u repositories.ImportUser) error {
		out = append(out, u)
		return nil
	}))
	return out
}

// exportClients collects Clients.Export.
func exportClients(t *testing.T, clients *repositories.Clients) []repositories.ImportClient {
	t.Helper()
	var out []repositories.ImportClient
	require.NoError(t, clients.Export(context.Background(), func(c repositories.ImportClient) error {
		out = append(out, c)
		return nil
	}))
	return out
}

func TestImportRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		src := newFixture(t, b)
		ctx := requestCtx()
		ada := src.register(t, "ada@example.com", userPassword)
		require.NoError(t, src.s.Users.MarkEmailVerified(ctx, ada.ID))
		grace := src.user(t, "grace@example.com")
		public := src.publicClient(t)
		web, secret := src.confidentialClient(t, &grace.ID)
		require.NoError(t, src.s.Clients.Revoke(ctx, public.ID))

		users := exportUsers(t, src.s.Users)
		clients := exportClients(t, src.s.Clients)
		require.Len(t, users, 2)
		require.Len(t, clients, 2)
		for _, c := range clients {
			if c.SecretHash != nil {
				require.True(t, hooks.IsArgon2id(*c.SecretHash), "Export gave a secret that is not the stored hash")
				require.NotEqual(t, secret, *c.SecretHash)
			}
		}

		dst := newFixture(t, b)
		res, err := dst.s.Users.Import(ctx, users, repositories.ImportOptions{})
		require.NoError(t, err)
		require.Equal(t, 2, res.Created, "Import(users) = %+v", res)
		cres, err := dst.s.Clients.Import(ctx, clients, repositories.ImportOptions{})
		require.NoError(t, err)
		require.Equal(t, 2, cres.Created, "Import(clients) = %+v", cres)

		t.Run("RowsEqual", func(t *testing.T) {
			for _, id := range []models.UUID{ada.ID, grace.ID} {
				want, err := src.s.Users.FindByID(ctx, id)
				require.NoError(t, err)
				got, err := dst.s.Users.FindByID(ctx, id)
				require.NoError(t, err)
				require.Equal(t, inUTC(*want), inUTC(*got), "imported user %s", id)
			}
			for _, id := range []models.UUID{public.ID, web.ID} {
				want, err := src.s.Clients.Find(ctx, id)
				require.NoError(t, err)
				got, err := dst.s.Clients.Find(ctx, id)
				require.NoError(t, err)
				want.CreatedAt, want.UpdatedAt = want.CreatedAt.UTC(), want.UpdatedAt.UTC()
				got.CreatedAt, got.UpdatedAt = got.CreatedAt.UTC(), got.UpdatedAt.UTC()
				require.Equal(t, *want, *got, "imported client %s", id)
			}
			require.Equal(t, exportUsers(t, src.s.Users), exportUsers(t, dst.s.Users))
			require.Equal(t, exportClients(t, src.s.Clients), exportClients(t, dst.s.Clients))
		})

		t.Run("Activity", func(t *testing.T) {
			require.EqualValues(t, 2, countRows(t, dst.s.DB(), "user_activity_log", "event = ?", string(models.EventUserImported)))
			require.EqualValues(t, 2, countRows(t, dst.s.DB(), "user_activity_log", "event = ?", string(models.EventClientImported)))
			events, err := dst.s.Activity.ListForUser(ctx, ada.ID, 10)
			require.NoError(t, err)
			require.Len(t, events, 1)
			require.Equal(t, string(models.EventUserImported), events[0].Event)
			require.Equal(t, requestIP, events[0].IPAddress)
		})

		t.Run("Login", func(t *testing.T) {
			u, err := dst.s.Users.Authenticate(ctx, "ADA@example.com", userPassword)
			require.NoError(t, err, "Authenticate(imported Argon2id user) = %v", err)
			require.Equal(t, ada.ID, u.ID)
			_, err = dst.s.Users.Authenticate(ctx, "grace@example.com", userPassword)
			require.NoError(t, err)
			_, err = dst.s.Clients.Authenticate(ctx, web.ID, secret)
			require.NoError(t, err, "Clients.Authenticate(imported client, its old secret) = %v", err)
		})

		t.Run("Idempotent", func(t *testing.T) {
			before := exportUsers(t, dst.s.Users)
			res, err := dst.s.Users.Import(ctx, users, repositories.ImportOptions{})
			require.NoError(t, err)
			require.Equal(t, 0, res.Created)
			require.Equal(t, 2, res.Unchanged, "second Import(users) = %+v", res)
			cres, err := dst.s.Clients.Import(ctx, clients, repositories.ImportOptions{})
			require.NoError(t, err)
			require.Equal(t, 2, cres.Unchanged, "second Import(clients) = %+v", cres)
			require.Equal(t, before, exportUsers(t, dst.s.Users))
			require.EqualValues(t, 2, countRows(t, dst.s.DB(), "user_activity_log", "event = ?", string(models.EventUserImported)))
		})
	})
}

func TestImportUsersLaravel(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		const password = "laravel secret 42"
		hash := laravelHash(t, password)
		verified := time.Date(2023, 4, 5, 6, 7, 8, 123456789, time.FixedZone("CEST", 2*3600))
		rows := []repositories.ImportUser{
			{Name: "Taylor", Email: "Taylor@Example.com", PasswordHash: hash, EmailVerifiedAt: &verified},
			{Name: "Jeffrey", Email: "jeffrey@example.com", PasswordHash: "$2b$" + hash[4:]},
		}

		t.Run("DryRun", func(t *testing.T) {
			res, err := f.s.Users.Import(ctx, rows, repositories.ImportOptions{DryRun: true})
			require.NoError(t, err)
			require.Equal(t, 2, res.Created, "dry run = %+v", res)
			n, err := f.s.Users.Count(ctx)
			require.NoError(t, err)
			require.Zero(t, n, "a dry run wrote users")
			require.Zero(t, countRows(t, f.s.DB(), "user_activity_log", ""))
		})

		var progress []int
		res, err := f.s.Users.Import(ctx, rows, repositories.ImportOptions{BatchSize: 1, Progress: func(done, total int) {
			require.Equal(t, 2, total)
			progress = append(progress, done)
		}})
		require.NoError(t, err)
		require.Equal(t, 2, res.Created)
		require.Equal(t, []int{1, 2}, progress)
		taylor, err := f.s.Users.FindByEmail(ctx, "taylor@example.com")
		require.NoError(t, err)
		require.Equal(t, res.Rows[0].ID, taylor.ID)
		require.True(t, verified.Truncate(time.Microsecond).Equal(*taylor.EmailVerifiedAt))

		t.Run("Rerun", func(t *testing.T) {
			res, err := f.s.Users.Import(ctx, rows, repositories.ImportOptions{})
			require.NoError(t, err)
			require.Equal(t, 2, res.Unchanged, "re-run matched by email = %+v", res)
			require.Equal(t, taylor.ID, res.Rows[0].ID)
		})

		t.Run("LoginUpgradesBcrypt", func(t *testing.T) {
			_, err := f.s.Users.Authenticate(ctx, "taylor@example.com", "wrong password")
			require.ErrorIs(t, err, repositories.ErrInvalidCredentials)
			u, err := f.s.Users.Authenticate(ctx, "taylor@example.com", password)
			require.NoError(t, err, "Authenticate(bcrypt $2y$ user) = %v", err)
			require.True(t, hooks.IsArgon2id(f.storedHash(t, u.ID)), "bcrypt hash not upgraded at login")
			_, err = f.s.Users.Authenticate(ctx, "taylor@example.com", password)
			require.NoError(t, err, "login after the upgrade")
			_, err = f.s.Users.Authenticate(ctx, "jeffrey@example.com", password)
			require.NoError(t, err, "Authenticate(bcrypt $2b$ user) = %v", err)
		})

		t.Run("ChangedSinceSkipped", func(t *testing.T) {
			// Taylor's hash was upgraded: the import row no longer matches,
			// and the stored row is left alone.
			res, err := f.s.Users.Import(ctx, rows[:1], repositories.ImportOptions{})
			require.NoError(t, err)
			require.Equal(t, 1, res.Skipped, "%+v", res)
			require.Contains(t, res.Rows[0].Reason, "password")
			require.True(t, hooks.IsArgon2id(f.storedHash(t, taylor.ID)))
		})
	})
}

func TestImportUsersConflicts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		ada := f.user(t, "ada@example.com")
		newID := models.NewUUID()
		rows := []repositories.ImportUser{
			{ID: ada.ID, Name: "Someone Else", Email: "ada@example.com", PasswordHash: userHash()}, // id taken, differs
			{ID: newID, Name: "Ada", Email: "ADA@example.com", PasswordHash: userHash()},           // email taken
			{Name: "Bob", Email: "bob@example.com", PasswordHash: userHash()},
			{Name: "Bob Again", Email: "BOB@example.com", PasswordHash: userHash()}, // same email earlier in the file
		}
		for _, dry := range []bool{true, false} {
			res, err := f.s.Users.Import(ctx, rows, repositories.ImportOptions{DryRun: dry})
			require.NoError(t, err)
			require.Equal(t, 1, res.Created, "dry %t: %+v", dry, res)
			require.Equal(t, 3, res.Skipped, "dry %t: %+v", dry, res)
			require.Contains(t, res.Rows[0].Reason, "id exists with another name")
			require.Contains(t, res.Rows[1].Reason, "email belongs to user "+string(ada.ID))
			require.Contains(t, res.Rows[3].Reason, "email exists with another name")
		}
		got, err := f.s.Users.FindByID(ctx, ada.ID)
		require.NoError(t, err)
		require.Equal(t, "Ada Lovelace", got.Name, "Import changed an existing user")
		_, err = f.s.Users.FindByID(ctx, newID)
		require.ErrorIs(t, err, repositories.ErrNotFound)
	})
}

func TestImportInvalidRows(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		good := repositories.ImportUser{Name: "Good", Email: "good@example.com", PasswordHash: userHash()}
		for name, bad := range map[string]repositories.ImportUser{
			"plaintext":      {Name: "P", Email: "p@example.com", PasswordHash: "correct horse battery staple"},
			"md5":            {Name: "M", Email: "m@example.com", PasswordHash: "5f4dcc3b5aa765d61d8327deb882cf99"},
			"empty":          {Name: "E", Email: "e@example.com"},
			"argon2i":        {Name: "A", Email: "a@example.com", PasswordHash: "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA"},
			"short bcrypt":   {Name: "B", Email: "b@example.com", PasswordHash: "$2y$10$abc"},
			"bcrypt cost 31": {Name: "C", Email: "c@example.com", PasswordHash: "$2y$31$" + laravelHash(t, "x")[7:]},
			"bad email":      {Name: "X", Email: "not an email", PasswordHash: userHash()},
			"bad id":         {ID: "1", Name: "X", Email: "x@example.com", PasswordHash: userHash()},
			"no name":        {Email: "x@example.com", PasswordHash: userHash()},
		} {
			t.Run(name, func(t *testing.T) {
				require.ErrorIs(t, bad.Validate(), repositories.ErrInvalidInput)
				_, err := f.s.Users.Import(ctx, []repositories.ImportUser{good, bad}, repositories.ImportOptions{})
				require.ErrorIs(t, err, repositories.ErrInvalidInput)
				require.Contains(t, err.Error(), "row 1")
				if bad.PasswordHash != "" {
					require.NotContains(t, err.Error(), bad.PasswordHash, "the error holds the hash")
				}
				n, err := f.s.Users.Count(ctx)
				require.NoError(t, err)
				require.Zero(t, n, "an invalid row let the import write")
			})
		}
		for name, bad := range map[string]repositories.ImportClient{
			"no id":             {Name: "C", GrantTypes: []string{protocol.GrantRefreshToken}},
			"public secret":     {ID: models.NewUUID(), Name: "C", GrantTypes: []string{protocol.GrantRefreshToken}, SecretHash: ptr(userHash())},
			"confidential none": {ID: models.NewUUID(), Name: "C", Confidential: true, GrantTypes: []string{protocol.GrantClientCredentials}},
			"plaintext secret":  {ID: models.NewUUID(), Name: "C", Confidential: true, GrantTypes: []string{protocol.GrantClientCredentials}, SecretHash: ptr("s3cret-s3cret-s3cret")},
			"no redirect":       {ID: models.NewUUID(), Name: "C", GrantTypes: []string{protocol.GrantAuthorizationCode}},
			"no grants":         {ID: models.NewUUID(), Name: "C"},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := f.s.Clients.Import(ctx, []repositories.ImportClient{bad}, repositories.ImportOptions{})
				require.ErrorIs(t, err, repositories.ErrInvalidInput)
				require.Contains(t, err.Error(), "row 0")
			})
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestImportClientsOwner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		ownerID := models.NewUUID()
		client := repositories.ImportClient{
			ID: models.NewUUID(), UserID: &ownerID, Name: "Owned", Confidential: true, SecretHash: ptr(userHash()),
			GrantTypes: []string{protocol.GrantClientCredentials}, CreatedAt: time.Now(),
		}
		res, err := f.s.Clients.Import(ctx, []repositories.ImportClient{client}, repositories.ImportOptions{})
		require.NoError(t, err)
		require.Equal(t, 1, res.Skipped, "%+v", res)
		require.Contains(t, res.Rows[0].Reason, "owner user "+string(ownerID)+" does not exist")

		users := []repositories.ImportUser{{ID: ownerID, Name: "Owner", Email: "owner@example.com", PasswordHash: userHash()}}
		ures, err := f.s.Users.Import(ctx, users, repositories.ImportOptions{DryRun: true})
		require.NoError(t, err)
		res, err = f.s.Clients.Import(ctx, []repositories.ImportClient{client}, repositories.ImportOptions{DryRun: true, PendingUsers: ures.CreatedIDs()})
		require.NoError(t, err)
		require.Equal(t, 1, res.Created, "dry run with the owner pending = %+v", res)

		_, err = f.s.Users.Import(ctx, users, repositories.ImportOptions{})
		require.NoError(t, err)
		res, err = f.s.Clients.Import(ctx, []repositories.ImportClient{client}, repositories.ImportOptions{})
		require.NoError(t, err)
		require.Equal(t, 1, res.Created, "%+v", res)
		got, err := f.s.Clients.Find(ctx, client.ID)
		require.NoError(t, err)
		require.Equal(t, ownerID, *got.UserID)
		// Deleting the owner deletes the client: the foreign key holds.
		require.NoError(t, f.s.Users.Delete(ctx, ownerID))
		_, err = f.s.Clients.Find(ctx, client.ID)
		require.ErrorIs(t, err, repositories.ErrNotFound)
	})
}

// TestImportTenThousandUsers is the "done when": 10,000 users
// import in seconds (no Argon2id work) and log in with their old
// passwords. The time is logged (go test -v -run TestImportTenThousandUsers).
func TestImportTenThousandUsers(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 10,000 users")
	}
	const n = 10000
	const password = "laravel secret 42"
	bcryptHash := laravelHash(t, password)
	argonHash := userHash()
	forEachFileBackend(t, func(t *testing.T, b Backend) {
		f := newFixture(t, b)
		ctx := requestCtx()
		rows := make([]repositories.ImportUser, n)
		for i := range rows {
			h := bcryptHash
			if i%2 == 1 {
				h = argonHash
			}
			rows[i] = repositories.ImportUser{Name: fmt.Sprintf("User %d", i), Email: fmt.Sprintf("user%05d@example.com", i), PasswordHash: h}
		}
		start := time.Now()
		res, err := f.s.Users.Import(ctx, rows, repositories.ImportOptions{})
		took := time.Since(start)
		require.NoError(t, err)
		require.Equal(t, n, res.Created)
		t.Logf("%s: imported %d users in %s", b.Name, n, took.Round(time.Millisecond))
		require.Less(t, took, 60*time.Second, "import of %d users took %s", n, took)

		start = time.Now()
		res, err = f.s.Users.Import(ctx, rows, repositories.ImportOptions{})
		require.NoError(t, err)
		require.Equal(t, n, res.Unchanged)
		t.Logf("%s: re-ran the import of %d users (all unchanged) in %s", b.Name, n, time.Since(start).Round(time.Millisecond))
		require.EqualValues(t, n, countRows(t, f.s.DB(), "user_activity_log", "event = ?", string(models.EventUserImported)))

		for _, email := range []string{"user00000@example.com", "user09999@example.com"} {
			_, err := f.s.Users.Authenticate(ctx, email, map[bool]string{true: password, false: userPassword}[email == "user00000@example.com"])
			require.NoError(t, err, "Authenticate(%s) = %v", email, err)
		}
	})
}

// TestImportClientProviderMetadata: what an OpenID provider reads of a
// client survives Export and Import, and a second import finds it
// unchanged.
func TestImportClientProviderMetadata(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b Backend) {
		src := newFixture(t, b)
		ctx := requestCtx()
		meta := repositories.ProviderMetadata{TokenEndpointAuthMethod: models.AuthMethodPost, AccessTokenType: models.AccessTokenOpaque,
			PostLogoutRedirectURIs: []string{"https://app.example.com/bye"}, Audiences: []string{"https://api.example.com"},
			IDTokenLifetime: 10 * time.Minute}
		c, _, err := src.s.Clients.Create(ctx, repositories.ClientInput{Name: "Web", Confidential: true,
			RedirectURIs: []string{redirectURI}, ProviderMetadata: meta})
		require.NoError(t, err)
		clients := exportClients(t, src.s.Clients)
		require.Len(t, clients, 1)
		require.Equal(t, meta, clients[0].ProviderMetadata, "exported metadata")

		dst := newFixture(t, b)
		res, err := dst.s.Clients.Import(ctx, clients, repositories.ImportOptions{})
		require.NoError(t, err)
		require.Equal(t, 1, res.Created, "Import = %+v", res)
		got, err := dst.s.Clients.Find(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, models.AccessTokenOpaque, *got.AccessTokenType)
		require.Equal(t, int64(600), *got.IDTokenLifetime)
		require.Equal(t, models.Strings{"https://api.example.com"}, got.Audiences)
		res, err = dst.s.Clients.Import(ctx, clients, repositories.ImportOptions{})
		require.NoError(t, err)
		require.Equal(t, 1, res.Unchanged, "a second import = %+v", res)
		clients[0].Audiences = []string{"https://other.example.com"}
		res, err = dst.s.Clients.Import(ctx, clients, repositories.ImportOptions{})
		require.NoError(t, err)
		require.Equal(t, 1, res.Skipped, "an import with other metadata = %+v", res)
		require.Contains(t, res.Rows[0].Reason, "provider metadata")
	})
}
